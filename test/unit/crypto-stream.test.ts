import { randomBytes } from 'node:crypto';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Binding } from '../../lib/crypto/context';
import { CryptoError } from '../../lib/crypto/errors';
import {
  ciphertextLength,
  DecryptStream,
  EncryptStream,
  decryptBuffer,
  encryptBuffer,
  HEADER_LEN,
  SEGMENT,
} from '../../lib/crypto/stream';

const CT_SEG = SEGMENT + 16;
const binding: Binding = {
  tenant: 't-1',
  epoch: 'e-2026-11',
  message: 'm-1',
  purpose: 'mail-body',
};
const dek = randomBytes(32);

async function rejects(p: Promise<unknown>): Promise<CryptoError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(CryptoError);
  return err as CryptoError;
}

/** Splits a ciphertext into header and segments. */
function parts(ct: Buffer): { header: Buffer; segments: Buffer[] } {
  const segments: Buffer[] = [];
  for (let off = HEADER_LEN; off < ct.length; off += CT_SEG)
    segments.push(ct.subarray(off, Math.min(ct.length, off + CT_SEG)));
  return { header: ct.subarray(0, HEADER_LEN), segments };
}

/** Runs `input` through a stream in chunks of `chunk` bytes. */
async function through(stream: DecryptStream | EncryptStream, input: Buffer, chunk: number) {
  const out: Buffer[] = [];
  const pieces = [];
  for (let at = 0; at < input.length; at += chunk) pieces.push(input.subarray(at, at + chunk));
  await pipeline(
    Readable.from(pieces),
    stream,
    new Writable({
      write(c: Buffer, _e, cb) {
        out.push(c);
        cb();
      },
    }),
  );
  return Buffer.concat(out);
}

