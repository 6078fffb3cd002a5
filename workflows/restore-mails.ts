import { ApplicationFailure, CancellationScope, proxyActivities } from '@temporalio/workflow';
import type { RestoreActivities } from '../activities/restore';
import type { SearchIndexActivities } from '../activities/search-index';
import type { RestoreInput } from '../contracts/restore';

const { prepareRestore, restoreBatch } = proxyActivities<RestoreActivities>({
  startToCloseTimeout: '6 hours',
  heartbeatTimeout: '2 minutes',
  retry: {
    maximumAttempts: 10,
    initialInterval: '5 seconds',
    maximumInterval: '5 minutes',
    // A refused login or certificate, or a grant gone: retrying cannot help.
    nonRetryableErrorTypes: ['GrantUnavailable', 'ImapRefusedError'],
  },
});
const { finishRestore } = proxyActivities<RestoreActivities>({
  startToCloseTimeout: '1 minute',
  retry: { initialInterval: '1 second', maximumInterval: '1 minute' },
});
const { destroyDecryptionGrant } = proxyActivities<SearchIndexActivities>({
  startToCloseTimeout: '1 minute',
  retry: { initialInterval: '1 second', maximumInterval: '1 minute' },
});

/** Mails per activity: a crash redoes at most the unsaved tail of one batch. */
const MAILS_PER_BATCH = 500;

/**
 * Restores archived mails into an IMAP mailbox (issue 22 §4) under a decryption grant that is
 * destroyed when the work ends, however it ends. Progress (`restores.done`) is in the database;
 * the history grows by a few events per 500 mails.
 */
export async function restoreMails(input: RestoreInput): Promise<number> {
  const { grant, restoreId } = input;
  try {
    const total = await prepareRestore({
      grant,
      restoreId,
      query: input.query,
      messageIds: input.messageIds,
      mailboxes: input.mailboxes,
    });
    let restored = 0;
    for (let from = 0; from < total; from += MAILS_PER_BATCH)
      restored += await restoreBatch({
        grant,
        restoreId,
        account: input.account,
        folder: input.folder,
        from,
        to: from + MAILS_PER_BATCH,
      });
    await finishRestore({ grant, restoreId });
    return restored;
  } catch (e) {
    const cause = e instanceof Error ? (e.cause as Error | undefined) : undefined;
    const error = cause?.message ?? (e instanceof Error ? e.message : String(e));
    await CancellationScope.nonCancellable(() => finishRestore({ grant, restoreId, error }));
    throw ApplicationFailure.nonRetryable(`restore failed: ${error}`, 'RestoreFailed');
  } finally {
    await CancellationScope.nonCancellable(() =>
      destroyDecryptionGrant({ tenantId: grant.tenantId, grantId: grant.grantId }),
    );
  }
}
