import { readFileSync } from 'node:fs';
import { startMetricsServer } from '../lib/metrics/server';
import { config } from '../lib/config';
import { dbFromConfig } from '../lib/db';
import { ArchiveBatcher } from '../lib/ingest/archive-batcher';
import { createLmtpServer } from '../lib/ingest/lmtp-server';
import { createSmtpJournalServer } from '../lib/ingest/smtp-journal-server';
import { createLogger } from '../lib/log';
import { createS3 } from '../lib/storage/s3';
import { connectTemporal } from '../lib/temporal/client';
import { version } from '../lib/version';

/**
 * The ingest process: mail over LMTP from the customer's MTA and over SMTP from journaling cloud
 * mail (issue 22), encrypted on receipt (lib/ingest).
 */
async function main(): Promise<void> {
  const cfg = config();
  const log = createLogger('lmtp', { level: cfg.LOG_LEVEL });
  const tls =
    cfg.LMTP_TLS_CERT_FILE && cfg.LMTP_TLS_KEY_FILE
      ? {
          cert: readFileSync(cfg.LMTP_TLS_CERT_FILE),
          key: readFileSync(cfg.LMTP_TLS_KEY_FILE),
          clientCa: cfg.INGEST_CA_CERT_FILE ? readFileSync(cfg.INGEST_CA_CERT_FILE) : undefined,
        }
      : undefined;
  const db = dbFromConfig(cfg, cfg.DATABASE_POOL_MAX);
  const s3 = createS3(cfg);
  const temporal = await connectTemporal(cfg);
  const deps = {
    db,
    s3,
    bucket: cfg.S3_BUCKET,
    archive: new ArchiveBatcher(temporal, cfg.TEMPORAL_TASK_QUEUE, {
      windowMs: cfg.INGEST_BATCH_WINDOW_MS,
    }),
    log,
  };
  const lmtp = createLmtpServer(deps, {
    tls,
    requireTls: cfg.LMTP_REQUIRE_TLS,
    maxMessageBytes: cfg.LMTP_MAX_MESSAGE_BYTES,
    maxConnections: cfg.LMTP_MAX_CONNECTIONS,
    maxConcurrentMails: cfg.LMTP_MAX_CONCURRENT_MAILS,
    maxRecipients: cfg.LMTP_MAX_RECIPIENTS,
    maxConnectionsPerIp: cfg.LMTP_MAX_CONNECTIONS_PER_IP,
    allowUnauthenticated: cfg.LMTP_ALLOW_UNAUTHENTICATED,
    banner: `ready (mailrepo ${version})`,
  });
  const journal = cfg.JOURNAL_SMTP_PORT
    ? createSmtpJournalServer(deps, {
        tls: tls && { cert: tls.cert, key: tls.key },
        requireTls: cfg.JOURNAL_SMTP_REQUIRE_TLS,
        domain: cfg.JOURNAL_DOMAIN,
        hostname: cfg.JOURNAL_SMTP_HOSTNAME,
        maxMessageBytes: cfg.LMTP_MAX_MESSAGE_BYTES,
        maxConnections: cfg.LMTP_MAX_CONNECTIONS,
        maxConcurrentMails: cfg.LMTP_MAX_CONCURRENT_MAILS,
        maxRecipients: cfg.LMTP_MAX_RECIPIENTS,
        maxConnectionsPerIp: cfg.LMTP_MAX_CONNECTIONS_PER_IP,
        senderAuth: { timeoutMs: cfg.SENDER_AUTH_TIMEOUT_MS },
      })
    : undefined;
  const metricsServer = cfg.LMTP_METRICS_PORT
    ? await startMetricsServer(cfg.METRICS_HOST, cfg.LMTP_METRICS_PORT)
    : undefined;
  lmtp.server.listen(cfg.LMTP_PORT, cfg.LMTP_HOST, () =>
    log.info(
      { port: cfg.LMTP_PORT, tls: !!tls, requireTls: cfg.LMTP_REQUIRE_TLS },
      'LMTP listening',
    ),
  );
  journal?.server.listen(cfg.JOURNAL_SMTP_PORT, cfg.JOURNAL_SMTP_HOST, () =>
    log.info(
      { port: cfg.JOURNAL_SMTP_PORT, domain: cfg.JOURNAL_DOMAIN, tls: !!tls },
      'SMTP journaling listening',
    ),
  );
  const stop = () => {
    log.info(
      { inFlight: lmtp.inFlight + (journal?.inFlight ?? 0) },
      'draining: finishing mails in flight',
    );
    // Whatever hangs (a stuck connection pool, say), the process ends after the grace period.
    setTimeout(() => process.exit(1), cfg.LMTP_SHUTDOWN_GRACE_MS + 10_000).unref();
    void Promise.all([
      lmtp.drain(cfg.LMTP_SHUTDOWN_GRACE_MS),
      journal?.drain(cfg.LMTP_SHUTDOWN_GRACE_MS),
    ])
      .then(async () => {
        metricsServer?.close();
        await temporal.connection.close();
        await db.destroy();
        s3.destroy();
      })
      .finally(() => process.exit(0));
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
