import type { Db } from '../db';
import { withTenant } from '../db/tenant-scope';
import { metrics } from '../metrics/metrics';

/**
 * Marks sealed every ledgered mail a timestamped checkpoint now covers (decision 0020): one update
 * per tenant whose covered size grew, run by the checkpoint round that made the timestamp — not
 * one waiting activity per mail. `done` remembers, per process, the size each tenant was sealed
 * up to, so a quiet tenant costs nothing; after a restart the first round looks at every tenant.
 */
export async function sealCoveredMails(
  db: Db,
  covered: { tenantId: string; size: number }[],
  done: Map<string, number>,
): Promise<number> {
  let sealed = 0;
  for (const { tenantId, size } of covered) {
    if ((done.get(tenantId) ?? -1) >= size) continue;
    const sealedAt = new Date();
    const rows = await withTenant(db, tenantId, (tx) =>
      tx
        .updateTable('messages')
        .set({ state: 'sealed', sealed_at: sealedAt })
        .where('state', '=', 'ledgered')
        .where('ledger_index', '<', size)
        .returning('received_at')
        .execute(),
    );
    // The whole of archiving: from the LMTP reply to the covering timestamp.
    for (const r of rows)
      metrics.archiveStage.observe(
        { stage: 'received_to_sealed' },
        (sealedAt.getTime() - r.received_at.getTime()) / 1000,
      );
    sealed += rows.length;
    done.set(tenantId, size);
  }
  return sealed;
}
