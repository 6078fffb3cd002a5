import { createHmac, randomBytes } from 'node:crypto';
import { expand, extract, hmacSha256 } from '../../lib/crypto/hkdf';

/** HMAC-SHA256 built from hashes (lib/crypto/hkdf.ts), held to RFC 4231 and RFC 5869. */

const hex = (s: string) => Buffer.from(s, 'hex');

describe('HMAC-SHA256 and HKDF', () => {
  it.each([
    // RFC 4231 test cases 1, 2 and 6 (a key longer than the block is hashed first).
    [Buffer.alloc(20, 0x0b), 'Hi There', 'b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7'],
    [Buffer.from('Jefe'), 'what do ya want for nothing?', '5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843'],
    [Buffer.alloc(131, 0xaa), 'Test Using Larger Than Block-Size Key - Hash Key First', '60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54'],
  ])('RFC 4231 vector %#', (key, data, mac) => {
    expect(hmacSha256(key, Buffer.from(data)).toString('hex')).toBe(mac);
  }); // prettier-ignore

  it('agrees with node:crypto on random keys and messages in parts', () => {
    for (let i = 0; i < 300; i++) {
      const key = randomBytes(i % 150);
      const parts = [randomBytes(i % 7), randomBytes(i % 100), randomBytes(3)];
      const reference = createHmac('sha256', key);
      for (const p of parts) reference.update(p);
      expect(hmacSha256(key, ...parts).equals(reference.digest())).toBe(true);
    }
  });

  it('RFC 5869 test case 1', () => {
    const prk = extract(hex('000102030405060708090a0b0c'), Buffer.alloc(22, 0x0b));
    expect(prk.toString('hex')).toBe('077709362c2e32df0ddc3f0dc47bba6390b6c73bb50f9c3122ec844ad7c2b3e5');
    expect(expand(prk, hex('f0f1f2f3f4f5f6f7f8f9'), 42).toString('hex')).toBe(
      '3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865',
    );
  }); // prettier-ignore
});
