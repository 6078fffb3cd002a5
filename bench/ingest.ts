import { execFileSync } from 'node:child_process';
import { figure } from './report';
import { randomBytes, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { startEphemeralStack } from '../infra/ephemeral-stack';
import { LmtpClient } from '../infra/lmtp-client';
import { loadConfig } from '../lib/config';
import { createDb, type Db } from '../lib/db';
import { addIngestAddress } from '../lib/ingest/addresses';
import { createTenant } from '../lib/vault';
import { fmt, percentile } from './measure';

/**
 * `npm run bench:ingest [-- <connections> <seconds>]`: the whole product on free ports, a load
 * generator speaking LMTP over N parallel connections, and the figures issue 6 asks for —
 * sustained mails/s end to end (LMTP accepted → archiveMail sealed), acknowledgement latency
 * p50/p99 (end of DATA → 250), and CPU per process. Two runs: 20 KB mails, then a size mix.
 */

function mailOfSize(bytes: number): Buffer {
  const head =
    `From: Vertrieb <vertrieb@kunde.example>\r\nTo: Einkauf <einkauf@lieferant.example>\r\n` +
    `Subject: Angebot ${randomUUID()}\r\nMessage-ID: <${randomUUID()}@kunde.example>\r\n` +
    `Date: ${new Date().toUTCString()}\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n`;
  const words =
    'Sehr geehrte Damen und Herren anbei unser Angebot für die Lieferung im Dezember '.repeat(
      Math.ceil(bytes / 80),
    );
  const body = words.slice(0, Math.max(0, bytes - head.length)).replace(/(.{72})/g, '$1\r\n');
  return Buffer.from(`${head}${body}\r\n`);
}

/** A realistic mix: mostly small mails, some with attachments, a few large ones. */
function mixedSize(): number {
  const r = Math.random();
  if (r < 0.6) return 4_000 + Math.floor(Math.random() * 20_000);
  if (r < 0.9) return 30_000 + Math.floor(Math.random() * 200_000);
  if (r < 0.98) return 300_000 + Math.floor(Math.random() * 1_500_000);
  return 3_000_000 + Math.floor(Math.random() * 5_000_000);
}

/** One LMTP connection sending mails back to back until `until`; returns ack latencies (ms). */
async function connection(
  port: number,
  rcpt: string,
  until: number,
  size: () => number,
  maxMails = Infinity,
) {
  const client = await LmtpClient.connect(port, '127.0.0.1', 'bench.example');
  const acks: number[] = [];
  let bytes = 0;
  while (Date.now() < until && acks.length < maxMails) {
    const mail = mailOfSize(size());
    const r = await client.send(mail, 'journal@kunde.example', [rcpt]);
    if (!r.data[rcpt]?.startsWith('250')) throw new Error(`not accepted: ${JSON.stringify(r)}`);
    acks.push(r.ackMs!);
    bytes += mail.length;
  }
  client.close();
  return { acks, bytes };
}

/** CPU seconds so far of the stack's processes, by role (from ps). */
function cpuByProcess(): Map<string, number> {
  const roles: [RegExp, string][] = [
    [/workers\/lmtp\.ts/, 'LMTP worker'],
    [/workers\/temporal\.ts/, 'Temporal worker'],
    [/temporal.*server start-dev/, 'Temporal server'],
    [/minio\S* server /, 'MinIO'],
    [/^postgres: /, 'PostgreSQL backends'],
    [/workers\/dev-tsa\.ts/, 'dev TSA'],
  ];
  const out = new Map<string, number>();
  // Clock ticks from /proc (ps rounds to whole seconds, which loses short-lived backends).
  for (const line of execFileSync('ps', ['-eo', 'pid=,args='], { encoding: 'utf8' }).split('\n')) {
    const m = /^\s*(\d+)\s+(.*)$/.exec(line);
    if (!m) continue;
    const role = roles.find(([re]) => re.test(m[2]!))?.[1];
    if (!role) continue;
    try {
      const f = readFileSync(`/proc/${m[1]}/stat`, 'utf8').split(') ')[1]!.split(' ');
      out.set(role, (out.get(role) ?? 0) + (Number(f[11]) + Number(f[12])) / 100);
    } catch {
      // The process ended between ps and the read.
    }
  }
  // PostgreSQL backends come and go with connections: count the server's own time and that of
  // its finished children (utime, stime, cutime, cstime of the postmaster), in clock ticks.
  const postmaster = execFileSync('ps', ['-eo', 'pid=,args='], { encoding: 'utf8' })
    .split('\n')
    .find((l) => /bin\/postgres\s+-D/.test(l))
    ?.trim()
    .split(/\s+/)[0];
  if (postmaster) {
    const f = readFileSync(`/proc/${postmaster}/stat`, 'utf8').split(') ')[1]!.split(' ');
    const ticks = [11, 12, 13, 14].reduce((n, i) => n + Number(f[i]), 0);
    out.set('PostgreSQL (server, exited backends)', ticks / 100);
  }
  return out;
}

/** Peak resident memory (VmHWM) of the LMTP worker process, MiB. */
function lmtpPeakRss(): number {
  // The youngest LMTP worker is this benchmark's.
  const pid = execFileSync('ps', ['-eo', 'pid=,etimes=,args='], { encoding: 'utf8' })
    .split('\n')
    .filter((l) => /workers\/lmtp\.ts/.test(l))
    .map((l) => l.trim().split(/\s+/))
    .sort((a, b) => Number(a[1]) - Number(b[1]))[0]?.[0];
  if (!pid) return NaN;
  const status = execFileSync('cat', [`/proc/${pid}/status`], { encoding: 'utf8' });
  return Math.round(Number(/VmHWM:\s+(\d+)/.exec(status)?.[1] ?? NaN) / 1024);
}

async function sealedCount(
  db: Db,
): Promise<{ total: number; sealed: number; lastSealed: Date | null }> {
  const r = await db
    .selectFrom('messages')
    .select((e) => [
      e.fn.countAll<string>().as('total'),
      e.fn.count<string>('sealed_at').as('sealed'),
      e.fn.max('sealed_at').as('last'),
    ])
    .executeTakeFirstOrThrow();
  return { total: Number(r.total), sealed: Number(r.sealed), lastSealed: r.last as Date | null };
}

async function run(
  db: Db,
  port: number,
  tenant: { rcpt: string },
  label: string,
  connections: number,
  seconds: number,
  size: () => number,
) {
  const before = await sealedCount(db);
  const cpu0 = cpuByProcess();
  const start = Date.now();
  const results = await Promise.all(
    Array.from({ length: connections }, () =>
      connection(port, tenant.rcpt, start + seconds * 1000, size),
    ),
  );
  const sentAt = Date.now();
  const acks = results.flatMap((r) => r.acks);
  const bytes = results.reduce((n, r) => n + r.bytes, 0);
  // Wait until every acknowledged mail is sealed (timestamped), or give up after 5 minutes.
  let now = await sealedCount(db);
  while (now.sealed - before.sealed < acks.length && Date.now() - sentAt < 300_000) {
    await new Promise((r) => setTimeout(r, 500));
    now = await sealedCount(db);
  }
  const cpu1 = cpuByProcess();
  const sealed = now.sealed - before.sealed;
  const endToEnd = ((now.lastSealed?.getTime() ?? Date.now()) - start) / 1000;
  console.log(
    `${label}: ${connections} connections × ${seconds} s — ${fmt(acks.length)} mails (${(bytes / 1e6).toFixed(1)} MB) acknowledged, ${fmt(acks.length / ((sentAt - start) / 1000))}/s accepted; ` +
      `${fmt(sealed)} sealed, ${(sealed / endToEnd).toFixed(1)} mails/s end to end (LMTP → sealed, ${endToEnd.toFixed(1)} s); ` +
      `ack latency p50 ${percentile(acks, 0.5).toFixed(0)} ms, p99 ${percentile(acks, 0.99).toFixed(0)} ms (goal for 20 KB: ≥ 50/s, p99 < 250 ms)`,
  );
  figure('ingest', `${label}: accepted`, acks.length / ((sentAt - start) / 1000), 'mails/s');
  figure('ingest', `${label}: end to end (LMTP → sealed)`, sealed / endToEnd, 'mails/s');
  figure('ingest', `${label}: ack latency p99`, percentile(acks, 0.99), 'ms');
  const wall = (Date.now() - start) / 1000;
  console.log(
    `  CPU over ${wall.toFixed(0)} s (share of one core): ` +
      [...cpu1]
        .map(([role, s]) => `${role} ${(((s - (cpu0.get(role) ?? 0)) / wall) * 100).toFixed(0)}%`)
        .join(', '),
  );
}

async function main(): Promise<void> {
  const connections = Number(process.argv[2] ?? 8);
  const seconds = Number(process.argv[3] ?? 30);
  console.log(`node ${process.version}, ${new Date().toISOString()}; starting the stack…`);
  const running = await startEphemeralStack({
    prefix: 'mailrepo_bench_ingest',
    apps: ['worker', 'lmtp'],
    checkpointIntervalS: 10,
    verbose: process.env.BENCH_VERBOSE === '1',
  });
  const cfg = loadConfig({ ...process.env, ...running.env });
  // The benchmark counts every sealed mail across the database: it watches as the administrator.
  const db = createDb(running.env.DATABASE_ADMIN_URL ?? cfg.DATABASE_URL, 4);
  try {
    const t = await createTenant(db, {
      name: 'Last GmbH',
      admin: { email: 'admin@last.example', password: randomBytes(12).toString('hex') },
      argon2: { memoryKiB: 8 * 1024, iterations: 1, parallelism: 1 },
    });
    const rcpt = 'archiv@last.example';
    await addIngestAddress(db, t.tenantId, rcpt, { type: 'operator', label: 'bench' });
    await run(db, cfg.LMTP_PORT, { rcpt }, '20 KB mails', connections, seconds, () => 20_000);
    if (process.env.BENCH_QUICK !== '1')
      await run(db, cfg.LMTP_PORT, { rcpt }, 'size mix', connections, seconds, mixedSize);
    // Memory: the LMTP worker's peak RSS before and after mails of 30 MB each, one at a time.
    const before = lmtpPeakRss();
    await connection(cfg.LMTP_PORT, rcpt, Date.now() + 600_000, () => 30_000_000, 3);
    console.log(
      `LMTP worker peak RSS: ${before} MiB after the load runs, ${lmtpPeakRss()} MiB after three 30 MB mails`,
    );
  } finally {
    await db.destroy();
    await running.dispose();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
