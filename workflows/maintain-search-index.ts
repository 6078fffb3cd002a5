import { CancellationScope, proxyActivities } from '@temporalio/workflow';
import type { GrantRef, SearchIndexActivities } from '../activities/search-index';

const { mergeSearchIndex } = proxyActivities<SearchIndexActivities>({
  startToCloseTimeout: '30 minutes',
  heartbeatTimeout: '30 seconds',
  retry: {
    maximumAttempts: 5,
    initialInterval: '2 seconds',
    nonRetryableErrorTypes: ['GrantUnavailable'],
  },
});
const { destroyDecryptionGrant } = proxyActivities<SearchIndexActivities>({
  startToCloseTimeout: '1 minute',
  retry: { initialInterval: '1 second', maximumInterval: '1 minute' },
});

/**
 * Merges a tenant's newly archived mails into its encrypted search index while a user's session
 * has lent it a decryption grant (started by the portal; one per tenant at a time, by id). The
 * grant is destroyed however the merge ends.
 */
export async function maintainSearchIndex(input: GrantRef): Promise<number> {
  try {
    return await mergeSearchIndex(input);
  } finally {
    // Even when cancelled: a cancelled scope would schedule nothing and leave the grant behind.
    await CancellationScope.nonCancellable(() =>
      destroyDecryptionGrant({ tenantId: input.tenantId, grantId: input.grantId }),
    );
  }
}
