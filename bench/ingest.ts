import { execFileSync, type ChildProcess } from 'node:child_process';
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
import { emptyWorkflowRate } from './baselines';
import { connectTemporal } from '../lib/temporal/client';
import type { Client } from '@temporalio/client';
import { Readable } from 'node:stream';
import type { S3Client } from '@aws-sdk/client-s3';
import { importWorkflowId, storeImport } from '../application/imports';
import { createS3 } from '../lib/storage/s3';
import { startWorkflow } from '../lib/temporal/start-workflow';

let benchS3: S3Client | undefined;
let benchBucket: string | undefined;
import { freePort, peakRssMiB, spawnApp } from '../infra/processes';

/**
 * `npm run bench:ingest [-- <connections> <seconds>]`: the whole product on free ports, a load
 * generator speaking LMTP over N parallel connections, and the figures issues 6 and 19 ask for —
 * sustained mails/s end to end (LMTP accepted → sealed under a timestamped checkpoint),
 * acknowledgement latency p50/p99 (end of DATA → 250), sealing latency, and CPU-seconds per 1,000
 * mails by process — next to two baselines of the same run: empty Temporal workflows, and the LMTP
 * accept path alone (an LMTP process whose workflows no worker runs). Then a size mix, the same
 * load on two LMTP processes and two workers (scale-out), and the LMTP process's memory.
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
    [/^postgres: /, 'PostgreSQL'],
    [/workers\/dev-tsa\.ts/, 'dev TSA'],
  ];
  const out = new Map<string, number>();
  const processes = execFileSync('ps', ['-eo', 'pid=,args='], { encoding: 'utf8' }).split('\n');
  // Clock ticks from /proc (ps rounds to whole seconds, which loses short-lived backends).
  for (const line of processes) {
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
  // PostgreSQL backends come and go with connections: a backend's time moves from the live ones
  // to the server's finished children when it exits, so both are summed under one name (utime,
  // stime, cutime, cstime of the postmaster), in clock ticks.
  const postmaster = processes
    .find((l) => /bin\/postgres\s+-D/.test(l))
    ?.trim()
    .split(/\s+/)[0];
  if (postmaster) {
    const f = readFileSync(`/proc/${postmaster}/stat`, 'utf8').split(') ')[1]!.split(' ');
    const ticks = [11, 12, 13, 14].reduce((n, i) => n + Number(f[i]), 0);
    out.set('PostgreSQL', (out.get('PostgreSQL') ?? 0) + ticks / 100);
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
  return pid ? peakRssMiB(Number(pid)) : NaN;
}

async function sealedCount(
  db: Db,
  tenantId: string,
): Promise<{ total: number; sealed: number; lastSealed: Date | null }> {
  const r = await db
    .selectFrom('messages')
    .select((e) => [
      e.fn.countAll<string>().as('total'),
      e.fn.count<string>('sealed_at').as('sealed'),
      e.fn.max('sealed_at').as('last'),
    ])
    .where('tenant_id', '=', tenantId)
    .executeTakeFirstOrThrow();
  return { total: Number(r.total), sealed: Number(r.sealed), lastSealed: r.last as Date | null };
}

/** Seconds from acceptance (the row's receipt) to the seal, of the tenant's mails since `from`. */
async function sealingLatencies(db: Db, tenantId: string, from: Date): Promise<number[]> {
  const rows = await db
    .selectFrom('messages')
    .select(['received_at', 'sealed_at'])
    .where('tenant_id', '=', tenantId)
    .where('received_at', '>=', from)
    .where('sealed_at', 'is not', null)
    .execute();
  return rows.map((r) => (r.sealed_at!.getTime() - r.received_at.getTime()) / 1000);
}

interface Target {
  ports: number[];
  tenant: { tenantId: string; rcpt: string };
}

/** Sends for `seconds` over `connections` (spread over the ports); acks and bytes. */
async function load(target: Target, connections: number, seconds: number, size: () => number) {
  const start = Date.now();
  const results = await Promise.all(
    Array.from({ length: connections }, (_, i) =>
      connection(
        target.ports[i % target.ports.length]!,
        target.tenant.rcpt,
        start + seconds * 1000,
        size,
      ),
    ),
  );
  const sentAt = Date.now();
  return {
    start,
    acceptSeconds: (sentAt - start) / 1000,
    acks: results.flatMap((r) => r.acks),
    bytes: results.reduce((n, r) => n + r.bytes, 0),
  };
}

const perThousand = (cpu0: Map<string, number>, cpu1: Map<string, number>, mails: number) =>
  [...cpu1]
    .map(([role, s]) => `${role} ${(((s - (cpu0.get(role) ?? 0)) / mails) * 1000).toFixed(1)}`)
    .join(', ');

