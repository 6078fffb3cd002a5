import {
  ScheduleAlreadyRunning,
  ScheduleNotFoundError,
  ScheduleOverlapPolicy,
  type Client,
  type ScheduleSpec,
} from '@temporalio/client';
import type { Duration } from '@temporalio/common';
import type { WorkflowArgs, WorkflowName } from '../../contracts/workflows';
import { scheduledStart } from './start-workflow';

export const LEDGER_SCHEDULE_ID = 'ledger-checkpoint';
export const INTEGRITY_SCHEDULE_ID = 'integrity-check';
export const RETENTION_SCHEDULE_ID = 'retention-sweep';
export const SESSION_SCHEDULE_ID = 'session-sweep';
export const EVIDENCE_SCHEDULE_ID = 'evidence-renewal';

/**
 * Creates the ledgerCheckpoint schedule, or brings an existing one to the configured interval.
 * Overlap SKIP: a slow round (a TSA timing out) never piles up runs behind it.
 */
export async function ensureLedgerSchedule(
  client: Client,
  taskQueue: string,
  intervalSeconds: number,
): Promise<void> {
  await ensureSchedule(client, LEDGER_SCHEDULE_ID, {
    spec: { intervals: [{ every: `${intervalSeconds} seconds` as const }] },
    action: scheduledStart('ledgerCheckpoint', taskQueue, []),
    catchupWindow: '1 minute',
  });
}

/** The daily integrity check of all tenants at `at` (HH:MM) Berlin time; a missed day is run. */
export async function ensureIntegritySchedule(
  client: Client,
  taskQueue: string,
  at: string,
): Promise<void> {
  await ensureSchedule(
    client,
    INTEGRITY_SCHEDULE_ID,
    daily(at, 'integrityCheck', taskQueue, [{ trigger: 'schedule' }]),
  );
}

/** Ends expired portal sessions and destroys their keys every `intervalSeconds` (issue 17 §5). */
export async function ensureSessionSchedule(
  client: Client,
  taskQueue: string,
  intervalSeconds: number,
): Promise<void> {
  await ensureSchedule(client, SESSION_SCHEDULE_ID, {
    spec: { intervals: [{ every: `${intervalSeconds} seconds` as const }] },
    action: scheduledStart('sessionSweep', taskQueue, []),
    catchupWindow: '1 minute',
  });
}

/** The daily retention sweep at `at` (HH:MM) Berlin time; a missed day is run. */
export async function ensureRetentionSchedule(
  client: Client,
  taskQueue: string,
  at: string,
): Promise<void> {
  await ensureSchedule(client, RETENTION_SCHEDULE_ID, daily(at, 'retentionSweep', taskQueue, []));
}

/**
 * The daily renewal of the anchor checkpoints' evidence records at `at` (HH:MM) Berlin time
 * (issue 23 §1); a missed day is run.
 */
export async function ensureEvidenceSchedule(
  client: Client,
  taskQueue: string,
  at: string,
): Promise<void> {
  await ensureSchedule(
    client,
    EVIDENCE_SCHEDULE_ID,
    daily(at, 'renewEvidence', taskQueue, [{ trigger: 'schedule' }]),
  );
}

function daily<N extends WorkflowName>(
  at: string,
  workflowType: N,
  taskQueue: string,
  args: WorkflowArgs[N],
) {
  const [hour, minute] = at.split(':').map(Number) as [number, number];
  return {
    spec: { calendars: [{ hour, minute }], timezone: 'Europe/Berlin' },
    action: scheduledStart(workflowType, taskQueue, args),
    catchupWindow: '1 day' as const,
  };
}

/**
 * Creates a schedule, or brings an existing one to this spec and action (idempotent at every
 * worker start). Overlap SKIP: a slow run never piles up runs behind it.
 */
async function ensureSchedule(
  client: Client,
  scheduleId: string,
  s: {
    spec: ScheduleSpec;
    action: { type: 'startWorkflow'; workflowType: string; taskQueue: string; args: unknown[] };
    catchupWindow: Duration;
  },
): Promise<void> {
  const handle = client.schedule.getHandle(scheduleId);
  try {
    await handle.update((prev) => ({
      ...prev,
      spec: s.spec,
      action: { ...prev.action, ...s.action },
    }));
  } catch (e) {
    if (!(e instanceof ScheduleNotFoundError)) throw e;
    await client.schedule
      .create({
        scheduleId,
        spec: s.spec,
        action: s.action,
        policies: { overlap: ScheduleOverlapPolicy.SKIP, catchupWindow: s.catchupWindow },
      })
      .catch((err: unknown) => {
        // Another worker created it meanwhile.
        if (!(err instanceof ScheduleAlreadyRunning)) throw err;
      });
  }
}
