import type { S3Client } from '@aws-sdk/client-s3';
import type { Db } from '../lib/db';
import { DocumentExtractor } from '../lib/extract/extractor';
import { holdNewMail } from '../lib/retention/holds';
import { extractQueued } from '../lib/search/extract-queue';
import { MERGE_BATCH, mergeQueued } from '../lib/search/index-store';
import { inProcess, type SegmentBuilder } from '../lib/search/segment-build-threads';
import { heartbeat } from '../lib/temporal/heartbeat';
import { destroyGrant } from '../lib/vault/grants';
import { withGrant, type GrantRef } from './with-grant';

/**
 * Index maintenance (DESIGN §7) under a decryption grant: first the documents of mails waiting
 * for extraction are read (decision 0022), then queued mails are merged batch by batch (each
 * batch commits with its queue rows, so a retry continues where the last attempt stopped),
 * heartbeating between steps. The grant is destroyed by the workflow when the job ends.
 */

export type { GrantRef };

export interface SearchIndexDeps {
  db: Db;
  s3: S3Client;
  bucket: string;
  /** Where attachment text is read (the worker's extraction threads); one thread if not given. */
  documentExtractor?: DocumentExtractor;
  /** Where merge batches become segments (the worker's merge threads); in-process if not given. */
  segmentBuilder?: SegmentBuilder;
}

export function createSearchIndexActivities(deps: SearchIndexDeps) {
  const builder = deps.segmentBuilder ?? inProcess;
  const extractor = deps.documentExtractor ?? new DocumentExtractor();
  return {
    async mergeSearchIndex(input: GrantRef): Promise<number> {
      return withGrant(deps.db, input, 'search-index', async (keys, keyring) => {
        // Storage failing while documents are read must not hold up the merge of everything
        // else: the mails it concerns stay queued for extraction, the error fails the job after.
        let extractFailure: unknown;
        // A document may take up to the extractor's time limit: beat while they are read.
        const beating = setInterval(heartbeat, 5_000);
        try {
          const extractDeps = { ...deps, extractor, afterRead: holdNewMail };
          while ((await extractQueued(extractDeps, keys, keyring)) > 0) heartbeat();
        } catch (e) {
          extractFailure = e;
        } finally {
          clearInterval(beating);
        }
        let merged = 0;
        for (let n; (n = await mergeQueued(deps.db, keys, keyring, MERGE_BATCH, builder)) > 0;) {
          merged += n;
          heartbeat();
        }
        if (extractFailure) throw extractFailure;
        return merged;
      });
    },

    async destroyDecryptionGrant(input: { tenantId: string; grantId: string }): Promise<void> {
      await destroyGrant(deps.db, input.tenantId, input.grantId);
    },
  };
}

export type SearchIndexActivities = ReturnType<typeof createSearchIndexActivities>;
