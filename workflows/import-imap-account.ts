import {
  ApplicationFailure,
  condition,
  continueAsNew,
  proxyActivities,
  setHandler,
} from '@temporalio/workflow';
import type { ImapImportActivities } from '../activities/imap-import';
import { imapStop, imapSyncNow, type ImapImportInput } from '../contracts/import';

const { syncImap } = proxyActivities<ImapImportActivities>({
  startToCloseTimeout: '24 hours',
  heartbeatTimeout: '2 minutes',
  retry: {
    maximumAttempts: 20,
    initialInterval: '5 seconds',
    maximumInterval: '5 minutes',
    // A refused login or certificate stays refused: the admin corrects the account.
    nonRetryableErrorTypes: ['ImapRefusedError'],
  },
});
const { finishImap } = proxyActivities<ImapImportActivities>({
  startToCloseTimeout: '1 minute',
  retry: { initialInterval: '1 second', maximumInterval: '1 minute' },
});

/** Passes in one run before it continues as new: the history stays bounded. */
const PASSES_PER_RUN = 50;

const messageOf = (e: unknown) => {
  const cause = e instanceof Error ? (e.cause as Error | undefined) : undefined;
  return cause?.message ?? (e instanceof Error ? e.message : String(e));
};

/**
 * Imports one IMAP account (issue 22 §3): a pass over every folder, then done, or in continuous
 * mode a pass every N minutes (or when asked to, `imapSyncNow`) until stopped (`imapStop`). A
 * failed pass fails a one-off import; in continuous mode it is recorded and the next pass tries
 * again.
 */
export async function importImapAccount(input: ImapImportInput): Promise<void> {
  let wake = false;
  let stop = false;
  setHandler(imapSyncNow, () => void (wake = true));
  setHandler(imapStop, () => void (stop = true));
  for (let pass = 0; pass < PASSES_PER_RUN; pass++) {
    try {
      await syncImap(input);
    } catch (e) {
      const error = messageOf(e);
      if (!input.continuousMinutes) {
        await finishImap({
          tenantId: input.tenantId,
          importId: input.importId,
          status: 'failed',
          error,
        });
        throw ApplicationFailure.nonRetryable(`IMAP import failed: ${error}`, 'ImapImportFailed');
      }
      await finishImap({
        tenantId: input.tenantId,
        importId: input.importId,
        status: 'watching',
        error,
      });
    }
    if (!input.continuousMinutes || stop) break;
    await finishImap({ tenantId: input.tenantId, importId: input.importId, status: 'watching' });
    wake = false;
    await condition(() => wake || stop, `${input.continuousMinutes} minutes`);
    if (stop) break;
  }
  if (input.continuousMinutes && !stop) return continueAsNew<typeof importImapAccount>(input);
  await finishImap({ tenantId: input.tenantId, importId: input.importId, status: 'done' });
}
