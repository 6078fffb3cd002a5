import type { Db } from '../db';
import { withTenant } from '../db/tenant-scope';
import { appendEntry, ensureLog, type LedgerKeys } from '../ledger/store';

/**
 * Appends each tenant's audit chain head to the tenant's ledger when it moved since the last
 * anchoring (issue 5 §3). Runs at the start of every checkpoint round, so the next tenant
 * checkpoint covers the head. The heads are found as the platform (which may read them across
 * tenants, docs/deploy.md); each is appended inside its own tenant's transaction, where creating
 * the tenant's log is audited in that tenant's chain. Safe to repeat: a head already in the ledger
 * keeps its index.
 */
export async function anchorAuditHeads(db: Db, ledger: LedgerKeys): Promise<number> {
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
    await withTenant(db, head.tenant_id, async (tx) => {
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