/** End to end: sent, acknowledged, sealed; rates, latencies and CPU per 1,000 mails. */
async function run(
  db: Db,
  temporal: Client | undefined,
  target: Target,
  label: string,
  connections: number,
  seconds: number,
  size: () => number,
) {
  const before = await sealedCount(db, target.tenant.tenantId);
  const cpu0 = cpuByProcess();
  const from = new Date();
  const { start, acceptSeconds, acks, bytes } = await load(target, connections, seconds, size);
  const sentAt = Date.now();
  // Wait until every acknowledged mail is sealed (timestamped), or give up after 5 minutes.
  let now = await sealedCount(db, target.tenant.tenantId);
  while (now.sealed - before.sealed < acks.length && Date.now() - sentAt < 300_000) {
    await new Promise((r) => setTimeout(r, 500));
    now = await sealedCount(db, target.tenant.tenantId);
  }
  const cpu1 = cpuByProcess();
  const sealed = now.sealed - before.sealed;
  const endToEnd = ((now.lastSealed?.getTime() ?? Date.now()) - start) / 1000;
  const sealing = await sealingLatencies(db, target.tenant.tenantId, from);
  console.log(
    `${label}: ${connections} connections × ${seconds} s — ${fmt(acks.length)} mails (${(bytes / 1e6).toFixed(1)} MB) acknowledged, ${fmt(acks.length / acceptSeconds)}/s accepted; ` +
      `${fmt(sealed)} sealed, ${(sealed / endToEnd).toFixed(1)} mails/s end to end (LMTP → sealed, ${endToEnd.toFixed(1)} s); ` +
      `ack latency p50 ${percentile(acks, 0.5).toFixed(0)} ms, p99 ${percentile(acks, 0.99).toFixed(0)} ms; ` +
      `sealing latency p50 ${percentile(sealing, 0.5).toFixed(1)} s, p99 ${percentile(sealing, 0.99).toFixed(1)} s ` +
      `(goal for 20 KB: ≥ 100/s end to end, ack p99 < 100 ms, sealing p99 < 15 s)`,
  );
  console.log(`  CPU-seconds per 1,000 mails: ${perThousand(cpu0, cpu1, sealed)}`);
  if (temporal) {
    const { count } = await temporal.workflow.count(
      `WorkflowType = 'archiveBatch' AND TenantId = '${target.tenant.tenantId}' AND StartTime >= '${from.toISOString()}'`,
    );
    console.log(
      `  ${fmt(count)} archive batches, ${(sealed / Math.max(1, count)).toFixed(1)} mails each on average`,
    );
  }
  figure('ingest', `${label}: accepted`, acks.length / acceptSeconds, 'mails/s');
  figure('ingest', `${label}: end to end (LMTP → sealed)`, sealed / endToEnd, 'mails/s');
  figure('ingest', `${label}: ack latency p99`, percentile(acks, 0.99), 'ms');
  figure('ingest', `${label}: sealing latency p99`, percentile(sealing, 0.99), 's');
  return { endToEnd: sealed / endToEnd, lost: acks.length - sealed };
}

/**
 * An MBOX of `count` unique 20 KB mails imported as the portal imports it (stored encrypted, then
 * the importMail workflow): entries per second from the start to the last mail sealed.
 */
async function importRun(db: Db, temporal: Client, taskQueue: string, count: number) {
  const tenant = await newTenant(db, 'Import GmbH');
  const mbox = Buffer.concat(
    Array.from({ length: count }, () => [
      Buffer.from('From import@bench.example Tue Mar 18 10:00:00 2025\r\n'),
      mailOfSize(20_000),
      Buffer.from('\r\n'),
    ]).flat(),
  );
  const importId = randomUUID();
  const start = Date.now();
  const key = await storeImport(
    { db, s3: benchS3!, bucket: benchBucket! },
    { tenantId: tenant.tenantId, userId: tenant.adminUserId, ip: '127.0.0.1' },
    importId,
    Readable.from([mbox]),
    'bench.mbox',
  );
  await startWorkflow(temporal, 'importMail', {
    taskQueue,
    workflowId: importWorkflowId(importId),
    args: [{ tenantId: tenant.tenantId, importId, key: key.toString('base64url') }],
  });
  let now = await sealedCount(db, tenant.tenantId);
  while (now.sealed < count && Date.now() - start < 600_000) {
    await new Promise((r) => setTimeout(r, 500));
    now = await sealedCount(db, tenant.tenantId);
  }
  const seconds = ((now.lastSealed?.getTime() ?? Date.now()) - start) / 1000;
  console.log(
    `import of an MBOX with ${fmt(count)} mails of 20 KB (${(mbox.length / 1e6).toFixed(0)} MB): ${fmt(now.sealed)} sealed in ${seconds.toFixed(1)} s — ${(now.sealed / seconds).toFixed(1)} mails/s end to end`,
  );
  figure('ingest', 'import (MBOX, 20 KB mails): end to end', now.sealed / seconds, 'mails/s');
}

async function newTenant(db: Db, name: string) {
  const slug = name.toLowerCase().replace(/\W/g, '');
  const t = await createTenant(db, {
    name,
    admin: { email: `admin@${slug}.example`, password: randomBytes(12).toString('hex') },
    argon2: { memoryKiB: 8 * 1024, iterations: 1, parallelism: 1 },
  });
  const rcpt = `archiv@${slug}.example`;
  await addIngestAddress(db, t.tenantId, rcpt, { type: 'operator', label: 'bench' });
  return { tenantId: t.tenantId, rcpt, adminUserId: t.adminUserId };
}

