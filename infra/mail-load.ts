import { createHash, randomUUID } from 'node:crypto';
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

/**
 * Sends fresh mails over `connections` connections until `loadMs` is over, retrying every mail
 * that got a 4xx or lost its connection, until each is acknowledged or `retryMs` more have passed.
 */
export async function streamMails(o: {
  port: number;
  rcpt: string;
  label: string;
  loadMs: number;
  retryMs: number;
  connections?: number;
}): Promise<Tally> {
  const tally: Tally = {
    sent: new Set(),
    acknowledged: new Set(),
    tempFailures: 0,
    permFailures: [],
    dropped: 0,
  };
  const retry: Buffer[] = [];
  const loadEnd = Date.now() + o.loadMs;
  const hardEnd = loadEnd + o.retryMs;
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

/** Sealed (ledgered and timestamped) messages among `hashes`, waiting up to `timeoutMs`. */
export async function archivedOf(db: Db, tenantId: string, hashes: Set<string>, timeoutMs: number) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    // Inside the tenant: the service role sees no tenant's messages anywhere else.
    const rows = await withTenant(db, tenantId, (tx) =>
      tx.selectFrom('messages').select(['sha256', 'state']).execute(),
    );
    const mine = rows.filter((r) => hashes.has(r.sha256.toString('hex')));
    const sealed = mine.filter((r) => r.state === 'sealed').length;
    if (sealed >= hashes.size || Date.now() > deadline)
      return {
        archived: sealed,
        entries: mine.length,
        ledgered: mine.filter((r) => r.state !== 'staged' && r.state !== 'stored').length,
      };
    await sleep(1000);
  }
}

/** The line every fault scenario prints. */
export const tallyLine = (what: string, t: Tally, archived: number) =>
  `${what}: sent ${t.sent.size}, acknowledged ${t.acknowledged.size}, archived ${archived}, ` +
  `lost ${t.acknowledged.size - archived} (${t.tempFailures} 4xx replies, ${t.dropped} dropped ` +
  `connections, ${t.permFailures.length} permanent failures)`;
