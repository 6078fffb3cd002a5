import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { ensureBinaries } from '../infra/binaries';
import { startEphemeralStack, type EphemeralStack } from '../infra/ephemeral-stack';
import {
  archivedOf,
  loadWithFault,
  outage,
  streamMails,
  tallyLine,
  type ArchiveProbe,
  type Tally,
  type Until,
} from '../infra/mail-load';
import { loadConfig } from '../lib/config';
import { createDb } from '../lib/db';
import { addIngestAddress } from '../lib/ingest/addresses';
import { createS3 } from '../lib/storage/s3';
import { createTenant } from '../lib/vault';
import { startMinioCluster } from './minio-cluster';

/**
 * Fault scenarios (issue 10 §4), run by `npm run fault -- <scenario>|all` (fault/run.ts) and, the
 * short ones, by the test suite (test/integration/faults.test.ts). Each runs the product on loopback
 * in a stack of its own, puts mail load on LMTP as an MTA would (4xx and dropped connections are
 * retried), breaks one thing, and prints sent / acknowledged / archived / lost. Exit 1 when an
 * acknowledged mail is lost or the scenario's promise does not hold. Bounded in time: every wait
 * has a deadline; the TSA outage lasts FAULT_TSA_DOWN_S (default 600 s).
 */

const RCPT = 'archiv@ausfall.example';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Ctx extends ArchiveProbe {
  running: EphemeralStack;
  port: number;
}

async function withStack<T>(
  opts: Partial<Parameters<typeof startEphemeralStack>[0]>,
  fn: (c: Ctx) => Promise<T>,
): Promise<T> {
  const running = await startEphemeralStack({
    prefix: 'mailrepo_fault',
    apps: ['worker', 'lmtp'],
    checkpointIntervalS: 2,
    persistTemporal: true,
    ...opts,
  });
  const db = createDb(running.env.DATABASE_URL!, 4);
  const cfg = loadConfig({ ...process.env, ...running.env });
  const s3 = createS3(cfg);
  try {
    const t = await createTenant(db, {
      name: 'Ausfall GmbH',
      admin: { email: 'admin@ausfall.example', password: randomBytes(12).toString('hex') },
      argon2: { memoryKiB: 8 * 1024, iterations: 1, parallelism: 1 },
    });
    await addIngestAddress(db, t.tenantId, RCPT, { type: 'operator', label: 'fault script' });
    return await fn({
      running,
      db,
      tenantId: t.tenantId,
      s3,
      bucket: cfg.S3_BUCKET,
      port: Number(running.env.LMTP_PORT),
    });
  } finally {
    s3.destroy();
    await db.destroy();
    await running.dispose();
  }
}

/**
 * The load with `fault` in its middle (infra/mail-load.ts: it starts once mails flow, the load
 * ends once they flow again after it); then everything archived, or not. `what` names the line.
 */
async function underLoad(
  c: Ctx,
  label: string,
  fault: (until: Until) => Promise<void>,
  what: () => string,
): Promise<{ tally: Tally; archived: number; lost: number }> {
  const { tally, counts, lost } = await loadWithFault(
    { port: c.port, rcpt: RCPT, label, probe: c, sealMs: 180_000 },
    fault,
  );
  console.log(tallyLine(what(), tally, counts));
  return { tally, archived: counts.archived, lost };
}

/** How long a killed service stays down at least (FAULT_DOWN_S, default 10 s): and until felt. */
const minDownMs = () => Number(process.env.FAULT_DOWN_S ?? 10) * 1000;

export type Verdict = { ok: boolean; lines: string[] };

/**
 * An outage's promise: it was felt (4xx or dropped connections, retried), nothing was refused for
 * good, every mail offered was acknowledged in the end, and every acknowledged mail is archived.
 */
function outageVerdict(r: { tally: Tally; lost: number }): Verdict {
  const felt = r.tally.tempFailures + r.tally.dropped > 0;
  const unacknowledged = r.tally.sent.size - r.tally.acknowledged.size;
  return {
    ok: r.lost === 0 && felt && unacknowledged === 0 && r.tally.permFailures.length === 0,
    lines: [
      `while it was down: ${felt ? '4xx / dropped, retried by the sender' : 'NOT FELT'}`,
      `offered but never acknowledged: ${unacknowledged}`,
    ],
  };
}

