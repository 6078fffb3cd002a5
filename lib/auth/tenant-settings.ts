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

/** Whether the tenant has text recognition for scans switched on (read in the caller's scope). */
export async function ocrEnabled(tx: TenantTx, tenantId: string): Promise<boolean> {
  const row = await tx
    .selectFrom('tenants')
    .select('ocr_enabled')
    .where('id', '=', tenantId)
    .executeTakeFirst();
  return row?.ocr_enabled ?? false;
}

/**
 * Switches text recognition for scans on or off (owners and admins; audited old → new). It applies
 * to mails the index job reads from then on.
 */
export async function changeOcrSetting(
  db: Db,
  session: SessionInfo,
  enabled: boolean,
  ip: string,
): Promise<boolean> {
  if (session.role !== 'owner' && session.role !== 'admin') return false;
  await withTenant(db, session.tenantId, async (tx) => {
    const before = await tx
      .selectFrom('tenants')
      .select('ocr_enabled')
      .where('id', '=', session.tenantId)
      .forUpdate()
      .executeTakeFirstOrThrow();
    if (before.ocr_enabled === enabled) return;
    await tx
      .updateTable('tenants')
      .set({ ocr_enabled: enabled })
      .where('id', '=', session.tenantId)
      .execute();
    await auditSettingChange(tx, { ...session, ip }, 'ocr_enabled', before.ocr_enabled, enabled);
  });
  return true;
}
