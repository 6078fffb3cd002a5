import { recordAudit } from '../audit/record';
import { InputError, isUuid } from '../input/input-error';
import type { Db } from '../db';
import type { Role } from '../db/schema';
import { withTenant, type TenantTx } from '../db/tenant-scope';
import { endUserSessionsTx, type SessionInfo } from './sessions';

/**
 * User administration (docs/permissions.md): roles, disabling, ending someone's sessions. Owners
 * manage anyone but themselves; admins manage admins, auditors and members, never an owner, and
 * cannot make anyone owner. A role change ends the user's sessions, so new privileges only ever
 * come with a fresh login (a new session id).
 */

export class RoleError extends InputError {
  override name = 'RoleError';
}

/** Tenant administration (retention, holds, keys, imports) is for owners and admins only. */
export function requireManager(session: Pick<SessionInfo, 'role'>, what: string): void {
  if (session.role !== 'owner' && session.role !== 'admin')
    throw new RoleError('users.error.notAllowed', { what });
}

/**
 * Runs `fn` on a user the signed-in owner or admin may manage (the rules above), in one tenant
 * transaction with the user's row locked. Another tenant's user is simply not found (RLS).
 */
export async function withManagedUser<T>(
  db: Db,
  session: SessionInfo,
  userId: string,
  fn: (
    tx: TenantTx,
    user: { id: string; email: string; role: Role; disabled_at: Date | null },
  ) => Promise<T>,
): Promise<T> {
  const actor = session.role;
  if (actor !== 'owner' && actor !== 'admin') throw new RoleError('users.error.notAllowed');
  if (userId === session.userId) throw new RoleError('users.error.self');
  if (!isUuid(userId)) throw new RoleError('users.error.noSuchUser');
  return withTenant(db, session.tenantId, async (tx) => {
    const user = await tx
      .selectFrom('users')
      .select(['id', 'email', 'role', 'disabled_at'])
      .where('id', '=', userId)
      .forUpdate()
      .executeTakeFirst();
    if (!user) throw new RoleError('users.error.noSuchUser');
    if (user.role === 'owner' && actor !== 'owner') throw new RoleError('users.error.ownersOnly');
    return fn(tx, user);
  });
}

export const actorOf = (session: SessionInfo) => ({ type: 'user' as const, id: session.userId });

/**
 * What a user's old privileges made keeps working for nobody once they change (issue 17 §4): their
 * exports can no longer be downloaded (the files go with the export's own expiry), and the
 * decryption grants their sessions issued are destroyed, so jobs running under them stop.
 */
async function revokeWhatTheyStartedTx(tx: TenantTx, userId: string): Promise<void> {
  await tx
    .updateTable('exports')
    .set({ status: 'expired', expires_at: new Date() })
    .where('created_by', '=', userId)
    .where('status', 'in', ['running', 'done'])
    .execute();
  await tx.deleteFrom('decryption_grants').where('created_by', '=', userId).execute();
}

export async function changeRole(
  db: Db,
  session: SessionInfo,
  input: { userId: string; role: Role; ip: string },
): Promise<void> {
  if (input.role === 'owner' && session.role !== 'owner')
    throw new RoleError('users.error.ownersOnly');
  await withManagedUser(db, session, input.userId, async (tx, user) => {
    if (user.role === input.role) return;
    await tx.updateTable('users').set({ role: input.role }).where('id', '=', user.id).execute();
    await recordAudit(tx, session.tenantId, {
      action: 'user.role_changed',
      actor: actorOf(session),
      ip: input.ip,
      target: { type: 'user', id: user.id },
      details: { from: user.role, to: input.role },
    });
    await endUserSessionsTx(tx, session.tenantId, user.id, actorOf(session), input.ip);
    await revokeWhatTheyStartedTx(tx, user.id);
  });
}

/**
 * Disables a user (they can no longer sign in; their sessions end now, keys destroyed) or enables
 * them again. Their key grant stays: removing access for good is a key rotation (issue 9).
 */
export async function setUserDisabled(
  db: Db,
  session: SessionInfo,
  input: { userId: string; disabled: boolean; ip: string },
): Promise<void> {
  await withManagedUser(db, session, input.userId, async (tx, user) => {
    if (!!user.disabled_at === input.disabled) return;
    await tx
      .updateTable('users')
      .set({ disabled_at: input.disabled ? new Date() : null })
      .where('id', '=', user.id)
      .execute();
    await recordAudit(tx, session.tenantId, {
      ...(input.disabled ? { action: 'user.disabled' } : { action: 'user.enabled' }),
      actor: actorOf(session),
      ip: input.ip,
      target: { type: 'user', id: user.id },
    });
    if (input.disabled) {
      await endUserSessionsTx(tx, session.tenantId, user.id, actorOf(session), input.ip);
      await revokeWhatTheyStartedTx(tx, user.id);
    }
  });
}

/** Signs a user out everywhere (a lost laptop); returns how many sessions ended. */
export async function endSessionsOf(
  db: Db,
  session: SessionInfo,
  input: { userId: string; ip: string },
): Promise<number> {
  return withManagedUser(db, session, input.userId, (tx, user) =>
    endUserSessionsTx(tx, session.tenantId, user.id, actorOf(session), input.ip),
  );
}
