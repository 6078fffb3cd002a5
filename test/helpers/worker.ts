import { spawn } from 'node:child_process';
import path from 'node:path';
import { NativeConnection, Worker, type WorkerOptions } from '@temporalio/worker';
import type { Config } from '../../lib/config';
import { workflowsPath } from '../../lib/temporal/bundle';
import { dataConverter } from '../../lib/temporal/data-converter';

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

/**
 * A worker inside the test process: the real workflows on a task queue of the test's own, with the
 * activities the test gives (real ones with a movable clock, or recorders).
 */
export async function runTestWorker(
  cfg: Config,
  taskQueue: string,
  activities: NonNullable<WorkerOptions['activities']>,
): Promise<{ stop(): Promise<void> }> {
  const connection = await NativeConnection.connect({ address: cfg.TEMPORAL_ADDRESS });
  const worker = await Worker.create({
    connection,
    namespace: cfg.TEMPORAL_NAMESPACE,
    taskQueue,
    workflowsPath,
    dataConverter: dataConverter(cfg.TEMPORAL_CODEC_KEYS),
    activities,
  });
  const running = worker.run();
  return {
    async stop() {
      worker.shutdown();
      await running;
      await connection.close();
    },
  };
}
