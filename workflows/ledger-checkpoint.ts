import { proxyActivities } from '@temporalio/workflow';
import type { LedgerActivities } from '../activities/ledger';
import type { RoundResult } from '../lib/ledger/checkpointer';

const { runLedgerCheckpoint } = proxyActivities<LedgerActivities>({
  startToCloseTimeout: '2 minutes',
  // A round whose completion was lost (worker crash, Temporal restart) is retried after 10 s, not
  // 2 minutes: until then the schedule skips rounds and no mail gets sealed.
  heartbeatTimeout: '10 seconds',
  retry: { maximumAttempts: 3, initialInterval: '2 seconds' },
});

/** One checkpoint round; started by the `ledger-checkpoint` schedule (see lib/temporal/schedules). */
export async function ledgerCheckpoint(): Promise<RoundResult> {
  return runLedgerCheckpoint();
}
