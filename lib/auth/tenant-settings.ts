import { recordAudit } from '../audit/record';
import type { Db } from '../db';
import { withTenant, type TenantTx } from '../db/tenant-scope';
import type { SessionInfo } from './sessions';

/** Tenant settings owners and admins change; each change is audited old → new. */

export interface SessionSettings {
  idleMinutes: number;
  absoluteHours: number;
}

/** The audit event of one changed setting (old → new, never secrets), in the change's transaction. */
export const auditSettingChange = (
  tx: TenantTx,
  who: { tenantId: string; userId: string; ip?: string },
  setting: string,
  from: unknown,
  to: unknown,
) =>
  recordAudit(tx, who.tenantId, {
    action: 'setting.changed',
    actor: { type: 'user', id: who.userId },
    ip: who.ip,
    target: { type: 'setting', id: setting },
    details: { from, to },
  });

export const SESSION_LIMITS = { idleMinutes: [5, 480], absoluteHours: [1, 24] } as const;

export async function changeSessionSettings(
  db: Db,
  session: SessionInfo,
  next: SessionSettings,
  ip: string,
): Promise<boolean> {
  if (session.role !== 'owner' && session.role !== 'admin') return false;
  const ok = (v: number, [lo, hi]: readonly [number, number]) =>
    Number.isInteger(v) && v >= lo && v <= hi;
  if (!ok(next.idleMinutes, SESSION_LIMITS.idleMinutes)) return false;
  if (!ok(next.absoluteHours, SESSION_LIMITS.absoluteHours)) return false;
  await withTenant(db, session.tenantId, async (tx) => {
    const before = await tx
      .selectFrom('tenants')
      .select(['session_idle_minutes', 'session_absolute_hours'])
      .where('id', '=', session.tenantId)
      .forUpdate()
      .executeTakeFirstOrThrow();
    const changes: [string, number, number][] = [
      ['session_idle_minutes', before.session_idle_minutes, next.idleMinutes],
      ['session_absolute_hours', before.session_absolute_hours, next.absoluteHours],
    ];
    await tx
      .updateTable('tenants')
      .set({ session_idle_minutes: next.idleMinutes, session_absolute_hours: next.absoluteHours })
      .where('id', '=', session.tenantId)
      .execute();
    for (const [setting, from, to] of changes)
      if (from !== to) await auditSettingChange(tx, { ...session, ip }, setting, from, to);
  });
  return true;
}
