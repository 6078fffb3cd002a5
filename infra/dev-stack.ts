import { Client } from '@temporalio/client';
import { config, loadDotEnv } from '../lib/config';
import { connectTemporal } from '../lib/temporal/client';
import type { StoredObject } from '../activities/smoke';
import type { platformSmoke as PlatformSmoke } from '../workflows';
import { startStack } from './stack';

const platformSmoke = 'platformSmoke' as unknown as typeof PlatformSmoke;

/** `npm run dev`: the whole product on this machine. Ctrl-C stops all of it. */
async function main(): Promise<void> {
  loadDotEnv();
  const explicitDatabaseUrl = process.env.DATABASE_URL;
  const cfg = config();
  const t = Number(cfg.TEMPORAL_ADDRESS.split(':').pop());
  const started = Date.now();
  const stack = await startStack({
    cfg,
    dataDir: cfg.DATA_DIR,
    explicitDatabaseUrl,
    persistTemporal: true,
    apps: [
      ...(cfg.CODEC_SERVER_ENABLED ? (['codec-server'] as const) : []),
      'worker',
      'lmtp',
      'web',
    ],
    ports: {
      temporal: t,
      temporalHttp: t + 10,
      temporalMetrics: t + 11,
      temporalUi: cfg.TEMPORAL_UI_PORT,
      s3: Number(new URL(cfg.S3_ENDPOINT).port || 9000),
      s3Console: cfg.MINIO_CONSOLE_PORT,
      tsa: cfg.DEV_TSA_PORT,
      tsa2: cfg.DEV_TSA_2_PORT,
      lmtp: cfg.LMTP_PORT,
      journalSmtp: cfg.JOURNAL_SMTP_PORT,
      web: cfg.WEB_PORT,
      codec: cfg.CODEC_SERVER_PORT,
      embeddedPg: 54329,
      lmtpMetrics: cfg.LMTP_METRICS_PORT,
      workerMetrics: cfg.WORKER_METRICS_PORT,
      webMetrics: cfg.WEB_METRICS_PORT,
      sdkMetrics: cfg.TEMPORAL_SDK_METRICS_PORT,
    },
  });

  let stopping = false;
  const shutdown = async () => {
    if (stopping) return;
    stopping = true;
    console.log('\nstopping mailrepo…');
    await stack.stop();
    console.log('stopped.');
    process.exit(0);
  };
  process.on('SIGINT', shutdown);
  process.on('SIGTERM', shutdown);

  // A platform self-check on every start: visible in the Temporal UI as platform-smoke-<time>.
  const workflowId = `platform-smoke-${new Date().toISOString().replace(/[:.]/g, '-')}`;
  let result: StoredObject;
  try {
    const client: Client = await connectTemporal({
      ...cfg,
      TEMPORAL_ADDRESS: stack.env.TEMPORAL_ADDRESS!,
    });
    result = await client.workflow.execute(platformSmoke, {
      taskQueue: cfg.TEMPORAL_TASK_QUEUE,
      workflowId,
      workflowExecutionTimeout: '2 minutes',
    });
    await client.connection.close();
  } catch (err) {
    await stack.stop();
    throw new Error(
      `the platform self-check failed: ${err instanceof Error ? err.message : String(err)}`,
    );
  }

  const width = Math.max(...stack.urls.map((u) => u.name.length));
  console.log(
    `\nmailrepo is running (${Math.round((Date.now() - started) / 1000)}s). Ctrl-C stops everything.\n`,
  );
  for (const u of stack.urls) console.log(`  ${u.name.padEnd(width)}  ${u.url}`);
  console.log(
    `\n  self-check ${workflowId}: stored ${result.size} bytes at ${result.objectKey}, recorded in PostgreSQL`,
  );
  if (cfg.devDefaultsInForce.length)
    console.log(`  dev defaults in force: ${cfg.devDefaultsInForce.join(', ')}`);
  console.log('  health of every service: npx mailrepo doctor\n');
}

main().catch((err) => {
  console.error(`\nmailrepo could not start: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
