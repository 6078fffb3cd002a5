import { createCipheriv, createDecipheriv } from 'node:crypto';
import { CryptoError } from './errors';

/** AES-256-GCM with a 12-byte nonce and 16-byte tag appended to the ciphertext. */
export const KEY_LEN = 32;
export const NONCE_LEN = 12;
export const TAG_LEN = 16;

export function seal(
  key: Uint8Array,
  nonce: Uint8Array,
  aad: Uint8Array,
  plaintext: Uint8Array,
): Buffer {
  const c = createCipheriv(`aes-${key.length * 8}-gcm` as 'aes-256-gcm', key, nonce);
  c.setAAD(aad);
  return Buffer.concat([c.update(plaintext), c.final(), c.getAuthTag()]);
}

/** Returns the plaintext only if the tag verifies; otherwise throws a generic CryptoError. */
export function open(
  key: Uint8Array,
  nonce: Uint8Array,
  aad: Uint8Array,
  sealed: Uint8Array,
): Buffer {
  if (sealed.length < TAG_LEN) throw new CryptoError('malformed');
  const d = createDecipheriv(`aes-${key.length * 8}-gcm` as 'aes-256-gcm', key, nonce);
  d.setAAD(aad);
  d.setAuthTag(sealed.subarray(sealed.length - TAG_LEN));
  const body = d.update(sealed.subarray(0, sealed.length - TAG_LEN));
  try {
    d.final();
  } catch {
    body.fill(0);
    throw new CryptoError('decrypt-failed');
  }
  return body;
}
