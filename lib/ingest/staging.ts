import { createHash, type Hash } from 'node:crypto';
import { PassThrough, Transform } from 'node:stream';
import { DeleteObjectCommand, DeleteObjectsCommand, type S3Client } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';

/**
 * A staging object in S3 being written from a stream: multipart for large mails (5 MiB parts, at
 * most two in flight, so memory stays bounded), one PUT for small ones. The ciphertext's SHA-256
 * and size are computed on the way, for the store step to verify.
 */
export class StagingUpload {
  readonly input = new PassThrough({ highWaterMark: 256 * 1024 });
  private readonly hash: Hash = createHash('sha256');
  private size = 0;
  private readonly upload: Upload;
  readonly done: Promise<void>;

  constructor(
    private readonly s3: S3Client,
    private readonly bucket: string,
    readonly key: string,
  ) {
    const counter = new Transform({
      transform: (chunk: Buffer, _e, cb) => {
        this.hash.update(chunk);
        this.size += chunk.length;
        cb(null, chunk);
      },
    });
    this.input.pipe(counter);
    this.input.on('error', (e) => counter.destroy(e));
    this.upload = new Upload({
      client: s3,
      params: { Bucket: bucket, Key: key, Body: counter },
      queueSize: 2,
      partSize: 5 * 1024 * 1024, // S3's minimum: the least memory per upload in flight
      leavePartsOnError: false,
    });
    this.done = this.upload.done().then(() => undefined);
    // Observed by whoever awaits `done`; keep an early failure from being "unhandled" meanwhile.
    this.done.catch(() => {});
  }

  result(): { sha256: Buffer; size: number } {
    return { sha256: this.hash.digest(), size: this.size };
  }

  /** Stops the upload and removes whatever reached S3; never throws. */
  async discard(): Promise<void> {
    this.input.destroy();
    await this.upload.abort().catch(() => {});
    await deleteStaging(this.s3, this.bucket, this.key);
  }
}

export async function deleteStaging(s3: S3Client, bucket: string, key: string): Promise<void> {
  await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: key })).catch(() => {});
}

/** Removes several staging objects with one request (their mails are stored); never throws. */
export async function deleteStagingObjects(
  s3: S3Client,
  bucket: string,
  keys: string[],
): Promise<void> {
  if (!keys.length) return;
  await s3
    .send(
      new DeleteObjectsCommand({
        Bucket: bucket,
        Delete: { Objects: keys.map((Key) => ({ Key })), Quiet: true },
      }),
    )
    .catch(() => {});
}
