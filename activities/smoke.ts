import { createHash, randomBytes } from 'node:crypto';
import type { S3Client } from '@aws-sdk/client-s3';
import type { Db } from '../lib/db';
import { getObjectBytes, putObject } from '../lib/storage/s3';
import { recordSmokeCheck } from '../lib/db/smoke-checks';

/**
 * Platform self-check: proves that a workflow's activities can reach object storage and the
 * database. Each activity is idempotent, so Temporal may retry it freely.
 */
export interface SmokeDeps {
  db: Db;
  s3: S3Client;
  bucket: string;
}

export interface StoredObject {
  objectKey: string;
  sha256: string;
  size: number;
}

export function createSmokeActivities({ db, s3, bucket }: SmokeDeps) {
  return {
    /** Writes a random probe object under a key derived from the workflow id, then reads it back. */
    async storeSmokeObject(workflowId: string): Promise<StoredObject> {
      const objectKey = `platform/smoke/${workflowId}`;
      const body = randomBytes(4096);
      const digest = createHash('sha256').update(body).digest();
      await putObject(s3, bucket, objectKey, body, digest.toString('base64'));
      const back = await getObjectBytes(s3, bucket, objectKey);
      const sha256 = createHash('sha256').update(back).digest('hex');
      if (sha256 !== digest.toString('hex'))
        throw new Error('object read back differs from what was written');
      return { objectKey, sha256, size: back.byteLength };
    },

    async recordSmokeCheck(workflowId: string, stored: StoredObject): Promise<void> {
      await recordSmokeCheck(db, workflowId, stored);
    },
  };
}

export type SmokeActivities = ReturnType<typeof createSmokeActivities>;
