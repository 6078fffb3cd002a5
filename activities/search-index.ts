import { ApplicationFailure } from '@temporalio/activity';
import { zeroize } from '../lib/crypto/bytes';
import type { Db } from '../lib/db';
import { mergeQueued } from '../lib/search/index-store';
import { heartbeat } from '../lib/temporal/heartbeat';
import { EpochKeyring } from '../lib/vault/epoch-keyring';
import { destroyGrant, GrantUnavailableError, openGrant } from '../lib/vault/grants';

/**
 * Index maintenance (DESIGN §7) under a decryption grant: queued mails are merged batch by batch
 * (each batch commits with its queue rows, so a retry continues where the last attempt stopped),
 * heartbeating between batches. The grant is destroyed by the workflow when the job ends.
 */

export interface GrantRef {
  tenantId: string;
  grantId: string;
  grantKey: string;
}

export function createSearchIndexActivities(deps: { db: Db }) {
  return {
    async mergeSearchIndex(input: GrantRef): Promise<number> {
      let keys;
      try {
        keys = await openGrant(deps.db, { ...input, purpose: 'search-index' });
      } catch (e) {
        if (e instanceof GrantUnavailableError)
          throw ApplicationFailure.nonRetryable(e.message, 'GrantUnavailable');
        throw e;
      }
      const keyring = new EpochKeyring(deps.db, keys);
      try {
        let merged = 0;
        for (let n; (n = await mergeQueued(deps.db, keys, keyring)) > 0;) {
          merged += n;
          heartbeat();
        }
        return merged;
      } finally {
        keyring.dispose();
        zeroize(keys.tenantPrivateKey);
      }
    },

    async destroyDecryptionGrant(input: { tenantId: string; grantId: string }): Promise<void> {
      await destroyGrant(deps.db, input.tenantId, input.grantId);
    },
  };
}

export type SearchIndexActivities = ReturnType<typeof createSearchIndexActivities>;
