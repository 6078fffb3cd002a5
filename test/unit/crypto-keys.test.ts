import { randomBytes } from 'node:crypto';
import type { Binding } from '../../lib/crypto/context';
import { CryptoError } from '../../lib/crypto/errors';
import {
  checkPassword,
  needsUpgrade,
  newPassword,
  DEFAULT_ARGON2,
} from '../../lib/crypto/password';
import {
  decodeRecoveryKey,
  encodeRecoveryKey,
  generateRecoverySecret,
  recoveryKeyPair,
} from '../../lib/crypto/recovery-key';
import { openSealed, sealTo, unwrap, wrap } from '../../lib/crypto/sealed-box';
import { dh, generateKeyPair, publicFromPrivate } from '../../lib/crypto/x25519';

const FAST = { memoryKiB: 8 * 1024, iterations: 1, parallelism: 1 };
const binding: Binding = { tenant: 't1', epoch: 'e1', message: 'm1', purpose: 'mail-dek' };

function expectCryptoError(fn: () => unknown, failure?: string): CryptoError {
  let err: unknown;
  try {
    fn();
  } catch (e) {
    err = e;
  }
  expect(err).toBeInstanceOf(CryptoError);
  if (failure) expect((err as CryptoError).failure).toBe(failure);
  return err as CryptoError;
}

describe('sealed and wrapped blobs', () => {
  const kp = generateKeyPair();
  const secret = randomBytes(32);

  it('seal/open round-trips and starts with version and suite bytes', () => {
    const blob = sealTo(kp.publicKey, binding, secret);
    expect([...blob.subarray(0, 2)]).toEqual([0x01, 0x01]);
    expect(openSealed(kp.privateKey, binding, blob).equals(secret)).toBe(true);
  });

  it.each(['tenant', 'epoch', 'message', 'purpose'] as const)(
    'a sealed blob is bound to its %s',
    (field) => {
      const blob = sealTo(kp.publicKey, binding, secret);
      const other = { ...binding, [field]: field === 'purpose' ? 'mail-body' : 'other' } as Binding;
      expectCryptoError(() => openSealed(kp.privateKey, other, blob), 'decrypt-failed');
    },
  );

  it('rejects the wrong private key, an altered byte and an unknown version', () => {
    const blob = sealTo(kp.publicKey, binding, secret);
    expectCryptoError(
      () => openSealed(generateKeyPair().privateKey, binding, blob),
      'decrypt-failed',
    );
    const bad = Buffer.from(blob);
    bad[bad.length - 1]! ^= 1;
    expectCryptoError(() => openSealed(kp.privateKey, binding, bad), 'decrypt-failed');
    const v2 = Buffer.from(blob);
    v2[0] = 2;
    expectCryptoError(() => openSealed(kp.privateKey, binding, v2), 'unsupported-format');
    expectCryptoError(() => openSealed(kp.privateKey, binding, blob.subarray(0, 20)), 'truncated');
  });

  it('wrap/unwrap round-trips and is bound to its key and binding', () => {
    const kek = randomBytes(32);
    const blob = wrap(kek, binding, secret);
    expect([...blob.subarray(0, 2)]).toEqual([0x01, 0x02]);
    expect(unwrap(kek, binding, blob).equals(secret)).toBe(true);
    expectCryptoError(() => unwrap(randomBytes(32), binding, blob), 'decrypt-failed');
    expectCryptoError(() => unwrap(kek, { ...binding, tenant: 't2' }, blob), 'decrypt-failed');
  });

  it('derives public keys from private keys', () => {
    expect(publicFromPrivate(kp.privateKey).equals(kp.publicKey)).toBe(true);
  });
});

