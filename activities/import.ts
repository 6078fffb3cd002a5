import type { S3Client } from '@aws-sdk/client-s3';
import type { Client } from '@temporalio/client';
import type { Db } from '../lib/db';
import { failImport, runImport, type ImportSummary } from '../lib/import/run';
import { ArchiveBatcher } from '../lib/ingest/archive-batcher';
import type { Logger } from '../lib/log';
import { heartbeat } from '../lib/temporal/heartbeat';
import { createImapImportActivities } from './imap-import';

/**
 * The importMail workflow's activities. `importEntries` is safe to retry: it resumes after the
 * last entry it recorded as done (lib/import/run.ts).
 */
export interface ImportActivityDeps {
  db: Db;
  s3: S3Client;
  bucket: string;
  temporalClient: () => Promise<Client>;
  /** The queue the archive workflows of imported mail start on (the worker's own). */
  taskQueue: string;
  log: Logger;
  maxMessageBytes: number;
}

export function createImportActivities(deps: ImportActivityDeps) {
  // One per worker process: imports running side by side share their workflow starts.
  let batcher: ArchiveBatcher | undefined;
  /** The ingest path imported mail takes, as LMTP's. */
  const ingest = async () => ({
    db: deps.db,
    s3: deps.s3,
    bucket: deps.bucket,
    archive: (batcher ??= new ArchiveBatcher(await deps.temporalClient(), deps.taskQueue)),
    log: deps.log,
    maxMessageBytes: deps.maxMessageBytes,
  });
  return {
    ...createImapImportActivities(deps, ingest),
    async importEntries(input: {
      tenantId: string;
      importId: string;
      key: string;
    }): Promise<ImportSummary> {
      return runImport(
        await ingest(),
        {
          tenantId: input.tenantId,
          importId: input.importId,
          key: Buffer.from(input.key, 'base64url'),
        },
        () => heartbeat(),
      );
    },
    failImport(input: { tenantId: string; importId: string; error: string }): Promise<void> {
      return failImport(deps, input.tenantId, input.importId, input.error);
    },
  };
}

export type ImportActivities = ReturnType<typeof createImportActivities>;
