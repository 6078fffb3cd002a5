import { createHash, randomBytes } from 'node:crypto';
import { equalBytes, zeroize } from './bytes';
import { CryptoError } from './errors';
import { deriveKeyPair } from './hpke';
import type { KeyPair } from './x25519';

/**
 * The tenant recovery key: 256 random bits, shown once at tenant setup, kept by the customer on
 * paper. It is turned into an X25519 key pair (HPKE DeriveKeyPair) whose public half is stored, so
 * anything can be sealed to it later without the secret being present.
 *
 * Encoding: Crockford base32 of secret ‖ first 2 bytes of SHA-256(secret), in groups of 5:
 * 34 bytes → 55 characters, 11 groups. Case, spaces, dashes and the look-alikes I/L → 1, O → 0 are
 * forgiven; a typo is caught by the checksum with probability 1 − 2⁻¹⁶.
 */

const ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
const SECRET_LEN = 32;
const CHECK_LEN = 2;
const CHARS = Math.ceil(((SECRET_LEN + CHECK_LEN) * 8) / 5);

const checksum = (secret: Uint8Array) =>
  createHash('sha256').update(secret).digest().subarray(0, CHECK_LEN);

function toBase32(bytes: Uint8Array): string {
  let bits = 0;
  let value = 0;
  let out = '';
  for (const b of bytes) {
    value = (value << 8) | b;
    bits += 8;
    while (bits >= 5) {
      out += ALPHABET[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
    value &= (1 << bits) - 1;
  }
  if (bits > 0) out += ALPHABET[(value << (5 - bits)) & 31];
  return out;
}

function fromBase32(text: string, byteLength: number): Buffer {
  const out = Buffer.alloc(byteLength);
  let bits = 0;
  let value = 0;
  let i = 0;
  for (const ch of text) {
    const v = ALPHABET.indexOf(ch);
    if (v < 0) throw new CryptoError('bad-recovery-key');
    value = (value << 5) | v;
    bits += 5;
    if (bits >= 8) {
      if (i < byteLength) out[i++] = (value >>> (bits - 8)) & 0xff;
      bits -= 8;
      value &= (1 << bits) - 1;
    }
  }
  // The last character carries padding bits; only the canonical (zero) padding is accepted, so a
  // typo there cannot decode silently.
  if (i !== byteLength || value !== 0) throw new CryptoError('bad-recovery-key');
  return out;
}

export function generateRecoverySecret(): Buffer {
  return randomBytes(SECRET_LEN);
}

export function encodeRecoveryKey(secret: Uint8Array): string {
  if (secret.length !== SECRET_LEN) throw new CryptoError('invalid-key');
  const text = toBase32(Buffer.concat([secret, checksum(secret)]));
  return text.match(/.{1,5}/g)!.join('-');
}

export function decodeRecoveryKey(input: string): Buffer {
  const text = input.toUpperCase().replace(/[\s-]/g, '').replace(/[IL]/g, '1').replace(/O/g, '0');
  if (text.length !== CHARS) throw new CryptoError('bad-recovery-key');
  const bytes = fromBase32(text, SECRET_LEN + CHECK_LEN);
  const secret = Buffer.from(bytes.subarray(0, SECRET_LEN));
  const ok = equalBytes(checksum(secret), bytes.subarray(SECRET_LEN));
  zeroize(bytes);
  if (!ok) {
    zeroize(secret);
    throw new CryptoError('bad-recovery-key');
  }
  return secret;
}

/** The X25519 key pair the recovery key stands for. */
export function recoveryKeyPair(secret: Uint8Array): KeyPair {
  return deriveKeyPair(Buffer.concat([Buffer.from('mailrepo/v1/recovery|'), secret]));
}