export const scenarios: Record<string, () => Promise<Verdict>> = {
  /** One of four MinIO nodes killed during ingest: no errors, nothing lost; two: reads work. */
  async 'minio-nodes'() {
    const bins = await ensureBinaries();
    const cfg = loadConfig({ ...process.env, NODE_ENV: 'test' });
    const dataDir = mkdtempSync(path.join(os.tmpdir(), 'mailrepo-minio-cluster-'));
    const cluster = await startMinioCluster({
      bin: bins.minio,
      dataDir,
      accessKey: cfg.S3_ACCESS_KEY,
      secretKey: cfg.S3_SECRET_KEY,
    });
    try {
      return await withStack({ s3Endpoint: cluster.endpoint }, async (c) => {
        const r = await underLoad(
          c,
          'MinIO node',
          () => cluster.kill(4),
          () => 'MinIO node 4 of 4 killed during ingest',
        );
        const lines: string[] = [];
        const noErrors = r.tally.tempFailures + r.tally.dropped === 0;
        lines.push(`one node down: ${noErrors ? 'no' : 'SOME'} 4xx or dropped connections`);
        await cluster.kill(3);
        const twoDown = await archivedOf(c, r.tally.acknowledged, 0);
        const n = r.tally.acknowledged.size;
        lines.push(`two nodes down: ${twoDown.stored} of ${n} stored mails read back intact`);
        const write = await c.s3
          .send(new PutObjectCommand({ Bucket: c.bucket, Key: 'fault/probe', Body: 'x' }))
          .then(
            () => 'accepted',
            (e: Error) => `refused (${e.name}) — below write quorum, LMTP answers 4xx`,
          );
        lines.push(`two nodes down: a write is ${write}`);
        return { ok: r.lost === 0 && noErrors && twoDown.stored === n && n > 0, lines };
      });
    } finally {
      await cluster.stop();
      rmSync(dataDir, { recursive: true, force: true });
    }
  },

  /**
   * PostgreSQL (embedded, so it can be restarted) killed with -9 and down until the senders felt
   * it, FAULT_DOWN_S at least: 4xx meanwhile, every mail offered acknowledged in the end, nothing
   * lost.
   */
  async postgres() {
    return withStack({ embeddedPostgres: true }, async (c) => {
      let downMs = 0;
      const r = await underLoad(
        c,
        'PostgreSQL',
        async (until) => {
          downMs = await outage(c.running.stack.services.postgres, until, minDownMs());
        },
        () => `PostgreSQL killed (-9) for ${Math.round(downMs / 1000)} s during ingest`,
      );
      return outageVerdict(r);
    });
  },

  /** The Temporal server killed (-9) during ingest and started again later: nothing lost. */
  async temporal() {
    return withStack({}, async (c) => {
      let downMs = 0;
      const r = await underLoad(
        c,
        'Temporal',
        async (until) => {
          downMs = await outage(c.running.stack.services.temporal, until, minDownMs());
        },
        () => `Temporal server killed (-9) for ${Math.round(downMs / 1000)} s during ingest`,
      );
      return outageVerdict(r);
    });
  },

  /** The TSA down for FAULT_TSA_DOWN_S: ingest goes on, the backlog is sealed once it returns. */
  async tsa() {
    const downS = Number(process.env.FAULT_TSA_DOWN_S ?? 600);
    return withStack({}, async (c) => {
      await c.running.stack.services.tsa.stop();
      const started = Date.now();
      const tally = await streamMails({
        port: c.port,
        rcpt: RCPT,
        label: 'TSA down',
        loadMs: Math.min(60_000, downS * 1000),
        retryMs: 30_000,
      });
      // The rest of the outage: archiving goes on up to the ledger; nothing gets a timestamp.
      await sleep(Math.max(0, started + downS * 1000 - Date.now()));
      const during = await archivedOf(c, tally.acknowledged, 0);
      const lines = [
        `TSA down: ${tally.acknowledged.size} mails acknowledged; at the end of the outage ` +
          `${during.ledgered} in the ledger, ${during.archived} timestamped`,
      ];
      const back = Date.now();
      await c.running.stack.services.tsa.start();
      const after = await archivedOf(c, tally.acknowledged, 180_000);
      const { archived } = after;
      console.log(tallyLine(`TSA down for ${downS} s during ingest`, tally, after));
      lines.push(
        `backlog of ${tally.acknowledged.size} sealed ${((Date.now() - back) / 1000).toFixed(0)} s after the TSA returned`,
      );
      return {
        ok:
          archived === tally.acknowledged.size &&
          tally.tempFailures === 0 &&
          during.archived === 0 &&
          during.ledgered === tally.acknowledged.size,
        lines,
      };
    });
  },
};
