import { proxyActivities } from '@temporalio/workflow';
import type { LedgerActivities } from '../activities/ledger';
import type { RoundResult } from '../lib/ledger/checkpointer';

const { runLedgerCheckpoint } = proxyActivities<LedgerActivities>({
  startToCloseTimeout: '2 minutes',
  retry: { maximumAttempts: 3, initialInterval: '2 seconds' },
});

/** One checkpoint round; started by the `ledger-checkpoint` schedule (see lib/temporal/schedules). */
export async function ledgerCheckpoint(): Promise<RoundResult> {
  return runLedgerCheckpoint();
}
