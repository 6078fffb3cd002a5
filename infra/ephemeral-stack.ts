import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadConfig } from '../lib/config';
import { dropDatabase } from '../lib/db/migrate';
import { freePorts } from './processes';
import { startStack, type AppProcess, type Stack } from './stack';

/**
 * The whole product on free ports, in a temp directory, with a database of its own
 * (`<prefix>_<time>_<pid>`) — for integration tests and benchmarks, which must never collide
 * with each other or with `npm run dev`. `dispose()` stops it and removes every trace.
 */
export interface EphemeralStack {
  stack: Stack;
  /** The variables a client of this stack needs (ports, URLs, database). */
  env: Record<string, string>;
  dispose(): Promise<void>;
}

const CLIENT_VARS = [
  'NODE_ENV', 'DATA_DIR', 'DATABASE_URL', 'MIGRATION_DATABASE_URL', 'DATABASE_ADMIN_URL', 'TEMPORAL_ADDRESS', 'TEMPORAL_NAMESPACE',
  'TEMPORAL_TASK_QUEUE', 'S3_ENDPOINT', 'TSA_URL', 'TSA_CA_FILE', 'DEV_TSA_PORT', 'DEV_TSA_2_PORT', 'LMTP_PORT',
  'WEB_PORT', 'PORTAL_PUBLIC_URL', 'PORTAL_BUILD_DIR', 'WORKFLOW_BUNDLE', 'CODEC_SERVER_PORT', 'LOG_LEVEL', 'LEDGER_CHECKPOINT_INTERVAL_S',
  'INGEST_CA_CERT_FILE', 'INGEST_CA_KEY_FILE', 'LMTP_METRICS_PORT', 'WORKER_METRICS_PORT', 'WEB_METRICS_PORT', 'TEMPORAL_SDK_METRICS_PORT',
  'JOURNAL_SMTP_PORT', 'JOURNAL_DOMAIN', 'LMTP_TLS_CERT_FILE',
] as const; // prettier-ignore

export async function startEphemeralStack(opts: {
  prefix: string;
  apps: AppProcess[];
  /** Seconds between ledger checkpoints (the worker's schedule). */
  checkpointIntervalS: number;
  log?: (line: string) => void;
  /** Show the processes' own output (off by default). */
  verbose?: boolean;
  /** Keep Temporal's state in SQLite, so a restarted server still knows its workflows. */
  persistTemporal?: boolean;
  /** See StackOptions. */
  s3Endpoint?: string;
  embeddedPostgres?: boolean;
}): Promise<EphemeralStack> {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), `${opts.prefix}-`));
  // An administrator's URL: the stack provisions its roles with it (a stack started inside a test
  // run finds the outer stack's service role in DATABASE_URL, so the admin URL comes first).
  const given = process.env.DATABASE_ADMIN_URL ?? process.env.DATABASE_URL;
  const base = new URL(given ?? 'postgres://postgres@127.0.0.1:5432/postgres');
  base.pathname = `/${opts.prefix.replace(/\W/g, '_')}_${Date.now()}_${process.pid}`;
  process.env.LEDGER_CHECKPOINT_INTERVAL_S = String(opts.checkpointIntervalS);
  // Never inherit another stack's addresses (a test run's fault test starts a second stack).
  const inherited = { ...process.env };
  for (const key of CLIENT_VARS) if (key !== 'NODE_ENV') delete inherited[key];
  const cfg = loadConfig({
    ...inherited,
    NODE_ENV: 'test',
    DATA_DIR: dataDir,
    DATABASE_URL: base.toString(),
    LOG_LEVEL: opts.verbose ? 'info' : 'warn',
  });
  const [
    temporal,
    temporalHttp,
    temporalMetrics,
    s3,
    s3Console,
    tsa,
    lmtp,
    web,
    codec,
    embeddedPg,
    lmtpMetrics,
    workerMetrics,
    webMetrics,
    sdkMetrics,
    journalSmtp,
    tsa2,
  ] = await freePorts(16);
  const ports = {
    temporal: temporal!,
    temporalHttp: temporalHttp!,
    temporalMetrics: temporalMetrics!,
    s3: s3!,
    s3Console: s3Console!,
    tsa: tsa!,
    tsa2: tsa2!,
    lmtp: lmtp!,
    web: web!,
    codec: codec!,
    embeddedPg: embeddedPg!,
    lmtpMetrics: lmtpMetrics!,
    workerMetrics: workerMetrics!,
    webMetrics: webMetrics!,
    sdkMetrics: sdkMetrics!,
    journalSmtp: journalSmtp!,
  };
  const portalBuildDir = path.resolve(__dirname, '..', 'build', path.basename(dataDir));
  const stack = await startStack({
    portalBuildDir,
    cfg,
    dataDir,
    // An explicit DATABASE_URL names the server; otherwise the local one, else an embedded one.
    explicitDatabaseUrl: given ? base.toString() : undefined,
    persistTemporal: opts.persistTemporal ?? false,
    s3Endpoint: opts.s3Endpoint,
    embeddedPostgres: opts.embeddedPostgres,
    apps: opts.apps,
    ports,
    quiet: !opts.verbose,
    log: opts.log,
  });
  const env: Record<string, string> = {};
  for (const key of CLIENT_VARS) {
    const v = stack.env[key] ?? (key === 'LOG_LEVEL' ? 'warn' : undefined);
    if (v !== undefined) env[key] = v;
  }
  return {
    stack,
    env,
    async dispose() {
      await stack.stop();
      // An embedded server's data goes with dataDir; on a shared server the database is dropped.
      if (!stack.database.embedded)
        await dropDatabase(stack.database.adminUrl).catch((e) =>
          console.error(`could not drop database: ${e}`),
        );
      rmSync(dataDir, { recursive: true, force: true });
      rmSync(portalBuildDir, { recursive: true, force: true });
    },
  };
}
