import { sql } from 'kysely';
import { recordAudit } from '../audit/record';
import type { Db } from '../db';
import type { ExportPart } from '../db/schema';
import { withTenant } from '../db/tenant-scope';

/**
 * An export's row as its workflow moves it along (`exports`): parts written, mails done, the end
 * and the expiry. Every change is idempotent, since the activities that make them are retried.
 */
export interface ExportRef {
  tenantId: string;
  exportId: string;
}

export const exportState = (db: Db, ref: ExportRef) =>
  withTenant(db, ref.tenantId, (tx) =>
    tx
      .selectFrom('exports')
      .select(['parts', 'status'])
      .where('id', '=', ref.exportId)
      .executeTakeFirstOrThrow(),
  );

/** Progress for the portal. Never backwards: a part written again counts from its start once more. */
export async function setMailsDone(db: Db, ref: ExportRef, done: number): Promise<void> {
  await withTenant(db, ref.tenantId, (tx) =>
    tx
      .updateTable('exports')
      .set({ mails_done: sql`greatest(mails_done, ${done})` })
      .where('id', '=', ref.exportId)
      .execute(),
  );
}

/**
 * A written part, and the list of every mail decrypted for it, in one transaction (issue 17 §6):
 * the audit chain, anchored in the ledger, names each mail an export opened.
 */
export async function recordExportPart(
  db: Db,
  ref: ExportRef,
  part: ExportPart,
  mailsBefore: number,
  decrypted: string[],
): Promise<void> {
  await withTenant(db, ref.tenantId, async (tx) => {
    await tx
      .updateTable('exports')
      .set({
        parts: sql`parts || ${JSON.stringify([part])}::jsonb`,
        mails_done: sql`greatest(mails_done, ${mailsBefore + part.mails})`,
      })
      .where('id', '=', ref.exportId)
      .execute();
    await recordAudit(tx, ref.tenantId, {
      action: 'export.mails_decrypted',
      actor: { type: 'system', label: 'exportMailbox' },
      target: { type: 'export', id: ref.exportId },
      details: { part: part.n, mails: decrypted.length, messageIds: decrypted },
    });
  });
}

/** Ends a running export (done, or failed with a reason); returns its times when this call did. */
export const finishExportRecord = (
  db: Db,
  ref: ExportRef & { expiresAt: string; failed?: string },
) =>
  withTenant(db, ref.tenantId, (tx) =>
    tx
      .updateTable('exports')
      .set({
        status: ref.failed ? 'failed' : 'done',
        error: ref.failed ?? null,
        finished_at: new Date(),
        expires_at: new Date(ref.expiresAt),
      })
      .where('id', '=', ref.exportId)
      .where('status', '=', 'running')
      .returning(['created_at', 'finished_at'])
      .executeTakeFirst(),
  );

/** The export's files are gone at expiry: its row says so, and the audit log. */
export async function markExportExpired(db: Db, ref: ExportRef): Promise<void> {
  await withTenant(db, ref.tenantId, async (tx) => {
    await tx
      .updateTable('exports')
      .set({ status: 'expired' })
      .where('id', '=', ref.exportId)
      .execute();
    await recordAudit(tx, ref.tenantId, {
      action: 'export.expired',
      actor: { type: 'system', label: 'exportMailbox' },
      target: { type: 'export', id: ref.exportId },
    });
  });
}
