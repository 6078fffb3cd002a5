import { CryptoError } from './errors';

/**
 * Byte 0 of every blob and stream header is the format version, byte 1 the suite. Layouts are in
 * docs/crypto.md; a reader rejects any combination it does not know instead of guessing.
 */
export const VERSION_1 = 0x01;

export const Suite = {
  /** HPKE base, DHKEM(X25519, HKDF-SHA256), HKDF-SHA256, AES-256-GCM. */
  HpkeX25519Aes256Gcm: 0x01,
  /** AES-256-GCM key wrap under a symmetric key (KEK). */
  WrapAes256Gcm: 0x02,
  /** Streaming AES-256-GCM, HKDF-SHA256 segment key, 64 KiB segments. */
  StreamAes256GcmHkdf64K: 0x03,
} as const;

export function header(suite: number): Buffer {
  return Buffer.from([VERSION_1, suite]);
}

export function expectHeader(blob: Uint8Array, suite: number, minLength: number): void {
  if (blob.length < 2 || blob[0] !== VERSION_1 || blob[1] !== suite)
    throw new CryptoError('unsupported-format');
  if (blob.length < minLength) throw new CryptoError('truncated');
}
