import { createCipheriv, randomBytes } from 'node:crypto';
import { Transform, type TransformCallback } from 'node:stream';
import * as aead from './aead';
import { TAG_LEN } from './aead';
import { utf8, zeroize } from './bytes';
import { bindingBytes, type Binding } from './context';
import { CryptoError } from './errors';
import { expectHeader, header, Suite } from './format';
import { expand, extract } from './hkdf';

/**
 * Streaming AEAD for mail bodies (the STREAM construction, as Tink's AES-GCM-HKDF streaming):
 *
 *   header  = 01 03 | salt (32) | nonce prefix (7)                                  43 bytes
 *   key     = HKDF-SHA256(ikm = DEK, salt, info = "mailrepo/v1/stream" ‖ binding)   32 bytes
 *   nonce_i = nonce prefix (7) | i as uint32 big-endian (4) | last ? 01 : 00 (1)
 *   segment = AES-256-GCM(key, nonce_i, aad = header, plaintext_i) ‖ tag (16)
 *
 * Every plaintext segment is 64 KiB except the last (0..64 KiB, so an empty body is one empty
 * segment). The counter rejects reordering, the last flag rejects truncation at a segment
 * boundary, salt and binding reject segments from another message or context. Memory stays at a
 * couple of segments whatever the size of the mail.
 */

export const SEGMENT = 64 * 1024;
const CT_SEGMENT = SEGMENT + TAG_LEN;
const SALT_LEN = 32;
const PREFIX_LEN = 7;
export const HEADER_LEN = 2 + SALT_LEN + PREFIX_LEN;
const MAX_SEGMENTS = 2 ** 32;

function segmentKey(dek: Uint8Array, salt: Uint8Array, binding: Binding): Buffer {
  if (dek.length !== 32) throw new CryptoError('invalid-key');
  const prk = extract(salt, dek);
  const key = expand(prk, Buffer.concat([utf8('mailrepo/v1/stream'), bindingBytes(binding)]), 32);
  zeroize(prk);
  return key;
}

function nonce(prefix: Uint8Array, index: number, last: boolean): Buffer {
  if (index >= MAX_SEGMENTS) throw new CryptoError('malformed');
  const n = Buffer.alloc(12);
  n.set(prefix, 0);
  n.writeUInt32BE(index, PREFIX_LEN);
  n[11] = last ? 1 : 0;
  return n;
}

/** Collects chunks and hands out exact-size pieces without re-copying on every write. */
class ByteQueue {
  private chunks: Buffer[] = [];
  length = 0;
  push(b: Buffer): void {
    if (b.length) {
      this.chunks.push(b);
      this.length += b.length;
    }
  }
  /**
   * The next `n` bytes: a view into the first chunk when it holds them all (no copy), otherwise a
   * fresh copy. `copied` tells the caller whether the bytes are its own to wipe.
   */
  take(n: number): { bytes: Buffer; copied: boolean } {
    const first = this.chunks[0];
    if (first && first.length >= n) {
      const bytes = first.subarray(0, n);
      if (n === first.length) this.chunks.shift();
      else this.chunks[0] = first.subarray(n);
      this.length -= n;
      return { bytes, copied: false };
    }
    const out = Buffer.allocUnsafe(n);
    let off = 0;
    while (off < n) {
      const c = this.chunks[0]!;
      const k = Math.min(c.length, n - off);
      c.copy(out, off, 0, k);
      off += k;
      if (k === c.length) this.chunks.shift();
      else this.chunks[0] = c.subarray(k);
    }
    this.length -= n;
    return { bytes: out, copied: true };
  }
}

export class EncryptStream extends Transform {
  private readonly header: Buffer;
  private readonly key: Buffer;
  private readonly prefix: Buffer;
  private readonly queue = new ByteQueue();
  private index = 0;
  private started = false;

  constructor(dek: Uint8Array, binding: Binding) {
    super();
    const salt = randomBytes(SALT_LEN);
    this.prefix = randomBytes(PREFIX_LEN);
    this.header = Buffer.concat([header(Suite.StreamAes256GcmHkdf64K), salt, this.prefix]);
    this.key = segmentKey(dek, salt, binding);
  }

  /** Pushes one segment as ciphertext and tag (two chunks: no copy into a joint buffer). */
  private segment(plaintext: { bytes: Buffer; copied: boolean }, last: boolean): void {
    const c = createCipheriv('aes-256-gcm', this.key, nonce(this.prefix, this.index++, last));
    c.setAAD(this.header);
    this.push(c.update(plaintext.bytes));
    c.final();
    this.push(c.getAuthTag());
    // Our own copy of plaintext is wiped; a view into the caller's buffer is the caller's to manage.
    if (plaintext.copied) plaintext.bytes.fill(0);
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    try {
      if (!this.started) {
        this.started = true;
        this.push(this.header);
      }
      this.queue.push(chunk);
      // Keep at least one byte back: only at the end do we know which segment is the last.
      while (this.queue.length > SEGMENT) this.segment(this.queue.take(SEGMENT), false);
      cb();
    } catch (e) {
      cb(e as Error);
    }
  }

