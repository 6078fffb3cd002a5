import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { archiveTenant, deliver, openArchiveContext, sealedMessages } from '../helpers/archive';
import { promtool } from '../helpers/promtool';
import { stackConfig } from '../helpers/stack-env';

/**
 * Issue 10 §2: every process of the running stack serves Prometheus metrics on its own port, the
 * worker also the Temporal SDK's; the alert rules pass `promtool check rules`, and every metric
 * they name is one the processes really export.
 */

const cfg = stackConfig();
const ALERTS = path.join(__dirname, '../../infra/prometheus/alerts.yml');

const scrape = async (port: number) => {
  const res = await fetch(`http://127.0.0.1:${port}/metrics`);
  expect(res.status).toBe(200);
  return res.text();
};

/** The value of one sample line (`name{labels} value`), or undefined. */
const sample = (text: string, name: string, labels = ''): number | undefined => {
  const line = text
    .split('\n')
    .find((l) => l.startsWith(`${name}${labels ? `{${labels}` : ''}`) && !l.startsWith('#'));
  return line === undefined ? undefined : Number(line.split(' ').pop());
};

describe('metrics and alerts', () => {
  it('validates the alert rules with promtool', () => {
    const r = spawnSync(promtool(), ['check', 'rules', ALERTS], { encoding: 'utf8' });
    expect(`${r.stdout}${r.stderr}`).toMatch(/SUCCESS: \d+ rules found/);
    expect(r.status).toBe(0);
  });

  it('exports what the alerts need from LMTP, worker, portal and the Temporal SDK', async () => {
    const ctx = await openArchiveContext(cfg);
    try {
      const t = await archiveTenant(ctx, 'Metrik GmbH', 'archiv@metrik.example');
      await deliver(cfg.LMTP_PORT, 'archiv@metrik.example', 2, 'Metrik');
      expect(await sealedMessages(ctx, t, 2)).toHaveLength(2);
    } finally {
      await ctx.close();
    }
    const lmtp = await scrape(cfg.LMTP_METRICS_PORT);
    const worker = await scrape(cfg.WORKER_METRICS_PORT);
    const portal = await scrape(cfg.WEB_METRICS_PORT);
    const sdk = await scrape(cfg.TEMPORAL_SDK_METRICS_PORT);

    expect(sample(lmtp, 'mailrepo_lmtp_mails_received_total')).toBeGreaterThanOrEqual(2);
    expect(sample(lmtp, 'mailrepo_lmtp_received_bytes_total')).toBeGreaterThan(0);
    expect(sample(lmtp, 'mailrepo_lmtp_replies_total', 'code="250"')).toBeGreaterThanOrEqual(2);
    expect(sample(worker, 'mailrepo_archive_stage_seconds_count', 'stage="store"')).toBeGreaterThan(
      0,
    );
    expect(
      sample(worker, 'mailrepo_archive_stage_seconds_count', 'stage="received_to_sealed"'),
    ).toBeGreaterThan(0);
    const age = sample(worker, 'mailrepo_ledger_checkpoint_age_seconds')!;
    expect(age).toBeGreaterThanOrEqual(0);
    expect(age).toBeLessThan(600);
    expect(sample(worker, 'mailrepo_archive_backlog')).toBeGreaterThanOrEqual(0);
    // Each of the two dev TSAs has timestamped an anchor checkpoint (decision 0030).
    const tsaAges = worker
      .split('\n')
      .filter((l) => l.startsWith('mailrepo_tsa_newest_timestamp_age_seconds{'));
    expect(tsaAges).toHaveLength(2);
    for (const l of tsaAges) expect(Number(l.split(' ').pop())).toBeLessThan(600);
    expect(sample(worker, 'mailrepo_evidence_renewal_late')).toBe(0);
    expect(sample(portal, 'mailrepo_process_cpu_user_seconds_total')).toBeGreaterThan(0);
    expect(sdk).toMatch(/^temporal_workflow_task_schedule_to_start_latency_bucket/m);

    // Well-formed exposition text, by Prometheus's own linter.
    // promtool prints lint problems on stdout and exits 3 (1 for unparsable text): both must be
    // clean, not only stderr.
    for (const [name, text] of Object.entries({ lmtp, worker, portal })) {
      const r = spawnSync(promtool(), ['check', 'metrics'], { input: text, encoding: 'utf8' });
      expect({ name, status: r.status, out: `${r.stdout}${r.stderr}`.trim() }).toEqual({
        name,
        status: 0,
        out: '',
      });
    }

    // Every metric an alert names exists in some process's output.
    const exported = `${lmtp}\n${worker}\n${portal}\n${sdk}`;
    const named = new Set(
      readFileSync(ALERTS, 'utf8').match(/\b(mailrepo|temporal)_[a-z_]+\b/g) ?? [],
    );
    expect(named.size).toBeGreaterThan(5);
    for (const name of named)
      expect({
        name,
        found:
          new RegExp(`^# (TYPE|HELP) ${name.replace(/_(bucket|count|sum)$/, '')} `, 'm').test(
            exported,
          ) || new RegExp(`^${name}[ {]`, 'm').test(exported),
      }).toEqual({ name, found: true });
  }, 120_000);
});
