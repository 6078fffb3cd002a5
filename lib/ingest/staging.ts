import { createHash, type Hash } from 'node:crypto';
import { PassThrough, pipeline, Transform } from 'node:stream';
import { DeleteObjectCommand, DeleteObjectsCommand, type S3Client } from '@aws-sdk/client-s3';
import { PooledUpload } from '../storage/pooled-upload';

/**
 * A mail's ciphertext going to S3 from a stream: one PUT for small mails, multipart for large ones
 * with one 5 MiB part in flight, its buffer from the process's part pool (lib/storage/pooled-upload:
 * the memory of all mails in flight together is bounded, issue 19 §4). The ciphertext's SHA-256
 * and size are computed on the way, for the row and later integrity checks.
 */
export class StagingUpload {
  readonly input = new PassThrough({ highWaterMark: 64 * 1024 });
  private readonly hash: Hash = createHash('sha256');
  private size = 0;
  private readonly upload: PooledUpload;
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
    this.upload = new PooledUpload(s3, bucket, key);
    // Any failure on the way (the writer's, S3's) ends all three and settles `done`.
    pipeline(this.input, counter, this.upload.input, () => {});
    this.done = this.upload.done;
  }

  result(): { sha256: Buffer; size: number } {
    return { sha256: this.hash.digest(), size: this.size };
  }

  /** Stops the upload and removes whatever reached S3; never throws. */
  async discard(): Promise<void> {
    this.input.destroy();
    await this.done.catch(() => {});
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
