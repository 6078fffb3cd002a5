import { sql } from 'kysely';
import { recordAudit, type Actor } from '../audit/record';
import type { Db } from '../db';
import { withTenant, type TenantTx } from '../db/tenant-scope';
import type { EpochKeyring } from '../vault/epoch-keyring';
import { epochMonth } from '../vault/epochs';
import type { TenantKeys } from '../vault/session';
import { ingestAddresses } from './indexed-doc';
import type { QueuedMail } from './segment-build';
import { inProcess, type SegmentBuilder } from './segment-build-threads';
import { FORMAT } from './segment-format';
import { SegmentReader } from './segment-reader';
import {
  readAllBlocks,
  SegmentKey,
  openBlock,
  openHeader,
  blockRange,
  storeSegment,
  insertSegment,
  readHeaders,
} from './segment-store';
import { mergeSegments } from './segment-merge';

/**
 * Index maintenance (DESIGN §7, decision 0021), inside an unlocked session or a job under a
 * decryption grant: mails queued at ingest are folded into new encrypted segments of their epoch
 * (metadata and token lists decrypted with the epoch key); segments of an epoch are merged in
 * tiers, eight of a size into one of the next, so a large month is not rewritten on every merge.
 * One merger per tenant at a time (advisory lock); queue rows leave in the transaction that
 * stores their segment, and merged segments in the one that stores the merge, so a crash loses
 * nothing and indexes nothing twice.
 */

/** Mails folded into one segment per merge; bounds a merge transaction's memory and time. */
export const MERGE_BATCH = 2000;
/** Segments of one tier merged into one of the next. */
export const TIER_FACTOR = 8;
/** Segments of this tier and above are never merged (≥ 128,000 mails each). */
export const TOP_TIER = 2;

export const tierOf = (docs: number): number => {
  let tier = 0;
  for (
    let limit = MERGE_BATCH * TIER_FACTOR;
    docs >= limit && tier < TOP_TIER;
    limit *= TIER_FACTOR
  )
    tier++;
  return tier;
};

type Keyring = Pick<EpochKeyring, 'get'>;

const lockIndex = (tx: TenantTx, tenantId: string) =>
  sql`SELECT pg_advisory_xact_lock(hashtext(${`search-index:${tenantId}`}))`.execute(tx);

/** A queued mail whose documents the job has not read yet waits (extract-queue.ts). */
const notWaitingForText = sql<boolean>`NOT EXISTS (
  SELECT 1 FROM search_extract_queue e WHERE e.message_id = q.message_id)`;

/**
 * Folds up to `batch` queued mails per lane of `builder` into segments (one per epoch and batch);
 * returns how many it folded.
 */
