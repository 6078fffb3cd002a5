import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import { recordAudit } from '../audit/record';
import { InputError, isUuid } from '../input/input-error';
import { formText } from '../input/text';
import type { Db } from '../db';
import { withTenant, type TenantTx } from '../db/tenant-scope';
import { SearchIndex } from '../search/engine';
import { memorySegment } from '../search/memory-segment';
import { parseQuery, QueryError } from '../search/query';
import type { IndexedDoc } from '../search/segment-format';

/**
 * Legal holds (issue 9 §2). A hold is a search in the archive's own query language (mailbox,
 * address, date range, words) with a reason. Setting it resolves the search over the admin's
 * unlocked index and records every matching mail; mail arriving later is matched at ingest,
 * against the metadata ingest has in memory anyway. A held mail is never deleted or shredded; the
 * sweep checks the recorded mails only, so it needs no keys. The query is stored readable for the
 * tenant (ingest has no keys to open a sealed one) — docs/retention.md says so.
 */

export class HoldInputError extends InputError {
  override name = 'HoldInputError';
}

export interface LegalHold {
  id: string;
  query: string;
  reason: string;
  matched: number;
  createdBy: string;
  createdAt: Date;
  releasedAt: Date | null;
  releaseReason: string | null;
}

type Actor = { tenantId: string; userId: string; ip?: string };

/** Checks a hold's query before anything is resolved; throws HoldInputError with the reason. */
export function checkHoldInput(input: { query: string; reason: string }): void {
  formText(input.reason, {
    field: 'reason',
    max: 2000,
    required: true,
    missing: 'retention.error.reasonMissing',
  });
  formText(input.query, {
    field: 'query',
    max: 1000,
    required: true,
    missing: 'retention.error.scopeMissing',
  });
  try {
    parseQuery(input.query);
  } catch (e) {
    if (e instanceof QueryError) throw new HoldInputError(e.code, e.params, 'query');
    throw e;
  }
}

/**
 * Records the hold and the mails `matchedIds` names (the query's current result). The epochs of
 * those mails are locked (FOR SHARE) first, so a concurrent shred either finishes before — its
 * mails are then gone and not recorded — or waits for the hold and sees it.
 */
export async function setHold(
  db: Db,
  actor: Actor,
  input: { query: string; reason: string },
  matchedIds: string[],
): Promise<{ holdId: string; matched: number }> {
  checkHoldInput(input);
  const holdId = randomUUID();
  return withTenant(db, actor.tenantId, async (tx) => {
    await tx
      .insertInto('legal_holds')
      .values({
        id: holdId,
        tenant_id: actor.tenantId,
        query: input.query.trim(),
        reason: input.reason.trim(),
        created_by: actor.userId,
      })
      .execute();
    let matched = 0;
    for (let i = 0; i < matchedIds.length; i += 1000) {
      const chunk = matchedIds.slice(i, i + 1000);
      await sql`SELECT 1 FROM epochs WHERE id IN (
        SELECT DISTINCT epoch_id FROM messages WHERE id = ANY(${chunk}::uuid[])) FOR SHARE`.execute(
        tx,
      );
      const r = await tx
        .insertInto('legal_hold_messages')
        .columns(['hold_id', 'message_id', 'tenant_id'])
        .expression((eb) =>
          eb
            .selectFrom('messages')
            .select([eb.val(holdId).as('hold_id'), 'id', eb.val(actor.tenantId).as('tenant_id')])
            .where('id', 'in', chunk)
            .where('deleted_at', 'is', null),
        )
        .executeTakeFirst();
      matched += Number(r.numInsertedOrUpdatedRows ?? 0);
    }
    await tx.updateTable('legal_holds').set({ matched }).where('id', '=', holdId).execute();
    await recordAudit(tx, actor.tenantId, {
      action: 'legal_hold.set',
      actor: { type: 'user', id: actor.userId },
      ip: actor.ip,
      target: { type: 'legal-hold', id: holdId },
      details: { matched },
      sealed: { query: input.query.trim(), reason: input.reason.trim() },
    });
    return { holdId, matched };
  });
}

