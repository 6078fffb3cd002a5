import { ledgerSettings } from '../activities/ledger';
import { existsSync } from 'node:fs';
import { registerArchiveGauges } from '../lib/metrics/archive-gauges';
import { registerEvidenceGauges } from '../lib/metrics/evidence-gauges';
import { startMetricsServer } from '../lib/metrics/server';
import { temporalTls } from '../lib/temporal/tls';
import type { Client } from '@temporalio/client';
import path from 'node:path';
import { NativeConnection, Worker, Runtime, makeTelemetryFilterString } from '@temporalio/worker';
import { createActivities } from '../activities';
import { SegmentBuildThreads } from '../lib/search/segment-build-threads';
import { config, tsaRootsPem, tsaUrls } from '../lib/config';
import { dbFromConfig } from '../lib/db';
import { createLogger } from '../lib/log';
import { createS3 } from '../lib/storage/s3';
import { DEFAULT_EXTRACTION_LIMITS, DocumentExtractor } from '../lib/extract/extractor';
import { workflowsPath } from '../lib/temporal/bundle';
import { checkWorkflowBundle, currentBuild } from '../lib/process/build-info';
import { buildId } from '../lib/version';
import { hostname } from 'node:os';
import { connectTemporal } from '../lib/temporal/client';
import { dataConverter } from '../lib/temporal/data-converter';
import {
  ensureEvidenceSchedule,
  ensureIntegritySchedule,
  ensureLedgerSchedule,
  ensureRetentionSchedule,
  ensureSessionSchedule,
} from '../lib/temporal/schedules';

/** The Temporal worker process: every workflow and activity, on the configured task queue. */
async function main(): Promise<void> {
  const cfg = config();
  const log = createLogger('temporal-worker', { level: cfg.LOG_LEVEL });
  Runtime.install({
    logger: {
      log: (level, message) => log[level.toLowerCase() as 'info'](message),
      trace: (m) => log.trace(m),
      debug: (m) => log.debug(m),
      info: (m) => log.info(m),
      warn: (m) => log.warn(m),
      error: (m) => log.error(m),
    },
    telemetryOptions: {
      logging: { filter: makeTelemetryFilterString({ core: 'WARN' }) },
      // The SDK's own metrics (task latencies, slots, polls), Prometheus format, own port.
      ...(cfg.TEMPORAL_SDK_METRICS_PORT
        ? {
            metrics: {
              prometheus: {
                bindAddress: `${cfg.METRICS_HOST}:${cfg.TEMPORAL_SDK_METRICS_PORT}`,
                // Prometheus conventions: seconds, and counters ending in _total.
                useSecondsForDurations: true,
                countersTotalSuffix: true,
              },
            },
          }
        : {}),
    },
  });

  const workflowCode = chooseWorkflowCode(cfg.WORKFLOW_BUNDLE);

  const db = dbFromConfig(cfg, cfg.DATABASE_POOL_MAX);
  // Activities that signal their workflow (export progress) share one client, made on first use.
  let activityClient: Promise<Client> | undefined;
  const s3 = createS3(cfg);
  const segmentBuilder =
    cfg.SEARCH_MERGE_THREADS > 0 ? new SegmentBuildThreads(cfg.SEARCH_MERGE_THREADS) : undefined;
  const documentExtractor = new DocumentExtractor({
    ...DEFAULT_EXTRACTION_LIMITS,
    threads: cfg.EXTRACT_THREADS,
  });
  const connection = await NativeConnection.connect({
    address: cfg.TEMPORAL_ADDRESS,
    tls: temporalTls(cfg),
  });
  const worker = await Worker.create({
    connection,
    namespace: cfg.TEMPORAL_NAMESPACE,
    taskQueue: cfg.TEMPORAL_TASK_QUEUE,
    ...workflowCode,
    identity: `${process.pid}@${hostname()} build ${buildId}`,
    activities: createActivities({
      db,
      s3,
      bucket: cfg.S3_BUCKET,
      integrityBytesPerSecond: cfg.INTEGRITY_READ_BYTES_PER_S,
      tsaCaPem: () => tsaRootsPem(cfg),
      temporalClient: () => (activityClient ??= connectTemporal(cfg)),
      taskQueue: cfg.TEMPORAL_TASK_QUEUE,
      log,
      maxMessageBytes: cfg.LMTP_MAX_MESSAGE_BYTES,
      segmentBuilder,
      documentExtractor,
      ...ledgerSettings(cfg),
    }),
    dataConverter: dataConverter(cfg.TEMPORAL_CODEC_KEYS),
    shutdownGraceTime: '10 seconds',
    // Mails retried on their own (archiveMail) wait in awaitTimestamp — waiting, not working;
    // after an outage there can be many of them.
    maxConcurrentActivityTaskExecutions: 2000,
  });
  if (cfg.LEDGER_SCHEDULE_OWNER) {
    const client = await connectTemporal(cfg);
    await ensureLedgerSchedule(client, cfg.TEMPORAL_TASK_QUEUE, cfg.LEDGER_CHECKPOINT_INTERVAL_S);
    await ensureIntegritySchedule(client, cfg.TEMPORAL_TASK_QUEUE, cfg.INTEGRITY_CHECK_AT);
    await ensureRetentionSchedule(client, cfg.TEMPORAL_TASK_QUEUE, cfg.RETENTION_SWEEP_AT);
    await ensureSessionSchedule(client, cfg.TEMPORAL_TASK_QUEUE, cfg.SESSION_SWEEP_INTERVAL_S);
    await ensureEvidenceSchedule(client, cfg.TEMPORAL_TASK_QUEUE, cfg.EVIDENCE_RENEWAL_AT);
    await client.connection.close();
  }
  registerArchiveGauges(db);
  registerEvidenceGauges(db, { windowDays: cfg.EVIDENCE_RENEWAL_DAYS, tsaUrls: tsaUrls(cfg) });
  const metricsServer = cfg.WORKER_METRICS_PORT
    ? await startMetricsServer(cfg.METRICS_HOST, cfg.WORKER_METRICS_PORT)
    : undefined;
  log.info(
    { taskQueue: cfg.TEMPORAL_TASK_QUEUE, namespace: cfg.TEMPORAL_NAMESPACE, buildId },
    'worker started',
  );
  try {
    // Worker.run() handles SIGINT/SIGTERM itself and drains in-flight tasks.
    await worker.run();
  } finally {
    metricsServer?.close();
    await segmentBuilder?.close();
    await documentExtractor.close();
    await connection.close();
    await db.destroy();
    s3.destroy();
    log.info('worker stopped');
  }
}

/**
 * Compiled, the worker runs its own build's workflow bundle and refuses any other (issue 18 §2);
 * from sources it runs the bundle it is given (the dev stack bundles once for every restart) or
 * bundles the current sources itself, never a stale file it happens to find.
 */
function chooseWorkflowCode(
  configured: string | undefined,
): { workflowBundle: { codePath: string } } | { workflowsPath: string } {
  const compiled = currentBuild();
  if (compiled) {
    const codePath = configured ?? path.join(compiled.root, compiled.build.workflowBundle.file);
    checkWorkflowBundle(codePath, compiled.build);
    return { workflowBundle: { codePath } };
  }
  if (!configured) return { workflowsPath };
  if (!existsSync(configured)) throw new Error(`WORKFLOW_BUNDLE ${configured} does not exist`);
  return { workflowBundle: { codePath: configured } };
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
