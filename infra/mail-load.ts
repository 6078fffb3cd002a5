import { createHash, randomUUID } from 'node:crypto';
import { GetObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import type { Db } from '../lib/db';
import { withTenant } from '../lib/db/tenant-scope';
import { LmtpClient } from './lmtp-client';

/**
 * Mail load as an MTA produces it, for fault tests and scripts: fresh mails over several LMTP
 * connections; a 4xx reply or a dropped connection means "try again later", so the mail is
 * offered again until acknowledged or the retry window ends. The tally says what happened.
 */

export interface Tally {
  sent: Set<string>;
  acknowledged: Set<string>;
  tempFailures: number;
  permFailures: string[];
  dropped: number;
}

export const sha256Hex = (b: Buffer) => createHash('sha256').update(b).digest('hex');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export function loadMail(label: string, domain = 'ausfall.example'): Buffer {
  return Buffer.from(
    `From: Buchhaltung <buchhaltung@${domain}>\r\nTo: Bank <bank@example.org>\r\n` +
      `Subject: ${label} ${randomUUID()}\r\nMessage-ID: <${randomUUID()}@${domain}>\r\n` +
      `Date: ${new Date().toUTCString()}\r\nMIME-Version: 1.0\r\n` +
      `Content-Type: text/plain; charset=utf-8\r\n\r\n` +
      `${'Zahlungsavis für Rechnung 2026-1187, fällig am 15. Dezember. '.repeat(40)}\r\n`,
  );
}

export const newTally = (): Tally => ({
  sent: new Set(),
  acknowledged: new Set(),
  tempFailures: 0,
  permFailures: [],
  dropped: 0,
});

/**
 * Sends fresh mails over `connections` connections until `loadMs` is over (or `stop` aborts),
 * retrying every mail that got a 4xx or lost its connection, until each is acknowledged or
 * `retryMs` more have passed. `tally`, when given, is filled as it goes, for a caller that acts on
 * what happens (a fault test that kills a service once mails flow).
 */
export async function streamMails(o: {
  port: number;
  rcpt: string;
  label: string;
  loadMs: number;
  retryMs: number;
  connections?: number;
  tally?: Tally;
  stop?: AbortSignal;
}): Promise<Tally> {
  const tally = o.tally ?? newTally();
  const retry: Buffer[] = [];
  let loadEnd = Date.now() + o.loadMs;
  let hardEnd = loadEnd + o.retryMs;
  o.stop?.addEventListener('abort', () => {
    loadEnd = Math.min(loadEnd, Date.now());
    hardEnd = loadEnd + o.retryMs;
  });
  const sender = async () => {
    let client: LmtpClient | undefined;
    for (;;) {
      const now = Date.now();
      const next = retry.shift() ?? (now < loadEnd ? loadMail(o.label) : undefined);
      if (!next || now > hardEnd) {
        if (next) retry.push(next);
        break;
      }
      tally.sent.add(sha256Hex(next));
      try {
        client ??= await LmtpClient.connect(o.port, '127.0.0.1', 'mta.ausfall.example');
        const r = await client.send(next, 'journal@ausfall.example', [o.rcpt]);
        const reply = r.data[o.rcpt] ?? r.rcpt[o.rcpt] ?? r.mail;
        if (reply.startsWith('250')) tally.acknowledged.add(sha256Hex(next));
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
  await Promise.all(Array.from({ length: o.connections ?? 4 }, sender));
  return tally;
}

/** Where a load's mails are counted: the tenant in the database and the bucket in the object store. */
export interface ArchiveProbe {
  db: Db;
  tenantId: string;
  s3: S3Client;
  bucket: string;
}

/**
 * What became of `hashes` (the acknowledged mails), waiting up to `timeoutMs` for them to be
 * sealed. A mail counts as archived only when the database has it sealed (ledgered and
 * timestamped) *and* its ciphertext reads back from the object store with the hash the database
 * recorded: a sealed row whose object is missing, short or changed is a lost mail.
 */
export async function archivedOf(p: ArchiveProbe, hashes: Set<string>, timeoutMs: number) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    // Inside the tenant: the service role sees no tenant's messages anywhere else.
    const rows = await withTenant(p.db, p.tenantId, (tx) =>
      tx
        .selectFrom('messages')
        .select(['sha256', 'state', 'object_key', 'ciphertext_sha256'])
        .execute(),
    );
    const mine = rows.filter((r) => hashes.has(r.sha256.toString('hex')));
    const sealed = mine.filter((r) => r.state === 'sealed');
    if (sealed.length >= hashes.size || Date.now() > deadline) {
      const intact = await intactInStore(p, mine);
      return {
        archived: sealed.filter((r) => intact.has(r)).length,
        sealed: sealed.length,
        stored: intact.size,
        entries: mine.length,
        ledgered: mine.filter((r) => r.state !== 'staged' && r.state !== 'stored').length,
      };
    }
    await sleep(1000);
  }
}

/** The rows whose object exists and hashes to the ciphertext hash the database holds. */
async function intactInStore<R extends { object_key: string | null; ciphertext_sha256: Buffer }>(
  p: ArchiveProbe,
  rows: R[],
): Promise<Set<R>> {
  const intact = new Set<R>();
  const queue = rows.filter((r) => r.object_key);
  const reader = async () => {
    for (let r = queue.shift(); r; r = queue.shift()) {
      const body = await p.s3
        .send(new GetObjectCommand({ Bucket: p.bucket, Key: r.object_key! }))
        .then(async (o) => Buffer.from(await o.Body!.transformToByteArray()))
        .catch((e: { name?: string }) => {
          if (e.name === 'NoSuchKey') return undefined;
          throw e;
        });
      if (body && sha256Hex(body) === r.ciphertext_sha256.toString('hex')) intact.add(r);
    }
  };
  await Promise.all(Array.from({ length: 8 }, reader));
  return intact;
}

/** The line every fault scenario prints: before any assertion, so a failing run says what it lost. */
export const tallyLine = (
  what: string,
  t: Tally,
  a: { archived: number; sealed: number; stored: number },
) =>
  `${what}: sent ${t.sent.size}, acknowledged ${t.acknowledged.size}, sealed in the database ` +
  `${a.sealed}, intact in the object store ${a.stored}, archived ${a.archived}, ` +
  `lost ${t.acknowledged.size - a.archived} (${t.tempFailures} 4xx replies, ${t.dropped} dropped ` +
  `connections, ${t.permFailures.length} permanent failures)`;

/** Waits until the live tally says `ok` (polled; fails after `timeoutMs`). */
export type Until = (what: string, ok: (t: Tally) => boolean) => Promise<void>;

/**
 * Mail load with a fault in its middle, driven by what the senders see rather than by timers:
 * the fault starts once 20 mails are acknowledged, and the load ends once 20 more are after it
 * (so ingest demonstrably works again); then every acknowledged mail is counted as archived or
 * lost, waiting up to `sealMs`. `fault` may wait on the tally itself (an outage lasts until felt).
 */
export async function loadWithFault(
  o: { port: number; rcpt: string; label: string; probe: ArchiveProbe; sealMs: number },
  fault: (until: Until) => Promise<void>,
) {
  const tally = newTally();
  const stop = new AbortController();
  const load = streamMails({
    port: o.port,
    rcpt: o.rcpt,
    label: o.label,
    loadMs: 300_000,
    retryMs: 90_000,
    tally,
    stop: stop.signal,
  });
  const until: Until = async (what, ok) => {
    const deadline = Date.now() + 120_000;
    while (!ok(tally)) {
      if (Date.now() > deadline) throw new Error(`load "${o.label}": ${what} did not happen`);
      await sleep(100);
    }
  };
  try {
    await until('mails flowing', (t) => t.acknowledged.size >= 20);
    await fault(until);
    const before = tally.acknowledged.size;
    await until('mails flowing after the fault', (t) => t.acknowledged.size >= before + 20);
  } finally {
    stop.abort();
  }
  await load;
  const counts = await archivedOf(o.probe, tally.acknowledged, o.sealMs);
  return { tally, counts, lost: tally.acknowledged.size - counts.archived };
}

/**
 * A service killed (-9) and started again once the senders have felt it (a dozen refusals or
 * dropped connections), and not before `minDownMs`. Returns how long it was down.
 */
export async function outage(
  service: { kill(): Promise<void>; start(): Promise<void> },
  until: Until,
  minDownMs = 0,
): Promise<number> {
  const killedAt = Date.now();
  let felt = 0;
  await until('the service answering', (t) => ((felt = t.tempFailures + t.dropped), true));
  await service.kill();
  await until('the outage felt', (t) => t.tempFailures + t.dropped >= felt + 12);
  await sleep(Math.max(0, killedAt + minDownMs - Date.now()));
  const downMs = Date.now() - killedAt;
  await service.start();
  return downMs;
}
