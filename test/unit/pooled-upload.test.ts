import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { S3Client } from '@aws-sdk/client-s3';
import { PART_SIZE, PartPool, PooledUpload } from '../../lib/storage/pooled-upload';

/** An S3 that keeps what it is sent: objects by key, multipart uploads by id; `failOn` breaks one command. */
function fakeS3(failOn?: string) {
  const objects = new Map<string, Buffer>();
  const uploads = new Map<string, Buffer[]>();
  const log: string[] = [];
  const s3 = {
    send: async (cmd: { constructor: { name: string }; input: Record<string, unknown> }) => {
      const name = cmd.constructor.name.replace('Command', '');
      log.push(name);
      await new Promise((r) => setTimeout(r, 1));
      if (name === failOn) throw new Error(`${name} failed`);
      const i = cmd.input;
      if (name === 'PutObject') objects.set(i.Key as string, Buffer.from(i.Body as Buffer));
      if (name === 'CreateMultipartUpload') {
        const id = `u${uploads.size + log.length}`;
        uploads.set(id, []);
        return { UploadId: id };
      }
      if (name === 'UploadPart') {
        uploads.get(i.UploadId as string)![(i.PartNumber as number) - 1] = Buffer.from(
          i.Body as Buffer,
        );
        return { ETag: `"${i.PartNumber as number}"` };
      }
      if (name === 'CompleteMultipartUpload')
        objects.set(i.Key as string, Buffer.concat(uploads.get(i.UploadId as string)!));
      if (name === 'AbortMultipartUpload') uploads.delete(i.UploadId as string);
      return {};
    },
  };
  return { s3: s3 as unknown as S3Client, objects, uploads, log };
}

const write = (up: PooledUpload, data: Buffer, chunk = 64 * 1024) =>
  pipeline(
    Readable.from(
      (function* () {
        for (let o = 0; o < data.length; o += chunk) yield data.subarray(o, o + chunk);
      })(),
    ),
    up.input,
  );

describe('pooled upload', () => {
  it('sends a small object in one PUT, byte-exact, without taking a part buffer', async () => {
    const { s3, objects, log } = fakeS3();
    const pool = new PartPool(0); // no buffer at all: a small object must not need one
    const data = randomBytes(100_000);
    const up = new PooledUpload(s3, 'b', 'k', pool);
    await write(up, data);
    await up.done;
    expect(log).toEqual(['PutObject']);
    expect(objects.get('k')!.equals(data)).toBe(true);
  });

  it('sends a large object in parts, byte-exact, through a pool of one buffer', async () => {
    const { s3, objects, log } = fakeS3();
    const pool = new PartPool(1);
    const data = randomBytes(PART_SIZE * 2 + 12_345);
    const uploads = [0, 1].map(() => new PooledUpload(s3, 'b', 'k', pool));
    // Two uploads share the one buffer: each waits for it in turn, neither deadlocks.
    await Promise.all(uploads.map((up) => write(up, data)));
    await Promise.all(uploads.map((up) => up.done));
    expect(log.filter((c) => c === 'UploadPart')).toHaveLength(6);
    expect(objects.get('k')!.equals(data)).toBe(true);
  });

  it('a failing part aborts the multipart upload and gives the buffer back', async () => {
    const { s3, uploads, log } = fakeS3('UploadPart');
    const pool = new PartPool(1);
    const up = new PooledUpload(s3, 'b', 'k', pool);
    await expect(write(up, randomBytes(PART_SIZE + 1))).rejects.toThrow('UploadPart failed');
    await expect(up.done).rejects.toThrow();
    expect(log).toContain('AbortMultipartUpload');
    expect(uploads.size).toBe(0);
    // The pool's only buffer is free again: another upload gets it at once.
    const next = await Promise.race([
      pool.take().then(() => 'taken'),
      new Promise((r) => setTimeout(() => r('waiting'), 100)),
    ]);
    expect(next).toBe('taken');
  });
});