  override _flush(cb: TransformCallback): void {
    try {
      if (!this.started) this.push(this.header);
      this.segment(this.queue.take(this.queue.length), true);
      zeroize(this.key);
      cb();
    } catch (e) {
      cb(e as Error);
    }
  }

  override _destroy(err: Error | null, cb: (error: Error | null) => void): void {
    zeroize(this.key);
    cb(err);
  }
}

export class DecryptStream extends Transform {
  private header?: Buffer;
  private key?: Buffer;
  private readonly queue = new ByteQueue();
  private index = 0;

  constructor(
    private readonly dek: Uint8Array,
    private readonly binding: Binding,
  ) {
    super();
  }

  /** Decrypts one segment and returns its plaintext only if the tag verifies. */
  private segment(ciphertext: Buffer, last: boolean): Buffer {
    if (ciphertext.length < TAG_LEN) throw new CryptoError('truncated');
    const n = nonce(this.header!.subarray(2 + SALT_LEN), this.index++, last);
    return aead.open(this.key!, n, this.header!, ciphertext);
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    try {
      this.queue.push(chunk);
      if (!this.header) {
        if (this.queue.length < HEADER_LEN) return cb();
        this.header = Buffer.from(this.queue.take(HEADER_LEN).bytes);
        expectHeader(this.header, Suite.StreamAes256GcmHkdf64K, HEADER_LEN);
        this.key = segmentKey(this.dek, this.header.subarray(2, 2 + SALT_LEN), this.binding);
      }
      while (this.queue.length > CT_SEGMENT)
        this.push(this.segment(this.queue.take(CT_SEGMENT).bytes, false));
      cb();
    } catch (e) {
      cb(e as Error);
    }
  }

  override _flush(cb: TransformCallback): void {
    try {
      if (!this.header) throw new CryptoError('truncated');
      this.push(this.segment(this.queue.take(this.queue.length).bytes, true));
      zeroize(this.key);
      cb();
    } catch (e) {
      zeroize(this.key);
      cb(e as Error);
    }
  }

  override _destroy(err: Error | null, cb: (error: Error | null) => void): void {
    zeroize(this.key);
    cb(err);
  }
}

/**
 * Whole-buffer forms for small bodies (metadata, token lists, tests): the same format, segment
 * for segment, without a stream — index merging opens two per mail, and a stream pipeline per
 * part was most of its garbage. Large mails use the streams.
 */
export async function encryptBuffer(
  dek: Uint8Array,
  binding: Binding,
  plaintext: Uint8Array,
): Promise<Buffer> {
  const salt = randomBytes(SALT_LEN);
  const prefix = randomBytes(PREFIX_LEN);
  const head = Buffer.concat([header(Suite.StreamAes256GcmHkdf64K), salt, prefix]);
  const key = segmentKey(dek, salt, binding);
  try {
    const out: Buffer[] = [head];
    let at = 0;
    for (let index = 0; ; index++) {
      // As the stream: every segment full but the last, which may be empty.
      const last = plaintext.length - at <= SEGMENT;
      const end = last ? plaintext.length : at + SEGMENT;
      const c = createCipheriv('aes-256-gcm', key, nonce(prefix, index, last));
      c.setAAD(head);
      out.push(c.update(plaintext.subarray(at, end)), c.final(), c.getAuthTag());
      at = end;
      if (last) return Buffer.concat(out);
    }
  } finally {
    zeroize(key);
  }
}

export async function decryptBuffer(
  dek: Uint8Array,
  binding: Binding,
  ciphertext: Uint8Array,
): Promise<Buffer> {
  if (ciphertext.length < HEADER_LEN) throw new CryptoError('truncated');
  const head = Buffer.from(ciphertext.subarray(0, HEADER_LEN));
  expectHeader(head, Suite.StreamAes256GcmHkdf64K, HEADER_LEN);
  const key = segmentKey(dek, head.subarray(2, 2 + SALT_LEN), binding);
  const prefix = head.subarray(2 + SALT_LEN);
  const out: Buffer[] = [];
  try {
    let at = HEADER_LEN;
    for (let index = 0; ; index++) {
      const last = ciphertext.length - at <= CT_SEGMENT;
      const end = last ? ciphertext.length : at + CT_SEGMENT;
      if (end - at < TAG_LEN) throw new CryptoError('truncated');
      out.push(aead.open(key, nonce(prefix, index, last), head, ciphertext.subarray(at, end)));
      at = end;
      if (last) return Buffer.concat(out);
    }
  } catch (e) {
    for (const b of out) b.fill(0);
    throw e;
  } finally {
    zeroize(key);
  }
}

/** Ciphertext size for a plaintext of `n` bytes. */
export function ciphertextLength(n: number): number {
  const segments = Math.max(1, Math.ceil(n / SEGMENT));
  return HEADER_LEN + n + segments * TAG_LEN;
}
