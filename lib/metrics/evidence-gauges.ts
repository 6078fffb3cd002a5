import client from 'prom-client';
import { sql } from 'kysely';
import type { Db } from '../db';
import { tsaLabel } from '../tsa/label';
import { gaugeOnScrape, registry } from './metrics';

/**
 * What the alerts on evidence watch (issue 23, infra/prometheus/alerts.yml): records whose renewal
 * is late — due for more than a week, their TSA certificate ending within the window — and, per
 * configured TSA, the age of its newest timestamp of an anchor checkpoint (a TSA that stopped
 * answering shows here while the other keeps sealing).
 */
export function registerEvidenceGauges(db: Db, opts: { windowDays: number; tsaUrls: string[] }) {
  gaugeOnScrape(
    'mailrepo_evidence_renewal_late',
    'Evidence records due for renewal for more than 7 days (their TSA certificate ends soon)',
    async () => {
      const r = await sql<{ v: string }>`
        SELECT count(*) AS v FROM anchor_evidence
         WHERE expires_at < now() + make_interval(days => ${opts.windowDays - 7})`.execute(db);
      return Number(r.rows[0]?.v ?? 0);
    },
  );
  new client.Gauge({
    name: 'mailrepo_tsa_newest_timestamp_age_seconds',
    help: "Age of each configured TSA's newest timestamp of an anchor checkpoint",
    labelNames: ['tsa'],
    registers: [registry],
    async collect() {
      const r = await sql<{ tsa_url: string; age: string | null }>`
        SELECT u AS tsa_url, extract(epoch FROM now() - (
                 SELECT max(first_gen_time) FROM anchor_evidence WHERE tsa_url = u)) AS age
          FROM unnest(${opts.tsaUrls}::text[]) AS u`
        .execute(db)
        .catch(() => ({ rows: [] as { tsa_url: string; age: string | null }[] }));
      this.reset();
      for (const url of opts.tsaUrls) {
        const row = r.rows.find((x) => x.tsa_url === url);
        this.set({ tsa: tsaLabel(url) }, row?.age != null ? Number(row.age) : Number.NaN);
      }
    },
  });
}
