import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { ensureBinaries } from '../infra/binaries';
import { startEphemeralStack, type EphemeralStack } from '../infra/ephemeral-stack';
import { archivedOf, sha256Hex, streamMails, tallyLine, type Tally } from '../infra/mail-load';
import { loadConfig } from '../lib/config';
import { createDb, type Db } from '../lib/db';
import { addIngestAddress } from '../lib/ingest/addresses';
import { createS3 } from '../lib/storage/s3';
import { createTenant } from '../lib/vault';
import { withTenant } from '../lib/db/tenant-scope';
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

interface Ctx {
  running: EphemeralStack;
  db: Db;
  tenantId: string;
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
  try {
    const t = await createTenant(db, {
      name: 'Ausfall GmbH',
      admin: { email: 'admin@ausfall.example', password: randomBytes(12).toString('hex') },
      argon2: { memoryKiB: 8 * 1024, iterations: 1, parallelism: 1 },
    });
    await addIngestAddress(db, t.tenantId, RCPT, { type: 'operator', label: 'fault script' });
    return await fn({ running, db, tenantId: t.tenantId, port: Number(running.env.LMTP_PORT) });
  } finally {
    await db.destroy();
    await running.dispose();
  }
}

/** Load for `loadMs`, with `fault` run `afterMs` into it; then everything archived, or not. */
async function underLoad(
  c: Ctx,
  what: string,
  o: { loadMs: number; afterMs: number; retryMs: number; sealMs: number },
  fault: () => Promise<void>,
): Promise<{ tally: Tally; archived: number; lost: number }> {
  const load = streamMails({
    port: c.port,
    rcpt: RCPT,
    label: what,
    loadMs: o.loadMs,
    retryMs: o.retryMs,
  });
  await sleep(o.afterMs);
  await fault();
  const tally = await load;
  const { archived } = await archivedOf(c.db, c.tenantId, tally.acknowledged, o.sealMs);
  console.log(tallyLine(what, tally, archived));
  return { tally, archived, lost: tally.acknowledged.size - archived };
}

export type Verdict = { ok: boolean; lines: string[] };

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
          'MinIO node 4 of 4 killed during ingest',
          { loadMs: 30_000, afterMs: 8_000, retryMs: 60_000, sealMs: 180_000 },
          () => cluster.kill(4),
        );
        const lines: string[] = [];
        const noErrors = r.tally.tempFailures + r.tally.dropped === 0;
        lines.push(`one node down: ${noErrors ? 'no' : 'SOME'} 4xx or dropped connections`);
        await cluster.kill(3);
        const s3 = createS3({ ...cfg, S3_ENDPOINT: cluster.endpoint });
        try {
          const rows = await withTenant(c.db, c.tenantId, (tx) =>
            tx
              .selectFrom('messages')
              .select(['object_key', 'ciphertext_sha256'])
              .where('object_key', 'is not', null)
              .execute(),
          );
          let read = 0;
          for (const row of rows) {
            const o = await s3.send(
              new GetObjectCommand({ Bucket: cfg.S3_BUCKET, Key: row.object_key! }),
            );
            const body = Buffer.from(await o.Body!.transformToByteArray());
            if (sha256Hex(body) === row.ciphertext_sha256.toString('hex')) read++;
          }
          lines.push(`two nodes down: ${read} of ${rows.length} stored mails read back intact`);
          const write = await s3
            .send(new PutObjectCommand({ Bucket: cfg.S3_BUCKET, Key: 'fault/probe', Body: 'x' }))
            .then(
              () => 'accepted',
              (e: Error) => `refused (${e.name}) — below write quorum, LMTP answers 4xx`,
            );
          lines.push(`two nodes down: a write is ${write}`);
          return { ok: r.lost === 0 && noErrors && read === rows.length && rows.length > 0, lines };
        } finally {
          s3.destroy();
        }
      });
    } finally {
      await cluster.stop();
      rmSync(dataDir, { recursive: true, force: true });
    }
  },

  /** PostgreSQL (embedded, so it can be restarted) down for 10 s: 4xx meanwhile, nothing lost. */
  async postgres() {
    return withStack({ embeddedPostgres: true }, async (c) => {
      const r = await underLoad(
        c,
        'PostgreSQL stopped for 10 s during ingest',
        { loadMs: 30_000, afterMs: 8_000, retryMs: 90_000, sealMs: 180_000 },
        async () => {
          await c.running.stack.services.postgres.stop();
          await sleep(10_000);
          await c.running.stack.services.postgres.start();
        },
      );
      const felt = r.tally.tempFailures + r.tally.dropped > 0;
      return {
        ok: r.lost === 0 && felt && r.tally.permFailures.length === 0,
        lines: [`while it was down: ${felt ? '4xx / dropped, retried by the sender' : 'NOT FELT'}`],
      };
    });
  },

  /** The Temporal server restarted during ingest: nothing lost, workflows resume. */
  async temporal() {
    return withStack({}, async (c) => {
      const r = await underLoad(
        c,
        'Temporal server restarted (10 s down) during ingest',
        { loadMs: 30_000, afterMs: 8_000, retryMs: 90_000, sealMs: 180_000 },
        async () => {
          await c.running.stack.services.temporal.stop();
          await sleep(10_000);
          await c.running.stack.services.temporal.start();
        },
      );
      return { ok: r.lost === 0 && r.tally.permFailures.length === 0, lines: [] };
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
      const during = await archivedOf(c.db, c.tenantId, tally.acknowledged, 0);
      const lines = [
        `TSA down: ${tally.acknowledged.size} mails acknowledged; at the end of the outage ` +
          `${during.ledgered} in the ledger, ${during.archived} timestamped`,
      ];
      const back = Date.now();
      await c.running.stack.services.tsa.start();
      const { archived } = await archivedOf(c.db, c.tenantId, tally.acknowledged, 180_000);
      console.log(tallyLine(`TSA down for ${downS} s during ingest`, tally, archived));
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