describe('recovery key', () => {
  const secret = generateRecoverySecret();
  const text = encodeRecoveryKey(secret);

  it('is 55 characters in 11 groups of 5, from an unambiguous alphabet', () => {
    expect(text).toMatch(/^([0-9A-HJKMNP-TV-Z]{5}-){10}[0-9A-HJKMNP-TV-Z]{5}$/);
  });

  it('decodes forgivingly: lower case, spaces, I/L for 1 and O for 0', () => {
    expect(decodeRecoveryKey(text).equals(secret)).toBe(true);
    const sloppy = text.toLowerCase().replace(/-/g, ' ').replace(/1/g, 'l').replace(/0/g, 'o');
    expect(decodeRecoveryKey(sloppy).equals(secret)).toBe(true);
  });

  it('catches typos with its checksum', () => {
    const chars = text.replace(/-/g, '').split('');
    let caught = 0;
    // Every position, several substitutes each (one of them differs only in the last character's
    // padding bits for some keys).
    for (let i = 0; i < chars.length; i++) {
      for (const sub of ['X', 'Y', 'Z', '7']) {
        if (sub === chars[i]) continue;
        const typo = [...chars];
        typo[i] = sub;
        try {
          decodeRecoveryKey(typo.join(''));
        } catch (e) {
          if (e instanceof CryptoError && e.failure === 'bad-recovery-key') caught++;
          continue;
        }
        throw new Error(`typo at position ${i} (${sub}) was accepted`);
      }
    }
    expect(caught).toBeGreaterThanOrEqual(chars.length * 3);
    expectCryptoError(() => decodeRecoveryKey(text.slice(0, -1)), 'bad-recovery-key');
  });

  it('stands for a fixed key pair', () => {
    expect(
      recoveryKeyPair(secret).publicKey.equals(recoveryKeyPair(decodeRecoveryKey(text)).publicKey),
    ).toBe(true);
  });
});

describe('password keys', () => {
  it('verifies the right password and yields the same KEK; rejects a wrong one', async () => {
    const { record, keys } = await newPassword('correct horse battery staple', FAST);
    const again = await checkPassword('correct horse battery staple', record);
    expect(again?.kek.equals(keys.kek)).toBe(true);
    expect(await checkPassword('correct horse battery stapler', record)).toBeNull();
    expect(record.verifier.equals(keys.authKey)).toBe(false);
    expect(record.verifier.equals(keys.kek)).toBe(false);
  });

  it('treats Unicode-equivalent passwords alike (NFC)', async () => {
    const { record } = await newPassword('Pa\u0301sswort-lang-genug', FAST);
    expect(await checkPassword('P\u00e1sswort-lang-genug', record)).not.toBeNull();
  });

  it('asks for an upgrade only when configured parameters grow', () => {
    expect(needsUpgrade(FAST, DEFAULT_ARGON2)).toBe(true);
    expect(needsUpgrade(DEFAULT_ARGON2, DEFAULT_ARGON2)).toBe(false);
    expect(needsUpgrade(DEFAULT_ARGON2, FAST)).toBe(false);
  });
});

describe('hygiene: no key bytes in errors', () => {
  it('failures carry fixed messages, never key or plaintext bytes', () => {
    const kp = generateKeyPair();
    const secret = randomBytes(32);
    const blob = sealTo(kp.publicKey, binding, secret);
    const other = generateKeyPair();
    const err = expectCryptoError(() => openSealed(other.privateKey, binding, blob));
    const everything = JSON.stringify({ ...err, message: err.message, stack: err.stack });
    for (const key of [kp.privateKey, other.privateKey, secret]) {
      expect(everything).not.toContain(key.toString('hex'));
      expect(everything).not.toContain(key.toString('base64'));
    }
    expect(err.message).toBe('decryption failed: wrong key, wrong context or altered data');
  });
});

describe('X25519 key import', () => {
  it('agrees with the RFC 7748 §6.1 test vector', () => {
    const aPriv = Buffer.from(
      '77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a',
      'hex',
    );
    const bPub = Buffer.from(
      'de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f',
      'hex',
    );
    expect(publicFromPrivate(aPriv).toString('hex')).toBe(
      '8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a',
    );
    expect(dh(aPriv, bPub).toString('hex')).toBe(
      '4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742',
    );
  });
});
