import type { Db } from '../lib/db';
import { MERGE_BATCH, mergeQueued } from '../lib/search/index-store';
import { inProcess, type SegmentBuilder } from '../lib/search/segment-build-threads';
import { heartbeat } from '../lib/temporal/heartbeat';
import { destroyGrant } from '../lib/vault/grants';
import { withGrant, type GrantRef } from './with-grant';

/**
 * Index maintenance (DESIGN §7) under a decryption grant: queued mails are merged batch by batch
 * (each batch commits with its queue rows, so a retry continues where the last attempt stopped),
 * heartbeating between batches. The grant is destroyed by the workflow when the job ends.
 */

export type { GrantRef };

export interface SearchIndexDeps {
  db: Db;
  /** Where merge batches become segments (the worker's merge threads); in-process if not given. */
  segmentBuilder?: SegmentBuilder;
}

export function createSearchIndexActivities(deps: SearchIndexDeps) {
  const builder = deps.segmentBuilder ?? inProcess;
  return {
    async mergeSearchIndex(input: GrantRef): Promise<number> {
      return withGrant(deps.db, input, 'search-index', async (keys, keyring) => {
        let merged = 0;
        for (let n; (n = await mergeQueued(deps.db, keys, keyring, MERGE_BATCH, builder)) > 0;) {
          merged += n;
          heartbeat();
        }
        return merged;
      });
    },

    async destroyDecryptionGrant(input: { tenantId: string; grantId: string }): Promise<void> {
      await destroyGrant(deps.db, input.tenantId, input.grantId);
    },
  };
}

export type SearchIndexActivities = ReturnType<typeof createSearchIndexActivities>;
