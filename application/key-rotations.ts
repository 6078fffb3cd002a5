import { randomUUID } from 'node:crypto';
import { WorkflowExecutionAlreadyStartedError, type Client } from '@temporalio/client';
import type { KeyRotationInput } from '../contracts/key-rotation';
import type { SessionInfo } from '../lib/auth/sessions';
import type { Db } from '../lib/db';
import { withTenant } from '../lib/db/tenant-scope';
import { addPeriod } from '../lib/retention/periods';
import { destroyGrant } from '../lib/vault/grants';
import { rotationStatus } from '../lib/vault/rotation';
import { startTenantWorkflow } from '../lib/temporal/tenant-workflow';
import { grantFromSession } from '../lib/auth/session-grant';
import { auditSettingChange } from '../lib/auth/tenant-settings';
import { requireManager, RoleError } from '../lib/auth/roles';
import { isUuid } from '../lib/input/input-error';

/**
 * Key rotation as the portal starts and shows it (issue 9 §3): by hand, to remove members, or on
 * the tenant's schedule. A rotation needs the current tenant key, which only a signed-in user
 * holds; so a scheduled rotation starts when an owner or admin next opens the portal after it is
 * due, with a decryption grant from their session (destroyed when the rotation ends).
 */
export interface KeyRotationDeps {
  db: Db;
  temporal: () => Promise<{ client: Client; taskQueue: string }>;
}

const GRANT_TTL_MS = 6 * 3_600_000;
export const rotationWorkflowId = (tenantId: string) => `rotate-keys-${tenantId}`;

export function createKeyRotations(deps: KeyRotationDeps) {
  const { db } = deps;

  async function schedule(tenantId: string) {
    const t = await withTenant(db, tenantId, (tx) =>
      tx
        .selectFrom('tenants')
        .select(['key_version', 'key_rotation_months', 'key_rotated_at', 'created_at'])
        .where('id', '=', tenantId)
        .executeTakeFirstOrThrow(),
    );
    const since = t.key_rotated_at ?? t.created_at;
    const dueAt = t.key_rotation_months
      ? addPeriod(since, { amount: t.key_rotation_months, unit: 'months' })
      : null;
    return {
      keyVersion: t.key_version,
      months: t.key_rotation_months,
      rotatedAt: t.key_rotated_at,
      dueAt,
    };
  }

  /**
   * Removing members through a rotation follows the rules of docs/permissions.md (issue 17 §4):
   * only this tenant's users, never oneself, and an admin never removes an owner.
   */
  async function checkRemovable(session: SessionInfo, ids: string[]): Promise<void> {
    if (!ids.length) return;
    if (!ids.every(isUuid)) throw new RoleError('users.error.noSuchUser');
    if (ids.includes(session.userId)) throw new RoleError('users.error.self');
    const users = await withTenant(db, session.tenantId, (tx) =>
      tx.selectFrom('users').select(['id', 'role']).where('id', 'in', ids).execute(),
    );
    if (users.length !== new Set(ids).size) throw new RoleError('users.error.noSuchUser');
    if (session.role !== 'owner' && users.some((u) => u.role === 'owner'))
      throw new RoleError('users.error.ownersOnly');
  }

  async function start(
    session: SessionInfo,
    cookie: string,
    input: { removeUserIds: string[]; trigger: KeyRotationInput['trigger'] },
  ): Promise<'started' | 'running'> {
    requireManager(session, 'key rotation');
    await checkRemovable(session, input.removeUserIds);
    const grant = await grantFromSession(db, session, cookie, {
      purpose: 'key-rotation',
      ttlMs: GRANT_TTL_MS,
    });
    try {
      const t = await deps.temporal();
      const args: KeyRotationInput = {
        grant: { tenantId: session.tenantId, grantId: grant.grantId, grantKey: grant.grantKey },
        rotationId: randomUUID(),
        requestedBy: session.userId,
        trigger: input.trigger,
        removeUserIds: input.removeUserIds,
      };
      await startTenantWorkflow(t, 'rotateKeys', {
        tenantId: session.tenantId,
        workflowId: rotationWorkflowId(session.tenantId),
        args: [args],
      });
      return 'started';
    } catch (e) {
      await destroyGrant(db, session.tenantId, grant.grantId);
      if (e instanceof WorkflowExecutionAlreadyStartedError) return 'running';
      throw e;
    }
  }

  return {
    async overview(session: SessionInfo) {
      requireManager(session, 'key rotation');
      const [s, latest, members] = await Promise.all([
        schedule(session.tenantId),
        rotationStatus(db, session.tenantId),
        withTenant(db, session.tenantId, (tx) =>
          tx
            .selectFrom('users')
            .select(['id', 'email', 'role'])
            .where('disabled_at', 'is', null)
            .where('id', '!=', session.userId)
            .orderBy('email')
            .execute(),
        ),
      ]);
      return { ...s, latest, members };
    },

    start,

    /** Sets the rotation schedule in months (0: by hand only); audited as a setting change. */
    async setSchedule(session: SessionInfo, ip: string, months: number): Promise<void> {
      requireManager(session, 'key rotation');
      if (!Number.isInteger(months) || months < 0 || months > 120)
        throw new RangeError('the rotation interval is 0 (off) to 120 months');
      await withTenant(db, session.tenantId, async (tx) => {
        const before = await tx
          .selectFrom('tenants')
          .select('key_rotation_months')
          .where('id', '=', session.tenantId)
          .executeTakeFirstOrThrow();
        await tx
          .updateTable('tenants')
          .set({ key_rotation_months: months })
          .where('id', '=', session.tenantId)
          .execute();
        await auditSettingChange(
          tx,
          { ...session, ip },
          'key.rotation_months',
          before.key_rotation_months,
          months,
        );
      });
    },

    /** Starts the scheduled rotation when it is due (called when an owner or admin signs in). */
    /** A scheduled rotation is due and not running, and this user may start it. */
    async isDue(session: SessionInfo): Promise<boolean> {
      if (session.role !== 'owner' && session.role !== 'admin') return false;
      const s = await schedule(session.tenantId);
      if (!s.dueAt || s.dueAt > new Date()) return false;
      const latest = await rotationStatus(db, session.tenantId);
      return latest?.status !== 'running';
    },

    async startIfDue(session: SessionInfo, cookie: string): Promise<boolean> {
      if (!(await this.isDue(session))) return false;
      return (
        (await start(session, cookie, { removeUserIds: [], trigger: 'schedule' })) === 'started'
      );
    },
  };
}

export type KeyRotations = ReturnType<typeof createKeyRotations>;
