import { sql } from 'kysely';
import type { Db } from '../db';
import { gaugeOnScrape } from './metrics';

/**
 * Gauges read from the database when Prometheus scrapes the worker: what the alert rules watch
 * (infra/prometheus/alerts.yml) — mail not yet timestamped, the age of the newest timestamp, and
 * the archiving backlog. Counts over all tenants, no tenant named (archive_gauges(), a SECURITY
 * DEFINER lookup: the service role itself reads no tenant's messages).
 */
export function registerArchiveGauges(db: Db): void {
  const one = async (query: ReturnType<typeof sql<{ v: number | string | null }>>) => {
    const r = await query.execute(db);
    const v = r.rows[0]?.v;
    return v === null || v === undefined ? undefined : Number(v);
  };
  gaugeOnScrape(
    'mailrepo_ledger_pending_entries',
    'Archived mails in the ledger but not yet covered by a timestamped checkpoint',
    () => one(sql`SELECT ledger_pending AS v FROM archive_gauges()`),
  );
  gaugeOnScrape(
    'mailrepo_ledger_checkpoint_age_seconds',
    'Age of the newest RFC 3161-timestamped anchor checkpoint',
    () =>
      one(sql`SELECT extract(epoch FROM now() - max(tsa_gen_time)) AS v
              FROM ledger_checkpoints WHERE tenant_id IS NULL AND tsa_gen_time IS NOT NULL`),
  );
  gaugeOnScrape(
    'mailrepo_archive_backlog',
    'Mails received but not yet stored and in the ledger (archiveMail workflows in progress)',
    () => one(sql`SELECT backlog AS v FROM archive_gauges()`),
  );
  gaugeOnScrape(
    'mailrepo_archive_oldest_pending_seconds',
    'Age of the oldest mail whose archiveMail workflow has not reached the ledger',
    () => one(sql`SELECT oldest_pending_seconds AS v FROM archive_gauges()`),
  );
}
