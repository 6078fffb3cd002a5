import { spawn } from 'node:child_process';
import path from 'node:path';

/**
 * A Temporal worker process on a task queue of its own, for tests that kill and restart it; it
 * does not own the ledger schedule (the stack's worker does).
 */
export const startOwnWorker = (taskQueue: string) =>
  spawn(process.execPath, ['--import', 'tsx', path.join(__dirname, '../../workers/temporal.ts')], {
    env: {
      ...process.env,
      TEMPORAL_TASK_QUEUE: taskQueue,
      LEDGER_SCHEDULE_OWNER: 'false',
      // The stack's worker holds the metrics ports.
      WORKER_METRICS_PORT: '0',
      TEMPORAL_SDK_METRICS_PORT: '0',
    },
    stdio: 'ignore',
  });
