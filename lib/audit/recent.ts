import type { Db } from '../db';
import { withTenant } from '../db/tenant-scope';

/** The newest audit events of a tenant, for the portal's audit view (sealed details stay sealed). */
export async function recentAuditEvents(db: Db, tenantId: string, limit = 200) {
  const rows = await withTenant(db, tenantId, (tx) =>
    tx
      .selectFrom('audit_events')
      .select([
        'seq',
        'at',
        'action',
        'actor_type',
        'actor_id',
        'actor_label',
        'target_type',
        'target_id',
        'ip',
        'details',
      ])
      .where('tenant_id', '=', tenantId)
      .orderBy('seq', 'desc')
      .limit(Math.min(Math.max(limit, 1), 1000))
      .execute(),
  );
  return rows.map((r) => ({
    seq: Number(r.seq),
    at: r.at,
    action: r.action,
    actor:
      r.actor_type === 'user' ? `user:${r.actor_id}` : `${r.actor_type}:${r.actor_label ?? ''}`,
    target: r.target_type ? `${r.target_type}:${r.target_id}` : '',
    ip: r.ip,
    details: r.details,
  }));
}