export async function mergeQueued(
  db: Db,
  session: TenantKeys,
  keyring: Keyring,
  batch = MERGE_BATCH,
  builder: SegmentBuilder = inProcess,
): Promise<number> {
  const tenantId = session.tenantId;
  const limit = batch * builder.lanes;
  // Epoch keys are opened before the merge transaction (each open is its own transaction): those
  // of the mails next in line, by the queue's time index (not a scan of the whole queue).
  const epochs = await withTenant(db, tenantId, (tx) =>
    tx
      .selectFrom((eb) =>
        eb
          .selectFrom('search_index_queue as q')
          .select('q.message_id')
          .where(notWaitingForText)
          .orderBy('q.queued_at')
          .limit(limit)
          .as('q'),
      )
      .innerJoin('messages as m', 'm.id', 'q.message_id')
      .select('m.epoch_id')
      .distinct()
      .execute(),
  );
  for (const e of epochs) await keyring.get(e.epoch_id);

  const merged = await withTenant(db, tenantId, async (tx) => {
    await lockIndex(tx, tenantId);
    // Segments of the format before 0027: their mails were queued again by the migration.
    await tx.deleteFrom('search_segments').where('format', '<', FORMAT).execute();
    const rows = await tx
      .selectFrom('search_index_queue as q')
      .innerJoin('messages as m', 'm.id', 'q.message_id')
      .select([
        'm.id',
        'm.epoch_id',
        'm.sealed_dek',
        'm.enc_metadata',
        'm.enc_tokens',
        'm.enc_extracted',
        'm.size',
        'm.received_at',
      ])
      // Deleted at retention end before it was merged: its queue entry goes with the mail.
      .where('m.deleted_at', 'is', null)
      .where(notWaitingForText)
      .orderBy('q.queued_at')
      .limit(limit)
      .execute();
    if (!rows.length)
      return { count: 0, epochs: [] as string[], waiting: undefined, closed: new Set<string>() };
    const addresses = await ingestAddresses(
      tx,
      rows.map((r) => r.id),
    );
    // Each epoch's mails in jobs of at most `batch`, built side by side on the builder's lanes.
    const byEpoch = new Map<string, QueuedMail[]>();
    for (const row of rows) {
      let mails = byEpoch.get(row.epoch_id);
      if (!mails) byEpoch.set(row.epoch_id, (mails = []));
      mails.push({
        id: row.id,
        sealedDek: row.sealed_dek!,
        encMetadata: row.enc_metadata!,
        encTokens: row.enc_tokens!,
        encExtracted: row.enc_extracted,
        size: row.size,
        receivedAt: row.received_at,
        ingestAddresses: addresses.get(row.id) ?? [],
      });
    }
    const built = await Promise.all(
      [...byEpoch].flatMap(([epochId, mails]) =>
        Array.from({ length: Math.ceil(mails.length / batch) }, async (_, k) => ({
          epochId,
          segment: await builder.build(
            { tenantId, epochId, mails: mails.slice(k * batch, (k + 1) * batch) },
            await keyring.get(epochId),
          ),
        })),
      ),
    );
    for (const { epochId, segment } of built) await insertSegment(tx, tenantId, epochId, segment);
    await tx
      .deleteFrom('search_index_queue')
      .where(
        'message_id',
        'in',
        rows.map((r) => r.id),
      )
      .execute();
    // The queue runs in time order: a full batch's last epoch likely has more mails waiting.
    const waiting = rows.length === limit ? rows[rows.length - 1]!.epoch_id : undefined;
    const thisMonth = epochMonth(new Date());
    const closed = await tx
      .selectFrom('epochs')
      .select('id')
      .where('id', 'in', [...byEpoch.keys()])
      .where('month', '<', thisMonth)
      .execute();
    return {
      count: rows.length,
      epochs: [...byEpoch.keys()],
      waiting,
      closed: new Set(closed.map((e) => e.id)),
    };
  });
  for (const epochId of merged.epochs)
    await compactEpoch(db, session, keyring, epochId, {
      settle: merged.closed.has(epochId) && epochId !== merged.waiting,
    });
  return merged.count;
}

/** A stored segment read whole, block by block, with no cache (merging). */
async function readStored(
  db: Db,
  tenantId: string,
  epochId: string,
  indexKey: Uint8Array,
  id: string,
  sealedHeader: Buffer,
): Promise<SegmentReader> {
  const key = new SegmentKey(indexKey, tenantId, epochId, id);
  const header = openHeader(key, sealedHeader);
  const blocks = await readAllBlocks(db, tenantId, id);
  if (!blocks) throw new Error(`segment ${id} vanished while merging`);
  return new SegmentReader(id, epochId, header, {
    block: async (n, parse) => {
      const { offset, length } = blockRange(header, n);
      return parse(openBlock(key, n, blocks.subarray(offset, offset + length)));
    },
  });
}

/**
 * Merges segments of `epochId` tier by tier: while a tier below TOP_TIER holds TIER_FACTOR
 * segments, its oldest TIER_FACTOR become one (mails deleted at retention end left out). With
 * `settle` — the epoch's month is over and no more of its mails wait in the queue — all its
 * segments below TOP_TIER become one: a past month is then one segment per 128,000 mails or so,
 * which every query visits once instead of up to fourteen times. Returns how many merges it made.
 */
