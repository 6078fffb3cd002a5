import { DeleteObjectsCommand, type S3Client } from '@aws-sdk/client-s3';
import { subtractDeleted } from '../mail/mail-totals';
import { metrics } from '../metrics/metrics';
import { createHash, randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import { recordAudit } from '../audit/record';
import { canonicalJson } from '../audit/canonical';
import type { Db } from '../db';
import { withTenant, type TenantTx } from '../db/tenant-scope';
import { listClasses } from './classes';
import { addPeriod, DEFAULT_PERIOD } from './periods';

/**
 * The retention sweep's steps (DESIGN §4 crypto-shredding, issue 9 §2). An epoch expires when its
 * newest mail has been kept for its class's period. An expired epoch without held mail is
 * shredded: its sealed private and index keys are erased here and its shred key in the vault, its
 * mails marked deleted, its index segments removed. An expired epoch with held mail keeps its
 * keys; its other mails are deleted one by one (DEK, metadata, envelope, object). Either way a
 * tombstone — the ids and SHA-256 of the deleted mails — goes into the tenant's ledger, so the
 * mails' own ledger entries still verify and the deletion is provable too. Every step is
 * idempotent: the workflow may retry any of them.
 */

export interface ExpiredEpoch {
  epochId: string;
  retentionClass: string;
  month: string;
  mails: number;
  /** Mails held by an active legal hold. */
  held: number;
  /** Mails not deleted yet and not held. */
  deletable: number;
  expiredAt: string;
}

/** Epochs of the tenant whose retention has ended at `now` and that still hold something to delete. */
export async function findExpiredEpochs(
  db: Db,
  tenantId: string,
  now = new Date(),
): Promise<ExpiredEpoch[]> {
  return withTenant(db, tenantId, async (tx) => {
    const classes = await listClasses(tx);
    const rows = await tx
      .selectFrom('epochs as e')
      .leftJoin('messages as m', 'm.epoch_id', 'e.id')
      .select((eb) => [
        'e.id',
        'e.retention_class',
        'e.month',
        'e.created_at',
        eb.fn.max('m.received_at').as('last'),
        eb.fn.count<string>('m.id').as('mails'),
        sql<string>`count(m.id) FILTER (WHERE m.deleted_at IS NULL AND NOT EXISTS (
          SELECT 1 FROM legal_hold_messages hm JOIN legal_holds h ON h.id = hm.hold_id
          WHERE hm.message_id = m.id AND h.released_at IS NULL))`.as('deletable'),
        sql<string>`count(m.id) FILTER (WHERE EXISTS (
          SELECT 1 FROM legal_hold_messages hm JOIN legal_holds h ON h.id = hm.hold_id
          WHERE hm.message_id = m.id AND h.released_at IS NULL))`.as('held'),
      ])
      .where('e.shredded_at', 'is', null)
      .groupBy('e.id')
      .execute();
    const out: ExpiredEpoch[] = [];
    for (const r of rows) {
      const period = classes.find((c) => c.name === r.retention_class) ?? DEFAULT_PERIOD;
      const last = r.last ? new Date(r.last as Date) : r.created_at;
      const expiredAt = addPeriod(last, period);
      if (expiredAt > now) continue;
      const held = Number(r.held);
      const deletable = Number(r.deletable);
      // Held, and every other mail already deleted: nothing to do until the hold is released.
      if (held && !deletable) continue;
      out.push({
        epochId: r.id,
        retentionClass: r.retention_class,
        month: r.month,
        mails: Number(r.mails),
        held,
        deletable,
        expiredAt: expiredAt.toISOString(),
      });
    }
    return out;
  });
}

export interface ShredRecord {
  shredId: string;
  kind: 'epoch' | 'mails';
  messageCount: number;
  /** SHA-256 of the tombstone: the ledger entry. */
  entryHashHex: string;
}

const tombstoneHash = (t: Buffer) => createHash('sha256').update(t).digest('hex');

/** Locks the epoch and re-checks expiry and holds under the lock (the sweep's list may be stale). */
async function lockExpired(tx: TenantTx, tenantId: string, epochId: string, now: Date) {
  const epoch = await tx
    .selectFrom('epochs')
    .select(['id', 'retention_class', 'month', 'shredded_at', 'created_at'])
    .where('id', '=', epochId)
    .forUpdate()
    .executeTakeFirst();
  if (!epoch) throw new Error(`no epoch ${epochId} for tenant ${tenantId}`);
  const last = await tx
    .selectFrom('messages')
    .select((eb) => eb.fn.max('received_at').as('last'))
    .where('epoch_id', '=', epochId)
    .executeTakeFirst();
  const period =
    (await listClasses(tx)).find((c) => c.name === epoch.retention_class) ?? DEFAULT_PERIOD;
  const base = last?.last ? new Date(last.last as Date) : epoch.created_at;
  return { epoch, expired: addPeriod(base, period) <= now };
}

/** Mails of the epoch not deleted yet, with whether an active hold covers each. */
async function liveMails(tx: TenantTx, epochId: string) {
  return tx
    .selectFrom('messages as m')
    .select((eb) => [
      'm.id',
      'm.sha256',
      eb
        .exists(
          eb
            .selectFrom('legal_hold_messages as hm')
            .innerJoin('legal_holds as h', 'h.id', 'hm.hold_id')
            .select('hm.message_id')
            .whereRef('hm.message_id', '=', 'm.id')
            .where('h.released_at', 'is', null),
        )
        .as('held'),
    ])
    .where('m.epoch_id', '=', epochId)
    .where('m.deleted_at', 'is', null)
    .orderBy('m.received_at')
    .orderBy('m.id')
    .execute();
}

/** Marks mails deleted and erases what could decrypt or describe them; records the tombstone. */
async function recordDeletion(
  tx: TenantTx,
  input: {
    tenantId: string;
    epochId: string;
    kind: 'epoch' | 'mails';
    mails: { id: string; sha256: Buffer }[];
    at: Date;
  },
): Promise<ShredRecord> {
  const ids = input.mails.map((m) => m.id);
  const tombstone = Buffer.from(
    canonicalJson({
      type: 'mailrepo-tombstone',
      v: 1,
      tenant: input.tenantId,
      epoch: input.epochId,
      kind: input.kind,
      deletedAt: input.at.toISOString(),
      mails: input.mails.map((m) => ({ id: m.id, sha256: m.sha256.toString('hex') })),
    }),
    'utf8',
  );
  const shredId = randomUUID();
  metrics.mailsDeleted.inc(ids.length);
  await tx
    .insertInto('shreds')
    .values({
      id: shredId,
      tenant_id: input.tenantId,
      epoch_id: input.epochId,
      kind: input.kind,
      message_count: ids.length,
      tombstone,
      ledger_index: null,
      objects_deleted_at: null,
    })
    .execute();
  for (let i = 0; i < ids.length; i += 1000) {
    const chunk = ids.slice(i, i + 1000);
    await subtractDeleted(tx, input.tenantId, chunk);
    await tx
      .updateTable('messages')
      .set({
        deleted_at: input.at,
        sealed_dek: null,
        enc_metadata: null,
        enc_tokens: null,
        enc_extracted: null,
      })
      .where('id', 'in', chunk)
      .execute();
    await tx
      .updateTable('message_receipts')
      .set({ sealed_envelope: null })
      .where('message_id', 'in', chunk)
      .execute();
    await tx.deleteFrom('search_index_queue').where('message_id', 'in', chunk).execute();
    await tx.deleteFrom('search_extract_queue').where('message_id', 'in', chunk).execute();
  }
  return {
    shredId,
    kind: input.kind,
    messageCount: ids.length,
    entryHashHex: tombstoneHash(tombstone),
  };
}

/**
 * Shreds an expired epoch without held mail. Returns undefined when it must not be shredded (not
 * expired any more, or held meanwhile). A retry after success finds the epoch shredded and only
 * makes sure its shred key is gone.
 */
export async function shredEpoch(
  db: Db,
  tenantId: string,
  epochId: string,
  now = new Date(),
): Promise<ShredRecord | undefined> {
  const record = await withTenant(db, tenantId, async (tx) => {
    const { epoch, expired } = await lockExpired(tx, tenantId, epochId, now);
    if (epoch.shredded_at) return 'already' as const;
    if (!expired) return undefined;
    const mails = await liveMails(tx, epochId);
    if (mails.some((m) => m.held)) return undefined;
    const at = new Date();
    const r = await recordDeletion(tx, { tenantId, epochId, kind: 'epoch', mails, at });
    await tx
      .updateTable('epochs')
      .set({ sealed_private_key: null, sealed_index_key: null, shredded_at: at })
      .where('id', '=', epochId)
      .execute();
    await tx.deleteFrom('search_segments').where('epoch_id', '=', epochId).execute();
    await recordAudit(tx, tenantId, {
      action: 'retention.shredded',
      actor: { type: 'system', label: 'retention-sweep' },
      target: { type: 'epoch', id: epochId },
      details: {
        retentionClass: epoch.retention_class,
        month: epoch.month,
        mails: mails.length,
        shredId: r.shredId,
      },
    });
    return r;
  });
  if (record === undefined) return undefined;
  // After the commit: a crash before this line leaves the key for the retry to destroy.
  await db.shredKeys.destroy(tenantId, epochId);
  if (record !== 'already') return record;
  const done = await withTenant(db, tenantId, (tx) =>
    tx
      .selectFrom('shreds')
      .select(['id', 'message_count', 'tombstone'])
      .where('epoch_id', '=', epochId)
      .where('kind', '=', 'epoch')
      .executeTakeFirstOrThrow(),
  );
  return {
    shredId: done.id,
    kind: 'epoch',
    messageCount: done.message_count,
    entryHashHex: tombstoneHash(done.tombstone),
  };
}

/**
 * In an expired epoch that holds held mail: deletes every mail no hold covers. The epoch's keys
 * stay (the held mail needs them) until the last hold in it is released and the sweep shreds it.
 */
export async function deleteExpiredMails(
  db: Db,
  tenantId: string,
  epochId: string,
  now = new Date(),
): Promise<ShredRecord | undefined> {
  return withTenant(db, tenantId, async (tx) => {
    const { epoch, expired } = await lockExpired(tx, tenantId, epochId, now);
    if (epoch.shredded_at || !expired) return undefined;
    const mails = (await liveMails(tx, epochId)).filter((m) => !m.held);
    if (!mails.length) return undefined;
    const r = await recordDeletion(tx, { tenantId, epochId, kind: 'mails', mails, at: new Date() });
    await recordAudit(tx, tenantId, {
      action: 'mail.deleted',
      actor: { type: 'system', label: 'retention-sweep' },
      target: { type: 'epoch', id: epochId },
      details: {
        reason: 'retention',
        retentionClass: epoch.retention_class,
        month: epoch.month,
        mails: mails.length,
        keptUnderHold: true,
        shredId: r.shredId,
      },
    });
    return r;
  });
}

/** Shreds whose tombstone is not in the ledger yet, or whose objects are not deleted yet. */
export async function unfinishedShreds(db: Db, tenantId: string): Promise<ShredRecord[]> {
  const rows = await withTenant(db, tenantId, (tx) =>
    tx
      .selectFrom('shreds')
      .select(['id', 'kind', 'message_count', 'tombstone'])
      .where((eb) => eb.or([eb('ledger_index', 'is', null), eb('objects_deleted_at', 'is', null)]))
      .orderBy('created_at')
      .execute(),
  );
  return rows.map((r) => ({
    shredId: r.id,
    kind: r.kind,
    messageCount: r.message_count,
    entryHashHex: tombstoneHash(r.tombstone),
  }));
}

/** Records the tombstone's ledger index and deletes the shred's objects (missing ones are fine). */
export async function finishShred(
  deps: { db: Db; s3: S3Client; bucket: string },
  tenantId: string,
  shredId: string,
  ledgerIndex: number,
  progress: () => void = () => {},
): Promise<{ objectsDeleted: number }> {
  const shred = await withTenant(deps.db, tenantId, (tx) =>
    tx.selectFrom('shreds').select('tombstone').where('id', '=', shredId).executeTakeFirstOrThrow(),
  );
  const ids = (
    JSON.parse(shred.tombstone.toString('utf8')) as { mails: { id: string }[] }
  ).mails.map((m) => m.id);
  let objectsDeleted = 0;
  for (let i = 0; i < ids.length; i += 500) {
    const rows = await withTenant(deps.db, tenantId, (tx) =>
      tx
        .selectFrom('messages')
        .select(['object_key', 'staging_key'])
        .where('id', 'in', ids.slice(i, i + 500))
        .execute(),
    );
    // Mail received since decision 0020 has one key in both columns.
    const keys = [...new Set(rows.flatMap((r) => [r.object_key, r.staging_key]))].filter(
      (k): k is string => !!k,
    );
    if (!keys.length) continue;
    const res = await deps.s3.send(
      new DeleteObjectsCommand({
        Bucket: deps.bucket,
        Delete: { Objects: keys.map((Key) => ({ Key })), Quiet: true },
      }),
    );
    const failed = (res.Errors ?? []).filter((e) => e.Code !== 'NoSuchKey');
    if (failed.length)
      throw new Error(`deleting objects failed: ${failed[0]!.Code} ${failed[0]!.Message}`);
    objectsDeleted += rows.filter((r) => r.object_key).length;
    progress();
  }
  await withTenant(deps.db, tenantId, (tx) =>
    tx
      .updateTable('shreds')
      .set({ ledger_index: ledgerIndex, objects_deleted_at: new Date() })
      .where('id', '=', shredId)
      .execute(),
  );
  return { objectsDeleted };
}