describe('streaming AEAD', () => {
  const body = randomBytes(3 * SEGMENT + 1234);

  it.each([0, 1, SEGMENT - 1, SEGMENT, SEGMENT + 1, 2 * SEGMENT, 2 * SEGMENT + 5])(
    'the whole-buffer forms and the streams read each other (%i bytes)',
    async (size) => {
      const plain = randomBytes(size);
      const byBuffer = await encryptBuffer(dek, binding, plain);
      expect((await through(new DecryptStream(dek, binding), byBuffer, 10_000)).equals(plain)).toBe(
        true,
      );
      const byStream = await through(new EncryptStream(dek, binding), plain, 7_000);
      expect(byStream.length).toBe(byBuffer.length);
      expect(byStream.length).toBe(ciphertextLength(size));
      expect((await decryptBuffer(dek, binding, byStream)).equals(plain)).toBe(true);
    },
  );

  it('round-trips a multi-segment body', async () => {
    const ct = await encryptBuffer(dek, binding, body);
    expect(ct.length).toBe(ciphertextLength(body.length));
    expect((await decryptBuffer(dek, binding, ct)).equals(body)).toBe(true);
  });

  it('rejects truncation at a segment boundary', async () => {
    const ct = await encryptBuffer(dek, binding, body);
    const { header, segments } = parts(ct);
    await rejects(decryptBuffer(dek, binding, Buffer.concat([header, ...segments.slice(0, -1)])));
  });

  it('rejects truncation inside a segment and a bare header', async () => {
    const ct = await encryptBuffer(dek, binding, body);
    await rejects(decryptBuffer(dek, binding, ct.subarray(0, ct.length - 100)));
    expect((await rejects(decryptBuffer(dek, binding, ct.subarray(0, HEADER_LEN)))).failure).toBe(
      'truncated',
    );
    expect((await rejects(decryptBuffer(dek, binding, ct.subarray(0, 10)))).failure).toBe(
      'truncated',
    );
  });

  it('rejects reordered segments', async () => {
    const { header, segments } = parts(await encryptBuffer(dek, binding, body));
    await rejects(
      decryptBuffer(
        dek,
        binding,
        Buffer.concat([header, segments[1]!, segments[0]!, ...segments.slice(2)]),
      ),
    );
  });

  it('rejects a segment from another message, even under the same DEK and binding', async () => {
    const a = parts(await encryptBuffer(dek, binding, body));
    const b = parts(await encryptBuffer(dek, binding, body));
    await rejects(
      decryptBuffer(
        dek,
        binding,
        Buffer.concat([a.header, a.segments[0]!, b.segments[1]!, ...a.segments.slice(2)]),
      ),
    );
  });

  it.each([
    ['tenant', { ...binding, tenant: 't-2' }],
    ['epoch', { ...binding, epoch: 'e-2026-12' }],
    ['message', { ...binding, message: 'm-2' }],
    ['purpose', { ...binding, purpose: 'mail-tokens' }],
  ] as [string, Binding][])(
    'rejects the wrong %s in the associated data',
    async (_field, wrong) => {
      const ct = await encryptBuffer(dek, binding, body);
      await rejects(decryptBuffer(dek, wrong, ct));
    },
  );

  it('rejects a flipped bit anywhere: header, first segment, last tag', async () => {
    const ct = await encryptBuffer(dek, binding, body);
    for (const pos of [5, HEADER_LEN + 7, ct.length - 1]) {
      const bad = Buffer.from(ct);
      bad[pos]! ^= 0x01;
      await rejects(decryptBuffer(dek, binding, bad));
    }
  });

  it('rejects an unknown version or suite byte', async () => {
    const ct = await encryptBuffer(dek, binding, body);
    const v2 = Buffer.from(ct);
    v2[0] = 0x02;
    expect((await rejects(decryptBuffer(dek, binding, v2))).failure).toBe('unsupported-format');
  });

  it('rejects a changed suite byte', async () => {
    const ct = await encryptBuffer(dek, binding, body);
    const other = Buffer.from(ct);
    other[1] = other[1]! ^ 0x01;
    expect((await rejects(decryptBuffer(dek, binding, other))).failure).toBe('unsupported-format');
  });

  it('rejects anything appended after the final segment', async () => {
    // The body ends inside a segment, so its last segment is short: appended bytes make it long.
    const ct = await encryptBuffer(dek, binding, body);
    const { segments } = parts(ct);
    await rejects(decryptBuffer(dek, binding, Buffer.concat([ct, Buffer.from([0])])));
    await rejects(decryptBuffer(dek, binding, Buffer.concat([ct, segments.at(-1)!])));
    await rejects(decryptBuffer(dek, binding, Buffer.concat([ct, randomBytes(CT_SEG)])));
    // A body of whole segments: one more complete segment after the one flagged last.
    const whole = await encryptBuffer(dek, binding, randomBytes(2 * SEGMENT));
    const w = parts(whole);
    await rejects(decryptBuffer(dek, binding, Buffer.concat([whole, w.segments[0]!])));
  });

  it('rejects a dropped middle segment', async () => {
    const { header, segments } = parts(await encryptBuffer(dek, binding, body));
    await rejects(
      decryptBuffer(dek, binding, Buffer.concat([header, segments[0]!, ...segments.slice(2)])),
    );
  });

  it('rejects the wrong DEK', async () => {
    const ct = await encryptBuffer(dek, binding, body);
    await rejects(decryptBuffer(randomBytes(32), binding, ct));
  });

  it('encrypts an empty body as one empty segment', async () => {
    const ct = await encryptBuffer(dek, binding, Buffer.alloc(0));
    expect(ct.length).toBe(HEADER_LEN + 16);
    expect((await decryptBuffer(dek, binding, ct)).length).toBe(0);
  });

  it('encrypts exactly 64 KiB as a single (last) segment', async () => {
    const pt = randomBytes(SEGMENT);
    const ct = await encryptBuffer(dek, binding, pt);
    expect(ct.length).toBe(HEADER_LEN + CT_SEG);
    expect((await decryptBuffer(dek, binding, ct)).equals(pt)).toBe(true);
  });

  it('encrypts 64 KiB + 1 as a full segment and a 1-byte last segment', async () => {
    const pt = randomBytes(SEGMENT + 1);
    const ct = await encryptBuffer(dek, binding, pt);
    expect(ct.length).toBe(HEADER_LEN + CT_SEG + 1 + 16);
    expect((await decryptBuffer(dek, binding, ct)).equals(pt)).toBe(true);
  });

  it('releases no plaintext of a segment whose tag fails, and stops there', async () => {
    const pt = randomBytes(3 * SEGMENT);
    const ct = await encryptBuffer(dek, binding, pt);
    const bad = Buffer.from(ct);
    bad[HEADER_LEN + CT_SEG + 10]! ^= 0x01; // inside segment 1
    const released: Buffer[] = [];
    const err = await pipeline(
      Readable.from([bad]),
      new DecryptStream(dek, binding),
      new Writable({
        write(c: Buffer, _e, cb) {
          released.push(c);
          cb();
        },
      }),
    ).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(CryptoError);
    // Segment 0 verified and may be released; nothing of segment 1 or later.
    expect(Buffer.concat(released).equals(pt.subarray(0, SEGMENT))).toBe(true);
  });

  it('accepts input in arbitrary chunk sizes', async () => {
    const ct = await encryptBuffer(dek, binding, body);
    const chunks: Buffer[] = [];
    for (let off = 0; off < ct.length; off += 997) chunks.push(ct.subarray(off, off + 997));
    const out: Buffer[] = [];
    const sink = new Writable({
      write(c: Buffer, _e, cb) {
        out.push(c);
        cb();
      },
    });
    await pipeline(Readable.from(chunks), new DecryptStream(dek, binding), sink);
    expect(Buffer.concat(out).equals(body)).toBe(true);
  });
});
