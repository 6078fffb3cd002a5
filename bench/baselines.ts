import type { Client } from '@temporalio/client';
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import { loadConfig } from '../lib/config';
import { connectTemporal } from '../lib/temporal/client';
import { startEphemeralStack } from '../infra/ephemeral-stack';
import { fmt } from './measure';
import { figure } from './report';
import { withThrowawayDb } from './throwaway-db';

/**
 * The raw baselines BENCHMARKS.md compares our figures with, measured in the same run: SHA-256
 * (the ledger's and the integrity check's hash), single-row PostgreSQL inserts (each committed,
 * as every archived mail commits rows), and empty Temporal workflows (every mail runs one).
 * Raw AES-256-GCM comes from the crypto bench.
 */
const MiB = 2 ** 20;

export async function benchBaselines(): Promise<void> {
  const buf = randomBytes(64 * MiB);
  let best = 0;
  for (let i = 0; i < 3; i++) {
    const t = performance.now();
    createHash('sha256').update(buf).digest();
    best = Math.max(best, 64 / ((performance.now() - t) / 1000));
  }
  console.log(`raw SHA-256: ${fmt(best)} MiB/s`);
  figure('baseline', 'raw SHA-256', best, 'MiB/s');

  await withThrowawayDb('baseline', 16, async (db) => {
    await sql`CREATE TABLE bench_rows (id uuid PRIMARY KEY, v bytea NOT NULL)`.execute(db);
    for (const c of [1, 16]) {
      const end = Date.now() + 5000;
      let n = 0;
      await Promise.all(
        Array.from({ length: c }, async () => {
          while (Date.now() < end) {
            await sql`INSERT INTO bench_rows VALUES (${randomUUID()}, ${randomBytes(32)})`.execute(
              db,
            );
            n++;
          }
        }),
      );
      console.log(
        `raw PostgreSQL single-row insert, autocommit, ${c} connection(s): ${fmt(n / 5)}/s`,
      );
      figure('baseline', `raw PostgreSQL insert (${c} connections)`, n / 5, '/s');
    }
  });

  const running = await startEphemeralStack({
    prefix: 'mailrepo_bench_baseline',
    apps: ['worker'],
    checkpointIntervalS: 60,
  });
  try {
    const cfg = loadConfig({ ...process.env, ...running.env });
    const client = await connectTemporal(cfg);
    try {
      const rate = await emptyWorkflowRate(client, cfg.TEMPORAL_TASK_QUEUE);
      console.log(`empty Temporal workflow, start to result, 32 concurrent: ${fmt(rate)}/s`);
      figure('baseline', 'empty Temporal workflow (32 concurrent)', rate, '/s');
    } finally {
      await client.connection.close();
    }
  } finally {
    await running.dispose();
  }
}

/**
 * Empty workflows started and awaited by 32 callers for `seconds`: what the stack can do per
 * workflow at all — the ceiling of anything that runs one workflow per mail.
 */
export async function emptyWorkflowRate(
  client: Client,
  taskQueue: string,
  seconds = 10,
): Promise<number> {
  const run = () =>
    client.workflow.execute('emptyWorkflow', {
      workflowId: `empty-${randomUUID()}`,
      taskQueue,
      args: [],
    });
  for (let i = 0; i < 20; i++) await run(); // warm-up
  const end = Date.now() + seconds * 1000;
  const start = Date.now();
  let n = 0;
  await Promise.all(
    Array.from({ length: 32 }, async () => {
      while (Date.now() < end) {
        await run();
        n++;
      }
    }),
  );
  return n / ((Date.now() - start) / 1000);
}

if (require.main === module)
  benchBaselines().catch((err) => {
    console.error(err);
    process.exit(1);
  });
