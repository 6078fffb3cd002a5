import { createHmac } from 'node:crypto';

/** HKDF-SHA256 (RFC 5869) as separate Extract and Expand, which HPKE's labeled variants need. */
export const HASH_LEN = 32;

export function extract(salt: Uint8Array, ikm: Uint8Array): Buffer {
  return createHmac('sha256', salt.length ? salt : Buffer.alloc(HASH_LEN))
    .update(ikm)
    .digest();
}

export function expand(prk: Uint8Array, info: Uint8Array, length: number): Buffer {
  if (length > 255 * HASH_LEN) throw new Error('HKDF-Expand length too large');
  const out = Buffer.alloc(length);
  let t: Buffer = Buffer.alloc(0);
  for (let i = 0, off = 0; off < length; i++) {
    t = createHmac('sha256', prk)
      .update(t)
      .update(info)
      .update(Buffer.from([i + 1]))
      .digest();
    t.copy(out, off);
    off += t.length;
  }
  return out;
}
