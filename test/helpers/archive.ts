import { createHash, randomUUID } from 'node:crypto';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { GetObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import type { Client } from '@temporalio/client';
import { LmtpClient } from '../../infra/lmtp-client';
import type { Config } from '../../lib/config';
import { createDb, type Db } from '../../lib/db';
import { createS3 } from '../../lib/storage/s3';
import { connectTemporal } from '../../lib/temporal/client';
import { withTenant } from '../../lib/db/tenant-scope';
import { addIngestAddress } from '../../lib/ingest/addresses';
import { createTenant, unlock, unlockEpoch } from '../../lib/vault';
import { decryptMail, decryptMailPart } from '../../lib/vault/mail-envelope';
import { FAST_ARGON2 } from './ledger';

/** Tenants with an ingest address, and what the archive holds for a sent mail, decrypted. */

export const PASSWORD = 'ein langes Passwort';
export const sha256 = (b: Buffer) => createHash('sha256').update(b).digest();
export const crlf = (s: string) => Buffer.from(s.replace(/\r?\n/g, '\r\n'), 'utf8');

export const simpleMail = (subject: string, body = 'Anbei die Unterlagen.') =>
  crlf(
    `From: Buchhaltung <buchhaltung@kunde.example>\nTo: Chefin <chefin@kunde.example>\n` +
      `Subject: ${subject}\nMessage-ID: <${randomUUID()}@kunde.example>\n` +
      `Date: Fri, 27 Nov 2026 08:00:00 +0100\n\n${body}\n`,
  );

export interface ArchiveContext {
  db: Db;
  temporal: Client;
  s3: S3Client;
  bucket: string;
}

/** Database, Temporal and S3 clients of a stack; `close` releases all three. */
export async function openArchiveContext(
  cfg: Config,
  poolSize = 4,
): Promise<ArchiveContext & { close(): Promise<void> }> {
  const db = createDb(cfg.DATABASE_URL, poolSize);
  const temporal = await connectTemporal(cfg);
  const s3 = createS3(cfg);
  return {
    db,
    temporal,
    s3,
    bucket: cfg.S3_BUCKET,
    close: async () => {
      await db.destroy();
      await temporal.connection.close();
      s3.destroy();
    },
  };
}

/** `count` simple mails to `address` over LMTP, each acknowledged with 250. */
export async function deliver(port: number, address: string, count: number, label: string) {
  const lmtp = await LmtpClient.connect(port);
  try {
    for (let i = 0; i < count; i++) {
      const d = await lmtp.send(
        simpleMail(`${label} ${i}`, `Inhalt ${randomUUID()}`),
        'journal@mta.example',
        [address],
      );
      if (!d.data[address]?.startsWith('250')) throw new Error(`not accepted: ${d.data[address]}`);
    }
  } finally {
    lmtp.close();
  }
}

export async function archiveTenant(ctx: ArchiveContext, name: string, address: string) {
  const email = `admin@${name.toLowerCase().replace(/\W/g, '')}.example`;
  const t = await createTenant(ctx.db, {
    name,
    admin: { email, password: PASSWORD },
    argon2: FAST_ARGON2,
  });
  await addIngestAddress(ctx.db, t.tenantId, address, { type: 'operator', label: 'test' });
  return { ...t, email };
}

/**
 * Waits until the mail (by its SHA-256) is sealed — archived and covered by a timestamped
 * checkpoint — then decrypts the archived ciphertext with the admin's password.
 */
export async function archived(
  ctx: ArchiveContext,
  tenant: { tenantId: string; email: string },
  mail: Buffer,
  timeoutMs = 90_000,
) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const row = await withTenant(ctx.db, tenant.tenantId, (tx) =>
      tx
        .selectFrom('messages')
        .select(['id', 'state', 'ledger_index'])
        .where('sha256', '=', sha256(mail))
        .executeTakeFirst(),
    );
    if (row?.state === 'sealed') {
      const result = { messageId: row.id, ledgerIndex: Number(row.ledger_index) };
      return { ...(await readArchived(ctx, tenant, row.id)), result };
    }
    if (Date.now() > deadline)
      throw new Error(`mail not sealed within ${timeoutMs} ms (state ${row?.state ?? 'none'})`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** The archive workflow that carried a mail: its archiveBatch, found as ops find it. */
export async function archiveWorkflowOf(client: Client, messageId: string, timeoutMs = 30_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    for await (const wf of client.workflow.list({ query: `MailIds = '${messageId}'` }))
      return client.workflow.getHandle(wf.workflowId);
    if (Date.now() > deadline) throw new Error(`no archive workflow lists mail ${messageId}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** Every sealed mail of the tenant once there are `count` of them (mails we did not hash). */
export async function sealedMessages(
  ctx: ArchiveContext,
  tenant: { tenantId: string; email: string },
  count: number,
  timeoutMs = 60_000,
) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const rows = await withTenant(ctx.db, tenant.tenantId, (tx) =>
      tx.selectFrom('messages').select(['id', 'state']).execute(),
    );
    const sealed = rows.filter((r) => r.state === 'sealed');
    if (sealed.length >= count)
      return Promise.all(sealed.map((r) => readArchived(ctx, tenant, r.id)));
    // Fewer than asked for is a failure, never a shorter list a test might not count.
    if (Date.now() > deadline)
      throw new Error(`only ${sealed.length} of ${count} mails sealed within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 500));
  }
}

/**
 * A mail's ciphertext decrypted as a user would: the admin's password unlocks the keys (from
 * `db`, which may be a copy), the epoch opens, the stream decrypts.
 */
export async function decryptStored(
  db: Db,
  tenant: { tenantId: string; email: string },
  row: { id: string; epoch_id: string; sealed_dek: Buffer | null; body_epoch_id: string | null },
  ciphertext: Readable | Buffer,
) {
  const session = await unlock(db, {
    tenantId: tenant.tenantId,
    email: tenant.email,
    password: PASSWORD,
    argon2: FAST_ARGON2,
  });
  const epoch = await unlockEpoch(db, session, row.epoch_id);
  const out: Buffer[] = [];
  await pipeline(
    Buffer.isBuffer(ciphertext) ? Readable.from([ciphertext]) : ciphertext,
    decryptMail(epoch, tenant.tenantId, row.id, row.sealed_dek!, row.body_epoch_id ?? undefined),
    new Writable({
      write(c: Buffer, _e, cb) {
        out.push(c);
        cb();
      },
    }),
  );
  return { plaintext: Buffer.concat(out), epoch };
}

/** One archived mail, decrypted with the admin's password: plaintext, metadata and tokens. */
export async function readArchived(
  ctx: ArchiveContext,
  tenant: { tenantId: string; email: string },
  messageId: string,
) {
  const { db, s3 } = ctx;
  const row = await withTenant(db, tenant.tenantId, (tx) =>
    tx.selectFrom('messages').selectAll().where('id', '=', messageId).executeTakeFirstOrThrow(),
  );
  const obj = await s3.send(new GetObjectCommand({ Bucket: ctx.bucket, Key: row.object_key! }));
  const { plaintext, epoch } = await decryptStored(db, tenant, row, obj.Body as Readable);
  const part = async (name: 'mail-metadata' | 'mail-tokens', blob: Buffer | null) =>
    JSON.parse(
      (
        await decryptMailPart(epoch, tenant.tenantId, row.id, row.sealed_dek!, name, blob!)
      ).toString(),
    ) as unknown;
  const metadata = (await part('mail-metadata', row.enc_metadata)) as Record<string, unknown>;
  const tokens = (await part('mail-tokens', row.enc_tokens)) as string[];
  return { row, plaintext, metadata, tokens };
}
