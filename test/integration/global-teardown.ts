import type { EphemeralStack } from '../../infra/ephemeral-stack';
import { loadConfig } from '../../lib/config';
import { connectTemporal } from '../../lib/temporal/client';
import { recordHistories } from '../helpers/workflow-histories';

export default async function globalTeardown(): Promise<void> {
  const running = (globalThis as { __MAILREPO_STACK__?: EphemeralStack }).__MAILREPO_STACK__;
  try {
    if (running && process.env.RECORD_HISTORIES === '1') await record(running);
  } finally {
    await running?.dispose();
  }
}

/** `npm run histories:record`: one history per workflow type, kept before the stack goes. */
async function record(running: EphemeralStack): Promise<void> {
  const client = await connectTemporal(loadConfig({ ...process.env, ...running.env }));
  try {
    // Runs the suites do not start, as the schedules and the bench start them.
    for (const [type, args] of [
      ['emptyWorkflow', []],
      ['retentionSweep', []],
      ['integrityCheck', [{ trigger: 'schedule' }]],
    ] as const)
      await client.workflow.execute(type, {
        workflowId: `record-${type}-${Date.now()}`,
        taskQueue: running.env.TEMPORAL_TASK_QUEUE!,
        args: [...args],
      });
    const missing = await recordHistories(client);
    process.stdout.write(
      `\nhistories recorded in test/fixtures/histories${missing.length ? `; no run of ${missing.join(', ')}` : ''}\n`,
    );
  } finally {
    await client.connection.close();
  }
}
