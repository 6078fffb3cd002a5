import { recordAudit } from '../audit/record';
import type { Db } from '../db';
import type { Role } from '../db/schema';
import { withTenant } from '../db/tenant-scope';
import { endUserSessionsTx, type SessionInfo } from './sessions';

/**
 * Role changes (docs/permissions.md). Owners change any role but their own; admins change admins,
 * auditors and members, never an owner, and cannot make anyone owner. The user's sessions end with
 * the change, so the new privileges only ever come with a fresh login (a new session id).
 */

export class RoleError extends Error {
  override name = 'RoleError';
}

export async function changeRole(
  db: Db,
  session: SessionInfo,
  input: { userId: string; role: Role; ip: string },
): Promise<void> {
  const actor = session.role;
  if (actor !== 'owner' && actor !== 'admin') throw new RoleError('not allowed');
  if (input.userId === session.userId) throw new RoleError('no one changes their own role');
  if (input.role === 'owner' && actor !== 'owner') throw new RoleError('only owners make owners');
  await withTenant(db, session.tenantId, async (tx) => {
    const user = await tx
      .selectFrom('users')
      .select(['id', 'role'])
      .where('id', '=', input.userId)
      .forUpdate()
      .executeTakeFirst();
    // Another tenant's user is simply not found (row-level security).
    if (!user) throw new RoleError('no such user');
    if (user.role === 'owner' && actor !== 'owner')
      throw new RoleError('only owners change owners');
    if (user.role === input.role) return;
    await tx.updateTable('users').set({ role: input.role }).where('id', '=', user.id).execute();
    await recordAudit(tx, session.tenantId, {
      action: 'user.role_changed',
      actor: { type: 'user', id: session.userId },
      ip: input.ip,
      target: { type: 'user', id: user.id },
      details: { from: user.role, to: input.role },
    });
    await endUserSessionsTx(
      tx,
      session.tenantId,
      user.id,
      { type: 'user', id: session.userId },
      input.ip,
    );
  });
}
