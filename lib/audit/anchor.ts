import type { Db } from '../db';
import { appendEntry, ensureLog } from '../ledger/store';

/**
 * Appends each tenant's audit chain head to the tenant's ledger when it moved since the last
 * anchoring (issue 5 §3). Runs at the start of every checkpoint round, as the system, so the next
 * tenant checkpoint covers the head. Safe to repeat: a head already in the ledger keeps its index.
 */
export async function anchorAuditHeads(
  db: Db,
  ledger: { wrapKey: Buffer; originPrefix: string },
): Promise<number> {
  const moved = await db
    .selectFrom('audit_heads as h')
    .select(['h.tenant_id', 'h.seq', 'h.hash'])
    .where('h.seq', '>', 0)
    .where((eb) =>
      eb(
        'h.seq',
        '>',
        eb.fn.coalesce(
          eb
            .selectFrom('audit_anchors as a')
            .select((e) => e.fn.max('a.seq').as('s'))
            .whereRef('a.tenant_id', '=', 'h.tenant_id'),
          eb.lit(0),
        ),
      ),
    )
    .execute();
  for (const head of moved) {
    await db.transaction().execute(async (tx) => {
      const log = await ensureLog(tx, { tenantId: head.tenant_id, ...ledger });
      const { index } = await appendEntry(tx, log, head.hash, 'audit-head');
      await tx
        .insertInto('audit_anchors')
        .values({
          tenant_id: head.tenant_id,
          seq: head.seq,
          hash: head.hash,
          ledger_index: index,
        })
        .onConflict((oc) => oc.columns(['tenant_id', 'seq']).doNothing())
        .execute();
    });
  }
  return moved.length;
}
