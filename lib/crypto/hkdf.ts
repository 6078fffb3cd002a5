import { createHash } from 'node:crypto';

/** HKDF-SHA256 (RFC 5869) as separate Extract and Expand, which HPKE's labeled variants need. */
export const HASH_LEN = 32;
const BLOCK = 64;

/**
 * HMAC-SHA256 (RFC 2104) from two hashes. node:crypto's createHmac first probes whether its key
 * is a KeyObject or CryptoKey, and each failed probe throws internally: on Node 24 that was the
 * largest cost of opening a mail's DEK (HPKE runs about ten HMACs per open), a third of index
 * merging's CPU profile. The RFC test vectors (test/unit/hkdf-hmac.test.ts) hold it to the spec.
 */
export function hmacSha256(key: Uint8Array, ...parts: Uint8Array[]): Buffer {
  const k = Buffer.alloc(BLOCK);
  if (key.length > BLOCK) createHash('sha256').update(key).digest().copy(k);
  else k.set(key);
  const pad = Buffer.alloc(BLOCK);
  for (let i = 0; i < BLOCK; i++) pad[i] = k[i]! ^ 0x36;
  const inner = createHash('sha256').update(pad);
  for (const p of parts) inner.update(p);
  const innerDigest = inner.digest();
  for (let i = 0; i < BLOCK; i++) pad[i] = k[i]! ^ 0x5c;
  const out = createHash('sha256').update(pad).update(innerDigest).digest();
  k.fill(0);
  pad.fill(0);
  innerDigest.fill(0);
  return out;
}

export function extract(salt: Uint8Array, ikm: Uint8Array): Buffer {
  return hmacSha256(salt.length ? salt : Buffer.alloc(HASH_LEN), ikm);
}

export function expand(prk: Uint8Array, info: Uint8Array, length: number): Buffer {
  if (length > 255 * HASH_LEN) throw new Error('HKDF-Expand length too large');
  const out = Buffer.alloc(length);
  let t: Buffer = Buffer.alloc(0);
  for (let i = 0, off = 0; off < length; i++) {
    t = hmacSha256(prk, t, info, Buffer.from([i + 1]));
    t.copy(out, off);
    off += t.length;
  }
  return out;
}
