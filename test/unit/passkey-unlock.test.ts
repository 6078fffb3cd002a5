import { randomBytes } from 'node:crypto';
import { parsePrfOutput, passkeyWrapping, unwrapWithPasskey } from '../../lib/auth/passkey-unlock';

/**
 * Issue 21 §4: the user's private key under a key from a passkey's PRF output. It opens with the
 * same output for the same tenant, user and credential, and with nothing else; the salt is fresh
 * per wrapping, and malformed PRF outputs are refused before any key is derived.
 */
const T = '2b1a0f4e-5d6c-4b7a-8e9f-0a1b2c3d4e5f';
const U = '7c6d5e4f-3a2b-4c1d-9e8f-7a6b5c4d3e2f';
const C = 'credential-id_from-the-authenticator';

describe('passkey unlock wrapping', () => {
  const prf = randomBytes(32);
  const key = randomBytes(32);

  it('opens with the same PRF output for the same tenant, user and credential', () => {
    const w = passkeyWrapping(T, U, C, prf, key);
    expect(w.prf_salt).toHaveLength(32);
    expect(w.prf_wrapped_private_key.includes(key)).toBe(false);
    expect(unwrapWithPasskey(T, U, C, prf, w).equals(key)).toBe(true);
  });

  it('opens with nothing else', () => {
    const w = passkeyWrapping(T, U, C, prf, key);
    const other = Buffer.from(prf);
    other[0]! ^= 1;
    expect(() => unwrapWithPasskey(T, U, C, other, w)).toThrow();
    expect(() => unwrapWithPasskey(T, U, `${C}x`, prf, w)).toThrow();
    expect(() => unwrapWithPasskey(T, T, C, prf, w)).toThrow();
    expect(() => unwrapWithPasskey(U, U, C, prf, w)).toThrow();
    const salt = Buffer.from(w.prf_salt);
    salt[0]! ^= 1;
    expect(() => unwrapWithPasskey(T, U, C, prf, { ...w, prf_salt: salt })).toThrow();
  });

  it('salts every wrapping afresh', () => {
    const a = passkeyWrapping(T, U, C, prf, key);
    const b = passkeyWrapping(T, U, C, prf, key);
    expect(a.prf_salt.equals(b.prf_salt)).toBe(false);
    expect(a.prf_wrapped_private_key.equals(b.prf_wrapped_private_key)).toBe(false);
  });

  it('takes only a 32-byte base64url PRF output', () => {
    expect(parsePrfOutput(prf.toString('base64url'))?.equals(prf)).toBe(true);
    for (const bad of [
      undefined,
      42,
      '',
      'x'.repeat(42),
      'x'.repeat(44),
      `${'A'.repeat(42)}+`,
      randomBytes(64).toString('base64url'),
    ])
      expect(parsePrfOutput(bad)).toBeUndefined();
  });
});
