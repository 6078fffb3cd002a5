import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { startEphemeralStack, type EphemeralStack } from '../../infra/ephemeral-stack';
import { LmtpClient } from '../../infra/lmtp-client';
import type { BackingService } from '../../infra/stack';
import { createDb, type Db } from '../../lib/db';
import { addIngestAddress } from '../../lib/ingest/addresses';
import { createTenant } from '../../lib/vault';
import { FAST_ARGON2 } from '../helpers/ledger';

/**
 * Issue 6, fault tests: the Temporal server, then MinIO, is stopped while mails stream in over
 * LMTP and started again. A stack of its own (its Temporal persisted in SQLite, so a restarted
 * server still knows its workflows) lets the test stop services without disturbing the others.
 * The senders behave like an MTA: a 4xx reply or a dropped connection means "try again later".
 */

const RCPT = 'archiv@ausfall.example';
const CONNECTIONS = 4;
let running: EphemeralStack;
let db: Db;
let lmtpPort: number;

beforeAll(async () => {
  running = await startEphemeralStack({
    prefix: 'mailrepo_outage',
    apps: ['worker', 'lmtp'],
    checkpointIntervalS: 2,
    persistTemporal: true,
  });
  db = createDb(running.env.DATABASE_URL!, 4);
  lmtpPort = Number(running.env.LMTP_PORT);
  const t = await createTenant(db, {
    name: 'Ausfall GmbH',
    admin: { email: 'admin@ausfall.example', password: randomBytes(12).toString('hex') },
    argon2: FAST_ARGON2,
  });
  await addIngestAddress(db, t.tenantId, RCPT, { type: 'operator', label: 'fault test' });
}, 180_000);

afterAll(async () => {
  await db?.destroy();
  await running?.dispose();
}, 60_000);

const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function mail(label: string): Buffer {
  return Buffer.from(
    `From: Buchhaltung <buchhaltung@ausfall.example>\r\nTo: Bank <bank@example.org>\r\n` +
      `Subject: ${label} ${randomUUID()}\r\nMessage-ID: <${randomUUID()}@ausfall.example>\r\n` +
      `Date: ${new Date().toUTCString()}\r\nMIME-Version: 1.0\r\n` +
      `Content-Type: text/plain; charset=utf-8\r\n\r\n` +
      `${'Zahlungsavis für Rechnung 2026-1187, fällig am 15. Dezember. '.repeat(40)}\r\n`,
  );
}

interface Tally {
  sent: Set<string>;
  acknowledged: Set<string>;
  tempFailures: number;
  permFailures: string[];
  dropped: number;
}

/**
 * Sends fresh mails over `CONNECTIONS` connections until `loadMs` is over, retrying every mail that
 * got a 4xx or lost its connection, until each is acknowledged or `retryMs` more have passed.
 */
async function streamMails(label: string, loadMs: number, retryMs: number): Promise<Tally> {
  const tally: Tally = {
    sent: new Set(),
    acknowledged: new Set(),
    tempFailures: 0,
    permFailures: [],
    dropped: 0,
  };
  const retry: Buffer[] = [];
  const loadEnd = Date.now() + loadMs;
  const hardEnd = loadEnd + retryMs;
  const sender = async () => {
    let client: LmtpClient | undefined;
    for (;;) {
      const now = Date.now();
      const next = retry.shift() ?? (now < loadEnd ? mail(label) : undefined);
      if (!next || now > hardEnd) {
        if (next) retry.push(next);
        break;
      }
      tally.sent.add(sha256(next));
      try {
        client ??= await LmtpClient.connect(lmtpPort, '127.0.0.1', 'mta.ausfall.example');
        const r = await client.send(next, 'journal@ausfall.example', [RCPT]);
        const reply = r.data[RCPT] ?? r.rcpt[RCPT] ?? r.mail;
        if (reply.startsWith('250')) tally.acknowledged.add(sha256(next));
        else if (reply.startsWith('4')) {
          tally.tempFailures++;
          retry.push(next);
          await sleep(500);
        } else tally.permFailures.push(reply);
      } catch {
        // A dropped connection: no reply means not accepted; the MTA tries again.
        tally.dropped++;
        client = undefined;
        retry.push(next);
        await sleep(500);
      }
    }
    client?.close();
  };
  await Promise.all(Array.from({ length: CONNECTIONS }, sender));
  return tally;
}

/** Sealed (ledgered and timestamped) messages among `hashes`, waiting up to `timeoutMs`. */
async function archivedOf(hashes: Set<string>, timeoutMs: number) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const rows = await db.selectFrom('messages').select(['sha256', 'state']).execute();
    const sealed = rows.filter((r) => r.state === 'sealed' && hashes.has(r.sha256.toString('hex')));
    const entries = rows.filter((r) => hashes.has(r.sha256.toString('hex'))).length;
    if (sealed.length >= hashes.size || Date.now() > deadline)
      return { archived: sealed.length, entries };
    await sleep(1000);
  }
}

async function outage(service: BackingService, label: string) {
  const load = streamMails(label, 24_000, 90_000);
  await sleep(6_000);
  await running.stack.services[service].stop();
  await sleep(10_000);
  await running.stack.services[service].start();
  const tally = await load;
  const { archived, entries } = await archivedOf(tally.acknowledged, 180_000);
  const lost = tally.acknowledged.size - archived;
  console.log(
    `${service} stopped for 10 s during ingest: sent ${tally.sent.size}, acknowledged ` +
      `${tally.acknowledged.size}, archived ${archived}, lost ${lost} ` +
      `(${tally.tempFailures} 4xx replies and ${tally.dropped} dropped connections while it was down, all retried)`,
  );
  return { tally, archived, entries, lost };
}

describe('backing services stopped during ingest', () => {
  it.each([
    ['temporal', 'Temporal-Ausfall'],
    ['minio', 'MinIO-Ausfall'],
  ] as const)(
    '%s: 4xx while it is down, every acknowledged mail archived once after it returns',
    async (service, label) => {
      const { tally, archived, entries, lost } = await outage(service, label);
      // The outage was felt (mails were refused with 4xx) and nothing was refused for good.
      expect(tally.tempFailures + tally.dropped).toBeGreaterThan(0);
      expect(tally.permFailures).toEqual([]);
      // Every mail the senders offered was eventually acknowledged, and none is lost.
      expect(tally.acknowledged.size).toBe(tally.sent.size);
      expect(lost).toBe(0);
      expect(archived).toBe(tally.acknowledged.size);
      // One archive entry per mail, however often it was offered.
      expect(entries).toBe(tally.acknowledged.size);
    },
    420_000,
  );
});