export async function releaseHold(
  db: Db,
  actor: Actor,
  holdId: string,
  reason: string,
): Promise<boolean> {
  formText(reason, {
    field: 'reason',
    max: 2000,
    required: true,
    missing: 'retention.error.releaseReason',
  });
  if (!isUuid(holdId)) return false;
  return withTenant(db, actor.tenantId, async (tx) => {
    const r = await tx
      .updateTable('legal_holds')
      .set({ released_at: new Date(), released_by: actor.userId, release_reason: reason.trim() })
      .where('id', '=', holdId)
      .where('released_at', 'is', null)
      .executeTakeFirst();
    if (!Number(r.numUpdatedRows)) return false;
    await recordAudit(tx, actor.tenantId, {
      action: 'legal_hold.released',
      actor: { type: 'user', id: actor.userId },
      ip: actor.ip,
      target: { type: 'legal-hold', id: holdId },
      sealed: { reason: reason.trim() },
    });
    return true;
  });
}

export async function listHolds(db: Db, tenantId: string): Promise<LegalHold[]> {
  const rows = await withTenant(db, tenantId, (tx) =>
    tx
      .selectFrom('legal_holds as h')
      .innerJoin('users as u', 'u.id', 'h.created_by')
      .select([
        'h.id',
        'h.query',
        'h.reason',
        'h.matched',
        'u.email',
        'h.created_at',
        'h.released_at',
        'h.release_reason',
      ])
      .orderBy('h.released_at', (ob) => ob.desc().nullsFirst())
      .orderBy('h.created_at', 'desc')
      .execute(),
  );
  return rows.map((r) => ({
    id: r.id,
    query: r.query,
    reason: r.reason,
    matched: r.matched,
    createdBy: r.email,
    createdAt: r.created_at,
    releasedAt: r.released_at,
    releaseReason: r.release_reason,
  }));
}

/**
 * At ingest, and again when the index job has read the mail's documents: records the new mail
 * under every active hold whose query it matches, judged on its metadata and search terms
 * (phrases count as their words, so a hold errs on holding).
 */
export async function holdNewMail(
  tx: TenantTx,
  tenantId: string,
  doc: IndexedDoc,
  tokens: Iterable<string>,
): Promise<number> {
  const holds = await tx
    .selectFrom('legal_holds')
    .select(['id', 'query'])
    .where('released_at', 'is', null)
    .execute();
  if (!holds.length) return 0;
  const index = new SearchIndex([memorySegment('ingest', [{ doc, tokens }])]);
  let held = 0;
  for (const hold of holds) {
    let hits: number;
    try {
      hits = (await index.search(parseQuery(hold.query), { limit: 1 })).total;
    } catch {
      // A hold whose query no longer parses (the language grew stricter) holds everything new.
      hits = 1;
    }
    if (!hits) continue;
    const inserted = await tx
      .insertInto('legal_hold_messages')
      .values({ hold_id: hold.id, message_id: doc.id, tenant_id: tenantId })
      .onConflict((oc) => oc.doNothing())
      .executeTakeFirst();
    // Judged again once its documents are read (the index job): counted once per hold.
    if (!Number(inserted.numInsertedOrUpdatedRows ?? 0)) continue;
    await tx
      .updateTable('legal_holds')
      .set((eb) => ({ matched: eb('matched', '+', 1) }))
      .where('id', '=', hold.id)
      .execute();
    held++;
  }
  return held;
}

/**
 * A later arrival of a logical mail (decision 0029) is held wherever its first arrival is: it is
 * evidence of the same mail, even when its own report does not match the hold's query.
 */
export async function holdLikeFirstArrival(
  tx: TenantTx,
  tenantId: string,
  messageId: string,
  firstId: string,
): Promise<void> {
  const holds = await tx
    .selectFrom('legal_hold_messages as m')
    .innerJoin('legal_holds as h', 'h.id', 'm.hold_id')
    .select('h.id')
    .where('m.message_id', '=', firstId)
    .where('h.released_at', 'is', null)
    .execute();
  for (const hold of holds) {
    const inserted = await tx
      .insertInto('legal_hold_messages')
      .values({ hold_id: hold.id, message_id: messageId, tenant_id: tenantId })
      .onConflict((oc) => oc.doNothing())
      .executeTakeFirst();
    if (Number(inserted.numInsertedOrUpdatedRows ?? 0))
      await tx
        .updateTable('legal_holds')
        .set((eb) => ({ matched: eb('matched', '+', 1) }))
        .where('id', '=', hold.id)
        .execute();
  }
}
