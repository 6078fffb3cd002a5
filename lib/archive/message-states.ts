import { recordAudit } from '../audit/record';
import type { Db } from '../db';
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