export async function compactEpoch(
  db: Db,
  session: TenantKeys,
  keyring: Keyring,
  epochId: string,
  options: { settle?: boolean } = {},
): Promise<number> {
  const tenantId = session.tenantId;
  const epoch = await keyring.get(epochId);
  let merges = 0;
  for (;;) {
    const done = await withTenant(db, tenantId, async (tx) => {
      await lockIndex(tx, tenantId);
      const segments = await tx
        .selectFrom('search_segments')
        .select(['id', 'doc_count'])
        .where('epoch_id', '=', epochId)
        .where('format', '=', FORMAT)
        .orderBy('created_at')
        .orderBy('id')
        .execute();
      let chosen: typeof segments | undefined;
      for (let tier = 0; tier < TOP_TIER && !chosen; tier++) {
        const inTier = segments.filter((s) => tierOf(s.doc_count) === tier);
        if (inTier.length >= TIER_FACTOR) chosen = inTier.slice(0, TIER_FACTOR);
      }
      const below = segments.filter((s) => tierOf(s.doc_count) < TOP_TIER);
      if (!chosen && options.settle && below.length > 1) chosen = below;
      if (!chosen) return true;
      const headers = await readHeaders(
        db,
        tenantId,
        chosen.map((s) => s.id),
      );
      const parts = await Promise.all(
        chosen.map((s) =>
          readStored(db, tenantId, epochId, epoch.indexKey, s.id, headers.get(s.id)!),
        ),
      );
      const deleted = new Set(
        (
          await tx
            .selectFrom('messages')
            .select('id')
            .where('epoch_id', '=', epochId)
            .where('deleted_at', 'is not', null)
            .execute()
        ).map((r) => r.id),
      );
      await storeSegment(
        tx,
        tenantId,
        epochId,
        epoch.indexKey,
        await mergeSegments(parts, deleted),
      );
      await tx
        .deleteFrom('search_segments')
        .where(
          'id',
          'in',
          chosen.map((s) => s.id),
        )
        .execute();
      return false;
    });
    if (done) return merges;
    merges++;
  }
}

/** How many of the tenant's mails wait to be merged into the index. */
export function queuedForIndex(db: Db, tenantId: string): Promise<number> {
  return withTenant(db, tenantId, queuedIndexCount);
}

/**
 * Rebuilds the tenant's index from its mails (issue 20's backfill): every segment goes, every live
 * archived mail is queued again, and those whose documents were never read wait for the index
 * job to read them first (mails without any cost it one metadata decryption). Queued by receipt
 * time, so the job rebuilds month by month; the archive list says how many are pending. Needs no
 * key: the work happens when a session or job holds a grant. Audited with the count.
 */
export async function rebuildIndex(db: Db, tenantId: string, actor: Actor): Promise<number> {
  return withTenant(db, tenantId, async (tx) => {
    await lockIndex(tx, tenantId);
    await tx.deleteFrom('search_segments').execute();
    const queued = await sql<{ n: number }>`
      WITH q AS (
        INSERT INTO search_index_queue (message_id, tenant_id, queued_at)
        SELECT id, tenant_id, received_at FROM messages
         WHERE deleted_at IS NULL AND state IN ('ledgered', 'sealed')
        ON CONFLICT (message_id) DO NOTHING RETURNING 1)
      SELECT count(*)::int AS n FROM q`.execute(tx);
    await sql`INSERT INTO search_extract_queue (message_id, tenant_id, queued_at)
      SELECT id, tenant_id, received_at FROM messages
       WHERE deleted_at IS NULL AND enc_extracted IS NULL
      ON CONFLICT (message_id) DO NOTHING`.execute(tx);
    const total = await queuedIndexCount(tx);
    await recordAudit(tx, tenantId, {
      action: 'search.rebuilt',
      actor,
      target: { type: 'tenant', id: tenantId },
      details: { mails: total, requeued: queued.rows[0]!.n },
    });
    return total;
  });
}

const queuedIndexCount = async (tx: TenantTx) =>
  Number(
    (
      await tx
        .selectFrom('search_index_queue')
        .select((eb) => eb.fn.countAll<string>().as('n'))
        .executeTakeFirstOrThrow()
    ).n,
  );

/**
 * The index job's backlog (the jobs page): mails waiting to enter the index, and how many of those
 * (or of mails still being archived) wait for their documents to be read first.
 */
export async function indexBacklog(
  db: Db,
  tenantId: string,
): Promise<{ queued: number; extracting: number }> {
  return withTenant(db, tenantId, async (tx) => ({
    queued: await queuedIndexCount(tx),
    extracting: Number(
      (
        await tx
          .selectFrom('search_extract_queue')
          .select((eb) => eb.fn.countAll<string>().as('n'))
          .executeTakeFirstOrThrow()
      ).n,
    ),
  }));
}

/** Merges everything queued (the portal without Temporal, jobs, tests). */
export async function mergeAll(db: Db, session: TenantKeys, keyring: Keyring): Promise<number> {
  let total = 0;
  for (let n; (n = await mergeQueued(db, session, keyring)) > 0;) total += n;
  return total;
}
