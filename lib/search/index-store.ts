import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import { decryptBuffer, encryptBuffer } from '../crypto/stream';
import type { Db } from '../db';
import { withTenant, type TenantTx } from '../db/tenant-scope';
import type { MailMetadata } from '../ingest/mime-metadata';
import { bind } from '../crypto/bindings';
import type { EpochKeyring } from '../vault/epoch-keyring';
import { decryptMailPart } from '../vault/mail-envelope';
import type { TenantKeys } from '../vault/session';
import { SearchIndex } from './engine';
import {
  concatSegments,
  decodeSegment,
  encodeSegment,
  type IndexedDoc,
  type SegmentInput,
} from './segment';

/**
 * Index maintenance and loading (DESIGN §7), both inside an unlocked session: mails queued at
 * ingest are folded into new encrypted segments of their epoch (metadata and token lists decrypted
 * with the epoch key, which only an unlocked session can open); an epoch with too many segments is
 * merged into one. One merger per tenant at a time (advisory lock); the queue rows leave in the
 * transaction that stores their segment, so a crash loses nothing and indexes nothing twice.
 */

/** Mails folded into one segment per merge; bounds a merge transaction's memory and time. */
export const MERGE_BATCH = 2000;
/** An epoch with more segments than this is merged into one. */
export const MAX_SEGMENTS_PER_EPOCH = 6;

type Keyring = Pick<EpochKeyring, 'get'>;

/** A mail's entry in the index, from its metadata (also used to match legal holds at ingest). */
export function indexedDoc(
  id: string,
  row: { size: string | number | bigint; received_at: Date },
  meta: MailMetadata & {
    envelope?: { rcptTo?: string[]; imported?: { originalReceivedAt?: string } };
  },
  ingestAddresses: string[],
): IndexedDoc {
  const header = [...meta.from, ...meta.to, ...meta.cc, ...meta.bcc].map((a) => a.address);
  const envelope = (meta.envelope?.rcptTo ?? []).map((a) => a.toLowerCase());
  const importedAt = meta.envelope?.imported?.originalReceivedAt;
  const original = importedAt ? Date.parse(importedAt) || undefined : undefined;
  return {
    id,
    receivedAt: row.received_at.getTime(),
    size: Number(row.size),
    from: meta.from,
    to: meta.to,
    cc: meta.cc,
    bcc: meta.bcc,
    subject: meta.subject,
    date: meta.date,
    attachments: meta.attachments.map((a) => ({ name: a.filename, size: a.size })),
    // Addresses only: an import's pseudo-recipient ("import") is no mailbox.
    mailboxes: [...new Set([...header, ...envelope, ...ingestAddresses])].filter((a) =>
      a.includes('@'),
    ),
    ...(meta.parseError ? { parseError: meta.parseError } : {}),
    ...(original ? { originalReceivedAt: original } : {}),
  };
}

const lockIndex = (tx: TenantTx, tenantId: string) =>
  sql`SELECT pg_advisory_xact_lock(hashtext(${`search-index:${tenantId}`}))`.execute(tx);

async function storeSegment(
  tx: TenantTx,
  tenantId: string,
  epochId: string,
  indexKey: Buffer,
  plain: Buffer,
  docCount: number,
): Promise<void> {
  const id = randomUUID();
  await tx
    .insertInto('search_segments')
    .values({
      id,
      tenant_id: tenantId,
      epoch_id: epochId,
      doc_count: docCount,
      enc_segment: await encryptBuffer(indexKey, bind.indexSegment(tenantId, epochId, id), plain),
    })
    .execute();
}

/** Folds up to MERGE_BATCH queued mails into segments; returns how many it folded. */
export async function mergeQueued(
  db: Db,
  session: TenantKeys,
  keyring: Keyring,
  batch = MERGE_BATCH,
): Promise<number> {
  const tenantId = session.tenantId;
  // Epoch keys are opened before the merge transaction (each open is its own transaction).
  const epochs = await withTenant(db, tenantId, (tx) =>
    tx
      .selectFrom('search_index_queue as q')
      .innerJoin('messages as m', 'm.id', 'q.message_id')
      .select('m.epoch_id')
      .distinct()
      .execute(),
  );
  for (const e of epochs) await keyring.get(e.epoch_id);

  const merged = await withTenant(db, tenantId, async (tx) => {
    await lockIndex(tx, tenantId);
    const rows = await tx
      .selectFrom('search_index_queue as q')
      .innerJoin('messages as m', 'm.id', 'q.message_id')
      .select([
        'm.id',
        'm.epoch_id',
        'm.sealed_dek',
        'm.enc_metadata',
        'm.enc_tokens',
        'm.size',
        'm.received_at',
      ])
      // Deleted at retention end before it was merged: its queue entry goes with the mail.
      .where('m.deleted_at', 'is', null)
      .orderBy('q.queued_at')
      .limit(batch)
      .execute();
    if (!rows.length) return { count: 0, epochs: [] as string[] };
    const receipts = await tx
      .selectFrom('message_receipts')
      .select(['message_id', 'ingest_address'])
      .where(
        'message_id',
        'in',
        rows.map((r) => r.id),
      )
      .execute();
    const byEpoch = new Map<string, SegmentInput[]>();
    for (const row of rows) {
      const epoch = await keyring.get(row.epoch_id);
      const open = (part: 'mail-metadata' | 'mail-tokens', blob: Buffer | null) =>
        decryptMailPart(epoch, tenantId, row.id, row.sealed_dek!, part, blob!);
      const meta = JSON.parse((await open('mail-metadata', row.enc_metadata)).toString('utf8'));
      const tokens = JSON.parse((await open('mail-tokens', row.enc_tokens)).toString('utf8'));
      const addresses = receipts
        .filter((r) => r.message_id === row.id)
        .map((r) => r.ingest_address.toLowerCase());
      const list = byEpoch.get(row.epoch_id) ?? [];
      list.push({ doc: indexedDoc(row.id, row, meta as MailMetadata, addresses), tokens });
      byEpoch.set(row.epoch_id, list);
    }
    for (const [epochId, inputs] of byEpoch) {
      const epoch = await keyring.get(epochId);
      await storeSegment(
        tx,
        tenantId,
        epochId,
        epoch.indexKey,
        encodeSegment(inputs),
        inputs.length,
      );
    }
    await tx
      .deleteFrom('search_index_queue')
      .where(
        'message_id',
        'in',
        rows.map((r) => r.id),
      )
      .execute();
    return { count: rows.length, epochs: [...byEpoch.keys()] };
  });
  for (const epochId of merged.epochs) await compactEpoch(db, session, keyring, epochId);
  return merged.count;
}

