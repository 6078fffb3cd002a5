import client from 'prom-client';

/**
 * Every metric mailrepo exports (issue 10 §2), in one place so names and labels stay consistent
 * across processes. Each process registers them in its own registry and serves them on its
 * metrics port (lib/metrics/server.ts); a counter only moves in the process that does the work.
 * Labels are codes, stages and outcomes — never addresses, tenants' names or content.
 */
export const registry = new client.Registry();
client.collectDefaultMetrics({ register: registry, prefix: 'mailrepo_' });
// prom-client names these gauges `…_total`, which Prometheus reserves for counters (promtool
// check metrics fails on them). Nothing alerts on them; the event-loop and heap gauges remain.
for (const gauge of ['active_handles_total', 'active_requests_total', 'active_resources_total'])
  registry.removeSingleMetric(`mailrepo_nodejs_${gauge}`);

const counter = (name: string, help: string, labelNames: string[] = []) =>
  new client.Counter({ name, help, labelNames, registers: [registry] });

export const metrics = {
  mailsReceived: counter('mailrepo_lmtp_mails_received_total', 'Mails received over LMTP'),
  bytesReceived: counter('mailrepo_lmtp_received_bytes_total', 'Bytes of mail received over LMTP'),
  lmtpReplies: counter('mailrepo_lmtp_replies_total', 'LMTP replies per recipient, by code', [
    'code',
  ]),
  journalReplies: counter(
    'mailrepo_journal_smtp_replies_total',
    'SMTP journaling replies, by code (one per transaction after DATA)',
    ['code'],
  ),
  archiveStage: new client.Histogram({
    name: 'mailrepo_archive_stage_seconds',
    help: 'Duration of the stages of archiveMail (store, ledger append, timestamp wait)',
    labelNames: ['stage'],
    buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300],
    registers: [registry],
  }),
  tsaErrors: counter(
    'mailrepo_tsa_errors_total',
    'Failed requests to a timestamp authority, by TSA (host and path)',
    ['tsa'],
  ),
  evidenceRenewals: counter(
    'mailrepo_evidence_renewals_total',
    'RFC 4998 evidence record renewals, by kind (timestamp, hash-tree) and result',
    ['kind', 'result'],
  ),
  integrityFailures: counter(
    'mailrepo_integrity_failures_total',
    'Problems found by integrity checks (objects, ledger, audit chain)',
    ['kind'],
  ),
  integrityRuns: counter('mailrepo_integrity_runs_total', 'Finished integrity checks per tenant'),
  loginFailures: counter('mailrepo_login_failures_total', 'Failed sign-in steps', ['step']),
  rateLimited: counter('mailrepo_rate_limit_hits_total', 'Requests refused by a rate limit', [
    'limit',
  ]),
  exportDuration: new client.Histogram({
    name: 'mailrepo_export_duration_seconds',
    help: 'Duration of finished exports',
    buckets: [1, 5, 15, 60, 300, 900, 3600, 4 * 3600, 24 * 3600],
    registers: [registry],
  }),
  mailsDeleted: counter('mailrepo_retention_mails_deleted_total', 'Mails deleted at retention end'),
  searchCacheRequests: counter(
    'mailrepo_search_cache_requests_total',
    'Reads of decrypted search index blocks in the portal, by result (hit or miss)',
    ['result'],
  ),
  searchCacheEvictions: counter(
    'mailrepo_search_cache_evictions_total',
    'Decrypted search index blocks dropped to stay within the byte budget',
  ),
  searchCacheBytes: new client.Gauge({
    name: 'mailrepo_search_cache_bytes',
    help: 'Bytes of decrypted search index blocks held in the portal process (estimate)',
    registers: [registry],
  }),
};

/** A gauge computed at scrape time (database state: ledger backlog, checkpoint age). */
export function gaugeOnScrape(
  name: string,
  help: string,
  collect: () => Promise<number | undefined>,
): client.Gauge {
  return new client.Gauge({
    name,
    help,
    registers: [registry],
    async collect() {
      const v = await collect().catch(() => undefined);
      // NaN says "could not be measured": an alert on it must not read it as zero.
      this.set(v ?? Number.NaN);
    },
  });
}

/** Times `fn` into the archiveMail stage histogram. */
export async function timeStage<T>(stage: string, fn: () => Promise<T>): Promise<T> {
  const end = metrics.archiveStage.startTimer({ stage });
  try {
    return await fn();
  } finally {
    end();
  }
}
