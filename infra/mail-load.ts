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