async function main(): Promise<void> {
  const connections = Number(process.argv[2] ?? 8);
  const seconds = Number(process.argv[3] ?? 60);
  console.log(`node ${process.version}, ${new Date().toISOString()}; starting the stack…`);
  const running = await startEphemeralStack({
    prefix: 'mailrepo_bench_ingest',
    apps: ['worker', 'lmtp'],
    checkpointIntervalS: 10,
    verbose: process.env.BENCH_VERBOSE === '1',
  });
  const cfg = loadConfig({ ...process.env, ...running.env });
  const appEnv = { ...running.env, LMTP_METRICS_PORT: '0', WORKER_METRICS_PORT: '0' };
  // The benchmark counts sealed mails across tenants: it watches as the administrator.
  const db = createDb(running.env.DATABASE_ADMIN_URL ?? cfg.DATABASE_URL, 4);
  benchS3 = createS3(cfg);
  benchBucket = cfg.S3_BUCKET;
  const extra: ChildProcess[] = [];
  try {
    // Baseline 1: what the stack does per workflow at all.
    const client = await connectTemporal(cfg);
    const empty = await emptyWorkflowRate(client, cfg.TEMPORAL_TASK_QUEUE);
    console.log(
      `baseline: empty Temporal workflow, start to result, 32 concurrent: ${fmt(empty)}/s`,
    );
    figure('ingest', 'baseline: empty Temporal workflow (32 concurrent)', empty, '/s');

    // Baseline 2: the LMTP accept path alone — its workflows start on a queue no worker serves.
    const alonePort = await freePort();
    extra.push(
      await spawnApp(
        'workers/lmtp.ts',
        {
          ...appEnv,
          LMTP_PORT: String(alonePort),
          TEMPORAL_TASK_QUEUE: `bench-alone-${randomUUID()}`,
        },
        alonePort,
      ),
    );
    const alone = await load(
      { ports: [alonePort], tenant: await newTenant(db, 'Nur Annahme GmbH') },
      connections,
      Math.min(seconds, 20),
      () => 20_000,
    );
    extra.pop()!.kill('SIGTERM');
    console.log(
      `baseline: LMTP accept path alone (no worker), 20 KB: ${fmt(alone.acks.length / alone.acceptSeconds)} mails/s accepted, ` +
        `ack p50 ${percentile(alone.acks, 0.5).toFixed(0)} ms, p99 ${percentile(alone.acks, 0.99).toFixed(0)} ms`,
    );
    figure(
      'ingest',
      'baseline: LMTP accept path alone (20 KB)',
      alone.acks.length / alone.acceptSeconds,
      'mails/s',
    );

    const target = { ports: [cfg.LMTP_PORT], tenant: await newTenant(db, 'Last GmbH') };
    const e2e = await run(db, client, target, '20 KB mails', connections, seconds, () => 20_000);
    console.log(
      `  ratio end to end ÷ empty workflows ${(e2e.endToEnd / empty).toFixed(2)}, ÷ LMTP alone ${(e2e.endToEnd / (alone.acks.length / alone.acceptSeconds)).toFixed(2)}; lost ${e2e.lost}`,
    );
    await importRun(db, client, cfg.TEMPORAL_TASK_QUEUE, 3_000);
    if (process.env.BENCH_QUICK !== '1') {
      await run(db, client, target, 'size mix', connections, seconds, mixedSize);
      // Scale-out: a second LMTP process and a second worker on the same queue, the load spread.
      const secondPort = await freePort();
      extra.push(
        await spawnApp('workers/lmtp.ts', { ...appEnv, LMTP_PORT: String(secondPort) }, secondPort),
        await spawnApp('workers/temporal.ts', {
          ...appEnv,
          LEDGER_SCHEDULE_OWNER: 'false',
          TEMPORAL_SDK_METRICS_PORT: '0',
        }),
      );
      await new Promise((r) => setTimeout(r, 5_000)); // the second worker bundles and polls
      await run(
        db,
        client,
        { ports: [cfg.LMTP_PORT, secondPort], tenant: target.tenant },
        '20 KB mails, 2 LMTP + 2 workers',
        connections,
        seconds,
        () => 20_000,
      );
    }
    // Memory: the LMTP worker's peak RSS before and after mails of 30 MB each, one at a time.
    const before = lmtpPeakRss();
    await connection(cfg.LMTP_PORT, target.tenant.rcpt, Date.now() + 600_000, () => 30_000_000, 3);
    console.log(
      `LMTP worker peak RSS: ${before} MiB after the load runs, ${lmtpPeakRss()} MiB after three 30 MB mails`,
    );
    await client.connection.close();
  } finally {
    for (const c of extra) c.kill('SIGTERM');
    await db.destroy();
    benchS3.destroy();
    await running.dispose();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
