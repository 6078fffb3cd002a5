import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadConfig } from '../../lib/config';
import { freePort } from '../../infra/processes';
import { startStack, type Stack } from '../../infra/stack';

/**
 * Starts the real services for integration tests: Temporal (in memory), MinIO (4 drives in a temp
 * dir), the dev TSA, the Temporal worker, LMTP and portal processes, and a database of its own
 * (`mailrepo_test_<time>_<pid>`), so parallel runs and a running `npm run dev` never collide.
 */
export default async function globalSetup(): Promise<void> {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'mailrepo-test-'));
  const dbName = `mailrepo_test_${Date.now()}_${process.pid}`;
  const base = new URL(process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres');
  base.pathname = `/${dbName}`;
  const cfg = loadConfig({
    ...process.env,
    NODE_ENV: 'test',
    DATA_DIR: dataDir,
    DATABASE_URL: base.toString(),
    LOG_LEVEL: 'warn',
  });
  const ports = {
    temporal: await freePort(),
    temporalHttp: await freePort(),
    temporalMetrics: await freePort(),
    s3: await freePort(),
    s3Console: await freePort(),
    tsa: await freePort(),
    lmtp: await freePort(),
    web: await freePort(),
    codec: await freePort(),
    embeddedPg: await freePort(),
  };
  // Checkpoint often, so tests that wait for a timestamp wait seconds, not ten.
  process.env.LEDGER_CHECKPOINT_INTERVAL_S = '2';
  const started = Date.now();
  process.stdout.write(
    '\nstarting the integration stack (Temporal, MinIO, PostgreSQL, TSA, workers)…\n',
  );
  const stack: Stack = await startStack({
    cfg,
    dataDir,
    // An explicit DATABASE_URL names the server; otherwise the local one, else an embedded one.
    explicitDatabaseUrl: process.env.DATABASE_URL ? base.toString() : undefined,
    persistTemporal: false,
    apps: ['codec-server', 'worker', 'lmtp', 'web'],
    ports,
    quiet: true,
    log: (l) => process.stdout.write(`${l}\n`),
  });
  process.stdout.write(`integration stack up in ${Math.round((Date.now() - started) / 1000)}s\n`);
  const env: Record<string, string> = {};
  for (const key of [
    'NODE_ENV',
    'DATA_DIR',
    'DATABASE_URL',
    'TEMPORAL_ADDRESS',
    'TEMPORAL_NAMESPACE',
    'TEMPORAL_TASK_QUEUE',
    'S3_ENDPOINT',
    'TSA_URL',
    'TSA_CA_FILE',
    'DEV_TSA_PORT',
    'LMTP_PORT',
    'WEB_PORT',
    'CODEC_SERVER_PORT',
    'LOG_LEVEL',
  ]) {
    const v = stack.env[key] ?? (key === 'LOG_LEVEL' ? 'warn' : undefined);
    if (v !== undefined) env[key] = v;
  }
  Object.assign(process.env, env);
  (globalThis as { __MAILREPO_STACK__?: { stack: Stack; dataDir: string } }).__MAILREPO_STACK__ = {
    stack,
    dataDir,
  };
}
