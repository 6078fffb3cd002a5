import type { Readable } from 'node:stream';
import type { S3Client } from '@aws-sdk/client-s3';
import { recordAudit } from '../audit/record';
import type { Db } from '../db';
import { withTenant } from '../db/tenant-scope';
import { connectImap, type ImapAccount } from '../import/imap-account';
import { originalBytes } from '../mail/journal-original';
import { openMail } from '../mail/open';
import { BlockCache } from '../search/block-cache';
import { mergeAll } from '../search/index-store';
import { parseQuery } from '../search/query';
import { openIndex } from '../search/tenant-index';
import type { EpochKeyring } from '../vault/epoch-keyring';
import type { TenantKeys } from '../vault/session';

/**
 * Restoring archived mails into an IMAP mailbox (issue 22 §4): the chosen mails are numbered once
 * (a search, or ids checked against what the user may see), then appended in batches with IMAP
 * APPEND, byte for byte as archived (a journal report: the original it carries), with the
 * archive's receipt time as INTERNALDATE. Each batch's
 * decryptions are audited with the UIDs the server gave, in one transaction. A batch that fails
 * midway is redone from its first mail without a UID (the mailbox may then hold one copy twice;
 * nothing is lost).
 */

const RESTORE_CACHE_BYTES = 64 * 1024 * 1024;
/** Mails appended between two saves of the UIDs (and audit events). */
const SAVE_EVERY = 25;

export interface RestoreSelection {
  restoreId: string;
  /** A search (the portal's query language) or explicit ids; a member's mailboxes confine both. */
  query?: string;
  messageIds?: string[];
  mailboxes?: string[];
}

export async function prepareRestore(
  db: Db,
  keys: TenantKeys,
  keyring: Pick<EpochKeyring, 'get'>,
  input: RestoreSelection,
): Promise<number> {
  const tenantId = keys.tenantId;
  const existing = await withTenant(db, tenantId, (tx) =>
    tx
      .selectFrom('restores')
      .select('total')
      .where('id', '=', input.restoreId)
      .executeTakeFirstOrThrow(),
  );
  if (existing.total !== null) return existing.total;
  await mergeAll(db, keys, keyring);
  const index = await openIndex(db, tenantId, keyring, new BlockCache(RESTORE_CACHE_BYTES));
  // Explicit ids count only where the search would show them to this user.
  const visible = await index.ids(parseQuery(input.messageIds ? '' : (input.query ?? '')), {
    sort: 'oldest',
    mailboxes: input.mailboxes,
    everyArrival: !!input.messageIds,
  });
  const wanted = input.messageIds ? new Set(input.messageIds) : undefined;
  const ids = wanted ? visible.filter((id) => wanted.has(id)) : visible;
  await withTenant(db, tenantId, async (tx) => {
    for (let i = 0; i < ids.length; i += 1000)
      await tx
        .insertInto('restore_items')
        .values(
          ids.slice(i, i + 1000).map((message_id, k) => ({
            restore_id: input.restoreId,
            tenant_id: tenantId,
            position: i + k,
            message_id,
            uid: null,
          })),
        )
        .execute();
    await tx
      .updateTable('restores')
      .set({ total: ids.length })
      .where('id', '=', input.restoreId)
      .execute();
  });
  return ids.length;
}

async function collect(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

/** Appends mails `from` ≤ position < `to` not yet restored; returns how many it appended. */
export async function restoreBatch(
  deps: { db: Db; s3: S3Client; bucket: string },
  keyring: Pick<EpochKeyring, 'get'>,
  input: {
    tenantId: string;
    restoreId: string;
    account: ImapAccount;
    folder: string;
    from: number;
    to: number;
  },
  progress: () => void = () => {},
): Promise<number> {
  const { tenantId, restoreId } = input;
  const items = await withTenant(deps.db, tenantId, (tx) =>
    tx
      .selectFrom('restore_items')
      .select(['position', 'message_id'])
      .where('restore_id', '=', restoreId)
      .where('position', '>=', input.from)
      .where('position', '<', input.to)
      .where('uid', 'is', null)
      .orderBy('position')
      .execute(),
  );
  if (!items.length) return 0;
  const client = await connectImap(input.account);
  let appended = 0;
  try {
    const folders = await client.list();
    if (!folders.some((f) => f.path === input.folder)) await client.mailboxCreate(input.folder);
    let pending: { position: number; messageId: string; uid: string | null }[] = [];
    const save = async () => {
      if (!pending.length) return;
      const saved = pending;
      pending = [];
      await withTenant(deps.db, tenantId, async (tx) => {
        for (const p of saved)
          await tx
            .updateTable('restore_items')
            .set({ uid: p.uid ?? '0' })
            .where('restore_id', '=', restoreId)
            .where('position', '=', p.position)
            .execute();
        await tx
          .updateTable('restores')
          .set((eb) => ({ done: eb('done', '+', saved.length) }))
          .where('id', '=', restoreId)
          .execute();
        await recordAudit(tx, tenantId, {
          action: 'restore.mails_decrypted',
          actor: { type: 'system', label: 'restoreMails' },
          target: { type: 'restore', id: restoreId },
          details: { mails: saved.length, messageIds: saved.map((p) => p.messageId) },
        });
      });
      progress();
    };
    for (const item of items) {
      const opened = await openMail(deps, tenantId, keyring, item.message_id);
      if (!opened) continue; // shredded or deleted meanwhile
      // A journal report goes back as the mail it carries: that is what the mailbox held.
      const bytes = await originalBytes(await collect(opened.plain));
      const placed = await client.append(input.folder, bytes, ['\\Seen'], opened.mail.receivedAt);
      pending.push({
        position: item.position,
        messageId: item.message_id,
        uid: placed && placed.uid !== undefined ? String(placed.uid) : null,
      });
      appended++;
      if (pending.length >= SAVE_EVERY) await save();
    }
    await save();
  } finally {
    await client.logout().catch(() => client.close());
  }
  return appended;
}

/** Ends a restore: done, or failed with the reason. */
export async function finishRestore(
  db: Db,
  input: { tenantId: string; restoreId: string; error?: string },
): Promise<void> {
  await withTenant(db, input.tenantId, (tx) =>
    tx
      .updateTable('restores')
      .set({
        status: input.error ? 'failed' : 'done',
        error: input.error?.slice(0, 500) ?? null,
        finished_at: new Date(),
      })
      .where('id', '=', input.restoreId)
      .where('status', '=', 'running')
      .execute(),
  );
}
