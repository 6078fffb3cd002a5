import {
  ScheduleAlreadyRunning,
  ScheduleNotFoundError,
  ScheduleOverlapPolicy,
  type Client,
} from '@temporalio/client';

export const LEDGER_SCHEDULE_ID = 'ledger-checkpoint';

/**
 * Creates the ledgerCheckpoint schedule, or brings an existing one to the configured interval.
 * Overlap SKIP: a slow round (a TSA timing out) never piles up runs behind it.
 */
export async function ensureLedgerSchedule(
  client: Client,
  taskQueue: string,
  intervalSeconds: number,
): Promise<void> {
  const spec = { intervals: [{ every: `${intervalSeconds} seconds` as const }] };
  const action = {
    type: 'startWorkflow' as const,
    workflowType: 'ledgerCheckpoint',
    taskQueue,
    args: [],
  };
  const handle = client.schedule.getHandle(LEDGER_SCHEDULE_ID);
  try {
    await handle.update((prev) => ({ ...prev, spec, action: { ...prev.action, ...action } }));
  } catch (e) {
    if (!(e instanceof ScheduleNotFoundError)) throw e;
    await client.schedule
      .create({
        scheduleId: LEDGER_SCHEDULE_ID,
        spec,
        action,
        policies: { overlap: ScheduleOverlapPolicy.SKIP, catchupWindow: '1 minute' },
      })
      .catch((err: unknown) => {
        // Another worker created it meanwhile.
        if (!(err instanceof ScheduleAlreadyRunning)) throw err;
      });
  }
}