/** Merges an epoch's segments into one once there are more than MAX_SEGMENTS_PER_EPOCH. */
export async function compactEpoch(
  db: Db,
  session: TenantKeys,
  keyring: Keyring,
  epochId: string,
  max = MAX_SEGMENTS_PER_EPOCH,
): Promise<boolean> {
  const epoch = await keyring.get(epochId);
  return withTenant(db, session.tenantId, async (tx) => {
    await lockIndex(tx, session.tenantId);
    const segments = await tx
      .selectFrom('search_segments')
      .select(['id', 'enc_segment', 'doc_count'])
      .where('epoch_id', '=', epochId)
      .orderBy('created_at')
      .orderBy('id')
      .execute();
    if (segments.length <= max) return false;
    const decoded = await Promise.all(
      segments.map(async (s) =>
        decodeSegment(
          await decryptBuffer(
            epoch.indexKey,
            bind.indexSegment(session.tenantId, epochId, s.id),
            s.enc_segment,
          ),
        ),
      ),
    );
    const docCount = segments.reduce((n, s) => n + s.doc_count, 0);
    await storeSegment(
      tx,
      session.tenantId,
      epochId,
      epoch.indexKey,
      concatSegments(decoded),
      docCount,
    );
    await tx
      .deleteFrom('search_segments')
      .where(
        'id',
        'in',
        segments.map((s) => s.id),
      )
      .execute();
    return true;
  });
}

/**
 * The session's index, brought up to date: queued mails are merged first (unless the
 * maintenance workflow does it: `merge: false`), then segments not yet
 * in `current` are decrypted and added. When segments were replaced (merged elsewhere) or
 * removed (shredded), the index is rebuilt from scratch.
 */
export async function loadIndex(
  db: Db,
  session: TenantKeys,
  keyring: Keyring,
  current?: SearchIndex,
  options: { merge?: boolean } = {},
): Promise<SearchIndex> {
  if (options.merge ?? true) while ((await mergeQueued(db, session, keyring)) === MERGE_BATCH);
  const rows = await withTenant(db, session.tenantId, (tx) =>
    tx
      .selectFrom('search_segments as s')
      .innerJoin('epochs as e', 'e.id', 's.epoch_id')
      .select(['s.id', 's.epoch_id'])
      .where('e.sealed_index_key', 'is not', null)
      .orderBy('s.created_at')
      .orderBy('s.id')
      .execute(),
  );
  const live = new Set(rows.map((r) => r.id));
  const index =
    current && current.segmentIds.every((id) => live.has(id)) ? current : new SearchIndex();
  const loaded = new Set(index.segmentIds);
  const missing = rows.filter((r) => !loaded.has(r.id));
  for (let i = 0; i < missing.length; i += 16) {
    const chunk = missing.slice(i, i + 16);
    const blobs = await withTenant(db, session.tenantId, (tx) =>
      tx
        .selectFrom('search_segments')
        .select(['id', 'enc_segment'])
        .where(
          'id',
          'in',
          chunk.map((r) => r.id),
        )
        .execute(),
    );
    for (const r of chunk) {
      const blob = blobs.find((b) => b.id === r.id);
      if (!blob) return loadIndex(db, session, keyring, undefined, options); // merged away: start over
      const epoch = await keyring.get(r.epoch_id);
      index.add(
        r.id,
        decodeSegment(
          await decryptBuffer(
            epoch.indexKey,
            bind.indexSegment(session.tenantId, r.epoch_id, r.id),
            blob.enc_segment,
          ),
        ),
      );
    }
  }
  const deleted = await withTenant(db, session.tenantId, (tx) =>
    tx
      .selectFrom('messages as m')
      .innerJoin('epochs as e', 'e.id', 'm.epoch_id')
      .select('m.id')
      .where('m.deleted_at', 'is not', null)
      .where('e.shredded_at', 'is', null)
      .execute(),
  );
  index.hide(deleted.map((r) => r.id));
  return index;
}

/** How many of the tenant's mails wait to be merged into the index. */
export async function queuedForIndex(db: Db, tenantId: string): Promise<number> {
  const r = await withTenant(db, tenantId, (tx) =>
    tx
      .selectFrom('search_index_queue')
      .select((eb) => eb.fn.countAll<string>().as('n'))
      .executeTakeFirstOrThrow(),
  );
  return Number(r.n);
}
