import { recordAudit, recordAuditEvents } from '../audit/record';
import { sql, type Transaction } from 'kysely';
import type { Database, Db } from '../db';
import type { MessageState } from '../db/schema';
import { withTenant } from '../db/tenant-scope';

/**
 * The archive pipeline's steps on a message row (archiveMail's activities, DESIGN §4): each step
 * moves the row forward only from the states it expects, so a retried step changes nothing.
 */
export interface MessageRef {
  tenantId: string;
  messageId: string;
}

export const messageRow = (db: Db, ref: MessageRef) =>
  withTenant(db, ref.tenantId, (tx) =>
    tx.selectFrom('messages').selectAll().where('id', '=', ref.messageId).executeTakeFirst(),
  );

export async function advanceMessage(
  db: Db,
  ref: MessageRef,
  to:
    | { state: 'stored'; object_key: string }
    | { state: 'ledgered'; ledger_index: number }
    | { state: 'sealed'; sealed_at: Date },
  from: MessageState[],
): Promise<void> {
  await withTenant(db, ref.tenantId, (tx) =>
    tx
      .updateTable('messages')
      .set(to)
      .where('id', '=', ref.messageId)
      .where('state', 'in', from)
      .execute(),
  );
}

/** Queues the encrypted token list for the search index maintenance (DESIGN §7). */
export async function queueForIndex(db: Db, ref: MessageRef): Promise<void> {
  await withTenant(db, ref.tenantId, (tx) =>
    tx
      .insertInto('search_index_queue')
      .values({ message_id: ref.messageId, tenant_id: ref.tenantId })
      .onConflict((oc) => oc.column('message_id').doNothing())
      .execute(),
  );
}

/** One `mail.archived` event per message, however often this runs. */
export async function auditArchivedOnce(db: Db, ref: MessageRef, ledgerIndex: number) {
  await withTenant(db, ref.tenantId, async (tx) => {
    const seen = await tx
      .selectFrom('audit_events')
      .select('seq')
      .where('tenant_id', '=', ref.tenantId)
      .where('action', '=', 'mail.archived')
      .where('target_id', '=', ref.messageId)
      .executeTakeFirst();
    if (seen) return;
    await recordAudit(tx, ref.tenantId, {
      action: 'mail.archived',
      actor: { type: 'system', label: 'ingest' },
      target: { type: 'message', id: ref.messageId },
      details: { ledgerIndex },
    });
  });
}

/**
 * Several rows one step on, each with its own object key or ledger index, in one statement — only
 * those still in state `from`, so a retried step changes nothing.
 */
async function advanceEach(
  tx: Transaction<Database>,
  to: 'stored' | 'ledgered',
  rows: { id: string; value: string | number }[],
  from: MessageState,
): Promise<void> {
  const [column, type] =
    to === 'stored' ? [sql.ref('object_key'), sql`text`] : [sql.ref('ledger_index'), sql`bigint`];
  const values = sql.join(rows.map((r) => sql`(${r.id}::uuid, ${r.value}::${type})`));
  await sql`UPDATE messages AS m SET state = ${to}, ${column} = v.value
    FROM (VALUES ${values}) AS v(id, value)
    WHERE m.id = v.id AND m.state = ${from}`.execute(tx);
}

/** The rows of several mails of one tenant (an archiveBatch), in one query. */
export const messageRows = (db: Db, tenantId: string, ids: string[]) =>
  withTenant(db, tenantId, (tx) =>
    ids.length
      ? tx.selectFrom('messages').selectAll().where('id', 'in', ids).execute()
      : Promise.resolve([]),
  );

/** `stored` for each mail still `staged`, in one transaction. */
export async function markStored(
  db: Db,
  tenantId: string,
  stored: { messageId: string; objectKey: string }[],
): Promise<void> {
  if (!stored.length) return;
  await withTenant(db, tenantId, (tx) =>
    advanceEach(
      tx,
      'stored',
      stored.map((s) => ({ id: s.messageId, value: s.objectKey })),
      'staged',
    ),
  );
}

/**
 * A batch's mails are in the ledger: in one transaction each stored row becomes `ledgered` with
 * its index, is queued for the search index, and gets its one `mail.archived` event (not again
 * when a retry finds it there). What the per-mail steps do, at one commit per batch.
 */
export async function recordLedgered(
  db: Db,
  tenantId: string,
  ledgered: { messageId: string; index: number }[],
): Promise<void> {
  if (!ledgered.length) return;
  const ids = ledgered.map((l) => l.messageId);
  await withTenant(db, tenantId, async (tx) => {
    await advanceEach(
      tx,
      'ledgered',
      ledgered.map((l) => ({ id: l.messageId, value: l.index })),
      'stored',
    );
    await tx
      .insertInto('search_index_queue')
      .values(ids.map((id) => ({ message_id: id, tenant_id: tenantId })))
      .onConflict((oc) => oc.column('message_id').doNothing())
      .execute();
    const seen = new Set(
      (
        await tx
          .selectFrom('audit_events')
          .select('target_id')
          .where('tenant_id', '=', tenantId)
          .where('action', '=', 'mail.archived')
          .where('target_id', 'in', ids)
          .execute()
      ).map((r) => r.target_id),
    );
    await recordAuditEvents(
      tx,
      tenantId,
      ledgered
        .filter((l) => !seen.has(l.messageId))
        .map((l) => ({
          action: 'mail.archived' as const,
          actor: { type: 'system' as const, label: 'ingest' },
          target: { type: 'message', id: l.messageId },
          details: { ledgerIndex: l.index },
        })),
    );
  });
}
