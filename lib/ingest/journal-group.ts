import { sql } from 'kysely';
import type { TenantTx } from '../db/tenant-scope';

/**
 * The logical mail a new arrival belongs to (decision 0029): one original journaled in several
 * reports — one per journaling rule or organisation — or also delivered as itself is one mail
 * with several receipts. Each arrival stays its own evidence; the later ones point at the first
 * one's row, which lists and searches show in their place.
 *
 * `groupKey` is the original's SHA-256: the carried original's for a journal report, the mail's
 * own otherwise. The advisory lock makes two reports of one original arriving at once agree on
 * which came first. Returns the first arrival's id, or null when this is the first.
 */
export async function logicalMailOf(
  tx: TenantTx,
  tenantId: string,
  groupKey: Buffer,
  isReport: boolean,
): Promise<string | null> {
  await sql`SELECT pg_advisory_xact_lock(hashtextextended(${`journal-original:${tenantId}:${groupKey.toString('hex')}`}, 0))`.execute(
    tx,
  );
  const first = await tx
    .selectFrom('messages')
    .select(['id', 'logical_id'])
    .where('tenant_id', '=', tenantId)
    .where((eb) =>
      isReport
        ? eb.or([eb('original_sha256', '=', groupKey), eb('sha256', '=', groupKey)])
        : eb('original_sha256', '=', groupKey),
    )
    .where('deleted_at', 'is', null)
    .orderBy('received_at')
    .orderBy('id')
    .limit(1)
    .executeTakeFirst();
  return first ? (first.logical_id ?? first.id) : null;
}

/** Every live arrival of the logical mail `messageId` belongs to, itself included, earliest first. */
export async function arrivalsOf(
  tx: TenantTx,
  messageId: string,
): Promise<{ id: string; receivedAt: Date }[]> {
  const { rows } = await sql<{ id: string; received_at: Date }>`
    WITH g AS (SELECT coalesce(logical_id, id) AS grp FROM messages WHERE id = ${messageId})
    SELECT id, received_at FROM messages
     WHERE deleted_at IS NULL AND (id = (SELECT grp FROM g) OR logical_id = (SELECT grp FROM g))
     ORDER BY received_at, id`.execute(tx);
  return rows.map((r) => ({ id: r.id, receivedAt: r.received_at }));
}

/**
 * `ids` and every other arrival of their logical mails: a search shows a group once, but what is
 * done to the mail — a legal hold — must reach each piece of evidence.
 */
export async function withOtherArrivals(tx: TenantTx, ids: readonly string[]): Promise<string[]> {
  if (!ids.length) return [];
  const { rows } = await sql<{ id: string }>`
    WITH g AS (SELECT DISTINCT coalesce(logical_id, id) AS grp FROM messages
                WHERE id = ANY(${[...ids]}::uuid[]))
    SELECT m.id FROM messages m JOIN g ON m.logical_id = g.grp WHERE m.deleted_at IS NULL
    UNION
    SELECT m.id FROM messages m JOIN g ON m.id = g.grp WHERE m.deleted_at IS NULL`.execute(tx);
  return [...new Set([...ids, ...rows.map((r) => r.id)])];
}
