import { randomBytes } from 'node:crypto';
import { startEphemeralStack, type EphemeralStack } from '../../infra/ephemeral-stack';
import type { S3Client } from '@aws-sdk/client-s3';
import { loadWithFault, outage, tallyLine } from '../../infra/mail-load';
import type { BackingService } from '../../infra/stack';
import { loadConfig } from '../../lib/config';
import { createDb, type Db } from '../../lib/db';
import { addIngestAddress } from '../../lib/ingest/addresses';
import { createS3 } from '../../lib/storage/s3';
import { createTenant } from '../../lib/vault';
import { FAST_ARGON2 } from '../helpers/ledger';

/**
 * Issue 6, fault tests: the Temporal server, then MinIO, is killed (-9, as in a crash) while mails
 * stream in over LMTP and started again once the senders have felt it (infra/mail-load.ts). A stack of its own (its Temporal persisted in SQLite, so a restarted
 * server still knows its workflows) lets the test stop services without disturbing the others.
 * The senders behave like an MTA: a 4xx reply or a dropped connection means "try again later".
 */

const RCPT = 'archiv@ausfall.example';
let running: EphemeralStack;
let db: Db;
let s3: S3Client;
let bucket: string;
let tenantId: string;
let lmtpPort: number;

beforeAll(async () => {
  running = await startEphemeralStack({
    prefix: 'mailrepo_outage',
    apps: ['worker', 'lmtp'],
    checkpointIntervalS: 2,
    persistTemporal: true,
  });
  db = createDb(running.env.DATABASE_URL!, 4);
  const cfg = loadConfig({ ...process.env, ...running.env });
  s3 = createS3(cfg);
  bucket = cfg.S3_BUCKET;
  lmtpPort = Number(running.env.LMTP_PORT);
  const t = await createTenant(db, {
    name: 'Ausfall GmbH',
    admin: { email: 'admin@ausfall.example', password: randomBytes(12).toString('hex') },
    argon2: FAST_ARGON2,
  });
  await addIngestAddress(db, t.tenantId, RCPT, { type: 'operator', label: 'fault test' });
  tenantId = t.tenantId;
}, 180_000);

afterAll(async () => {
  s3?.destroy();
  await db?.destroy();
  await running?.dispose();
}, 60_000);

async function outageDuringIngest(service: BackingService, label: string) {
  let downS = 0;
  const { tally, counts, lost } = await loadWithFault(
    { port: lmtpPort, rcpt: RCPT, label, probe: { db, tenantId, s3, bucket }, sealMs: 180_000 },
    async (until) => {
      downS = (await outage(running.stack.services[service], until, 3_000)) / 1000;
    },
  );
  // The figures first, so a failing run says what it lost.
  console.log(
    tallyLine(`${service} killed (-9) for ${downS.toFixed(0)} s during ingest`, tally, counts),
  );
  return { tally, ...counts, lost };
}

describe('backing services killed during ingest', () => {
  it.each([
    ['temporal', 'Temporal-Ausfall'],
    ['minio', 'MinIO-Ausfall'],
  ] as const)(
    '%s: 4xx while it is down, every acknowledged mail archived once after it returns',
    async (service, label) => {
      const { tally, archived, sealed, stored, entries, lost } = await outageDuringIngest(
        service,
        label,
      );
      // The outage was felt (mails were refused with 4xx) and nothing was refused for good.
      expect(tally.tempFailures + tally.dropped).toBeGreaterThan(0);
      expect(tally.permFailures).toEqual([]);
      // Every mail the senders offered was eventually acknowledged, and none is lost.
      expect(tally.acknowledged.size).toBe(tally.sent.size);
      expect(lost).toBe(0);
      // Counted twice: sealed in the database, and the ciphertext intact in the object store.
      expect(sealed).toBe(tally.acknowledged.size);
      expect(stored).toBe(tally.acknowledged.size);
      expect(archived).toBe(tally.acknowledged.size);
      // One archive entry per mail, however often it was offered.
      expect(entries).toBe(tally.acknowledged.size);
    },
    420_000,
  );
});
