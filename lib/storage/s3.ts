import { createHash } from 'node:crypto';
import type { Readable } from 'node:stream';
import {
  CreateBucketCommand,
  GetObjectCommand,
  HeadBucketCommand,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import type { Config } from '../config';

// Node 20 is our supported runtime (package.json engines) and the SDK version is pinned by the
// lockfile; the SDK's notice about future releases would only add noise to every process's log.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

export function createS3(cfg: Config): S3Client {
  return new S3Client({
    endpoint: cfg.S3_ENDPOINT,
    region: cfg.S3_REGION,
    forcePathStyle: true,
    credentials: { accessKeyId: cfg.S3_ACCESS_KEY, secretAccessKey: cfg.S3_SECRET_KEY },
    maxAttempts: 3,
  });
}

/** Creates the bucket if it does not exist yet; safe to call from several processes. */
export async function ensureBucket(s3: S3Client, bucket: string): Promise<void> {
  try {
    await s3.send(new HeadBucketCommand({ Bucket: bucket }));
  } catch (err) {
    const status = (err as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
    if (status !== 404) throw err;
    try {
      await s3.send(new CreateBucketCommand({ Bucket: bucket }));
    } catch (e) {
      if ((e as { name?: string }).name !== 'BucketAlreadyOwnedByYou') throw e;
    }
  }
}

export async function putObject(
  s3: S3Client,
  bucket: string,
  key: string,
  body: Uint8Array,
  sha256Base64?: string,
): Promise<void> {
  await s3.send(
    new PutObjectCommand({
      Bucket: bucket,
      Key: key,
      Body: body,
      ContentLength: body.byteLength,
      // The store verifies the checksum before acknowledging, so a corrupted upload fails loudly.
      ...(sha256Base64 ? { ChecksumSHA256: sha256Base64 } : {}),
    }),
  );
}

export async function getObjectBytes(
  s3: S3Client,
  bucket: string,
  key: string,
): Promise<Uint8Array> {
  const res = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  if (!res.Body) throw new Error(`object ${key} has no body`);
  return res.Body.transformToByteArray();
}

/**
 * SHA-256 and size of a stored object, read in full as a stream; undefined when it does not
 * exist. `onChunk` runs after each chunk (heartbeats, rate limits).
 */
export async function objectDigest(
  s3: S3Client,
  bucket: string,
  key: string,
  onChunk: (bytes: number) => unknown = () => undefined,
): Promise<{ sha256: Buffer; size: number } | undefined> {
  try {
    const res = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    const hash = createHash('sha256');
    let size = 0;
    for await (const chunk of res.Body as Readable) {
      hash.update(chunk as Buffer);
      size += (chunk as Buffer).length;
      await onChunk((chunk as Buffer).length);
    }
    return { sha256: hash.digest(), size };
  } catch (e) {
    const name = (e as { name?: string }).name;
    if (name === 'NoSuchKey' || name === 'NotFound') return undefined;
    throw e;
  }
}
