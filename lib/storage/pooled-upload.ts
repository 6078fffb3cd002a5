import { Writable } from 'node:stream';
import {
  AbortMultipartUploadCommand,
  ChecksumAlgorithm,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  PutObjectCommand,
  UploadPartCommand,
  type CompletedPart,
  type S3Client,
} from '@aws-sdk/client-s3';

/** S3's smallest part: the least memory a large upload can hold. */
export const PART_SIZE = 5 * 1024 * 1024;
/** Bytes an upload collects before it needs a part buffer: small objects never wait for one. */
const FREE_BYTES = 256 * 1024;

/**
 * The part buffers of a process (issue 19 §4): at most `max`, made on first use and reused, so
 * the memory of all uploads together is bounded however many arrive at once. An upload waiting
 * for a buffer holds none, and every holder gives its buffer back once S3 has the part — no
 * deadlock; the waiting upload's writer is held back (for LMTP: the client's DATA is not read).
 */
export class PartPool {
  private readonly free: Buffer[] = [];
  private created = 0;
  private readonly waiters: ((b: Buffer) => void)[] = [];

  constructor(readonly max: number) {}

  take(): Promise<Buffer> {
    const reused = this.free.pop();
    if (reused) return Promise.resolve(reused);
    if (this.created < this.max) {
      this.created++;
      return Promise.resolve(Buffer.allocUnsafeSlow(PART_SIZE));
    }
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  give(buffer: Buffer): void {
    const next = this.waiters.shift();
    if (next) next(buffer);
    else this.free.push(buffer);
  }
}

/** 16 buffers of 5 MiB: 80 MiB for every large mail in flight together. */
export const partPool = new PartPool(16);

/**
 * An object written from a stream (`input`) into S3: one PUT when it stays within a part, else a
 * multipart upload, one part in flight, each part in a buffer of `pool`. S3 checks every request's
 * CRC32. `done` settles when the object is complete (or the upload failed and was aborted).
 */
export class PooledUpload {
  readonly input: Writable;
  readonly done: Promise<void>;
  private head: Buffer[] = [];
  private headBytes = 0;
  private part?: Buffer;
  private filled = 0;
  private uploadId?: string;
  private readonly parts: CompletedPart[] = [];
  private aborted = false;

  constructor(
    private readonly s3: S3Client,
    private readonly bucket: string,
    readonly key: string,
    private readonly pool: PartPool = partPool,
  ) {
    let settle!: { resolve: () => void; reject: (e: unknown) => void };
    this.done = new Promise((resolve, reject) => (settle = { resolve, reject }));
    // Observed by whoever awaits `done`; keep an early failure from being "unhandled" meanwhile.
    this.done.catch(() => {});
    this.input = new Writable({
      highWaterMark: 64 * 1024,
      write: (chunk: Buffer, _e, cb) => void this.write(chunk).then(() => cb(), cb),
      final: (cb) =>
        void this.finish().then(
          () => (settle.resolve(), cb()),
          (e: unknown) => (settle.reject(e), cb(e as Error)),
        ),
      destroy: (err, cb) => {
        void this.abort().finally(() => {
          settle.reject(err ?? new Error('upload discarded'));
          cb(err);
        });
      },
    });
  }

  private async write(chunk: Buffer): Promise<void> {
    while (chunk.length) {
      if (!this.part && this.headBytes + chunk.length <= FREE_BYTES) {
        this.head.push(chunk);
        this.headBytes += chunk.length;
        return;
      }
      if (!this.part) {
        this.part = await this.pool.take();
        if (this.aborted) return this.givePart();
        for (const h of this.head) h.copy(this.part, (this.filled += h.length) - h.length);
        this.head = [];
        this.headBytes = 0;
      }
      const take = Math.min(PART_SIZE - this.filled, chunk.length);
      chunk.copy(this.part, this.filled, 0, take);
      this.filled += take;
      chunk = chunk.subarray(take);
      if (this.filled === PART_SIZE) {
        await this.uploadPart(this.part);
        this.givePart();
      }
    }
  }

  private async uploadPart(body: Buffer): Promise<void> {
    this.uploadId ??= (
      await this.s3.send(
        new CreateMultipartUploadCommand({
          Bucket: this.bucket,
          Key: this.key,
          ChecksumAlgorithm: ChecksumAlgorithm.CRC32,
        }),
      )
    ).UploadId;
    const PartNumber = this.parts.length + 1;
    const r = await this.s3.send(
      new UploadPartCommand({
        Bucket: this.bucket,
        Key: this.key,
        UploadId: this.uploadId,
        PartNumber,
        Body: body,
        ChecksumAlgorithm: ChecksumAlgorithm.CRC32,
      }),
    );
    this.parts.push({ PartNumber, ETag: r.ETag, ChecksumCRC32: r.ChecksumCRC32 });
  }

  private givePart(): void {
    if (this.part) this.pool.give(this.part);
    this.part = undefined;
    this.filled = 0;
  }

  private async finish(): Promise<void> {
    // What is left: the part being filled, or what was collected before one was needed.
    const rest = this.part ? this.part.subarray(0, this.filled) : Buffer.concat(this.head);
    try {
      if (!this.uploadId)
        // Within one part: a single PUT.
        await this.s3.send(
          new PutObjectCommand({
            Bucket: this.bucket,
            Key: this.key,
            Body: rest,
            ChecksumAlgorithm: ChecksumAlgorithm.CRC32,
          }),
        );
      else {
        if (rest.length) await this.uploadPart(rest);
        await this.s3.send(
          new CompleteMultipartUploadCommand({
            Bucket: this.bucket,
            Key: this.key,
            UploadId: this.uploadId,
            MultipartUpload: { Parts: this.parts },
          }),
        );
      }
      this.givePart();
    } catch (e) {
      await this.abort();
      throw e;
    }
  }

  /** Gives the buffer back and removes a started multipart upload; never throws. */
  private async abort(): Promise<void> {
    this.aborted = true;
    this.givePart();
    const uploadId = this.uploadId;
    this.uploadId = undefined;
    if (uploadId)
      await this.s3
        .send(
          new AbortMultipartUploadCommand({
            Bucket: this.bucket,
            Key: this.key,
            UploadId: uploadId,
          }),
        )
        .catch(() => {});
  }
}
