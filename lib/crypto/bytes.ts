import { timingSafeEqual } from 'node:crypto';

export const utf8 = (s: string): Buffer => Buffer.from(s, 'utf8');

/** Big-endian unsigned integer of `length` bytes (RFC 8017 I2OSP). */
export function i2osp(n: number, length: number): Buffer {
  const out = Buffer.alloc(length);
  let v = n;
  for (let i = length - 1; i >= 0 && v > 0; i--) {
    out[i] = v & 0xff;
    v = Math.floor(v / 256);
  }
  return out;
}

/** Constant-time equality for tags, hashes and keys (false on length mismatch). */
export function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}

/**
 * Overwrites secret bytes. JavaScript cannot promise that no copy survives elsewhere (the GC may
 * have moved or copied a buffer), but zeroing what we hold shortens the window.
 */
export function zeroize(...buffers: (Uint8Array | undefined | null)[]): void {
  for (const b of buffers) b?.fill(0);
}
