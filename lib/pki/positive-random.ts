import { randomBytes } from 'node:crypto';

/**
 * `length` random bytes that read as a positive, minimally encoded DER INTEGER: top bit clear (not
 * negative), low bit of the first byte set (no leading zero octet). Serial numbers (RFC 5280,
 * RFC 3161) and request nonces use it.
 */
export function positiveRandom(length: number): Buffer {
  const b = randomBytes(length);
  b[0] = (b[0]! & 0x7f) | 0x01;
  return b;
}
