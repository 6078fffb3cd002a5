import { createHash } from 'node:crypto';
import vectors from '../fixtures/hpke/rfc9180-x25519-sha256.json';
import {
  AEAD_AES128GCM,
  AEAD_AES256GCM,
  deriveKeyPair,
  setupRecipient,
  setupSender,
} from '../../lib/crypto/hpke';
import { publicFromPrivate } from '../../lib/crypto/x25519';

const hex = (s: string) => Buffer.from(s, 'hex');

/** Reads sequentially from SHAKE128("") the way Go's XOF reader does (see the fixture's README). */
class ShakeSource {
  private readonly stream = createHash('shake128', { outputLength: 1 << 20 })
    .update(Buffer.alloc(0))
    .digest();
  private pos = 0;
  read(n: number): Buffer {
    const out = this.stream.subarray(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }
  drawInput(): Buffer {
    return Buffer.from(this.read(this.read(1)[0]!));
  }
}

describe.each(
  vectors.map(
    (v) => [v.aead_id === AEAD_AES256GCM ? 'AES-256-GCM (our suite)' : 'AES-128-GCM', v] as const,
  ),
)('HPKE RFC 9180 vectors, base mode, DHKEM(X25519, HKDF-SHA256), HKDF-SHA256, %s', (_name, v) => {
  it('derives the recipient key pair from ikmR', () => {
    const kp = deriveKeyPair(hex(v.ikmR));
    expect(kp.privateKey.toString('hex')).toBe(v.skRm);
    expect(kp.publicKey.toString('hex')).toBe(v.pkRm);
    expect(publicFromPrivate(hex(v.skRm)).toString('hex')).toBe(v.pkRm);
  });

  it('encapsulates to the expected enc and matches 1000 accumulated encryptions and exports', () => {
    const ephemeral = deriveKeyPair(hex(v.ikmE));
    const info = hex(v.info);
    const { enc, context: sender } = setupSender(hex(v.pkRm), info, {
      aeadId: v.aead_id,
      ephemeral,
    });
    expect(enc.toString('hex')).toBe(v.enc);
    const recipient = setupRecipient(
      enc,
      { privateKey: hex(v.skRm), publicKey: hex(v.pkRm) },
      info,
      v.aead_id,
    );

    const source = new ShakeSource();
    const sink = createHash('shake128', { outputLength: 16 });
    for (let i = 0; i < 1000; i++) {
      const aad = source.drawInput();
      const pt = source.drawInput();
      const ct = sender.seal(aad, pt);
      sink.update(ct);
      expect(recipient.open(aad, ct).equals(pt)).toBe(true);
    }
    expect(sink.digest('hex')).toBe(v.encryptions_accumulated);

    const exportSource = new ShakeSource();
    const exportSink = createHash('shake128', { outputLength: 16 });
    for (let l = 0; l < 1000; l++) {
      const ctx = exportSource.drawInput();
      const value = sender.export(ctx, l);
      exportSink.update(value);
      expect(recipient.export(ctx, l).equals(value)).toBe(true);
    }
    expect(exportSink.digest('hex')).toBe(v.exports_accumulated);
  });
});

it('covers our suite', () => {
  expect(vectors.map((v) => v.aead_id)).toEqual(
    expect.arrayContaining([AEAD_AES128GCM, AEAD_AES256GCM]),
  );
});
