import { recordAudit } from '../audit/record';
import { bind } from '../crypto/bindings';
import { sealTo } from '../crypto/sealed-box';
import type { Db } from '../db';
import { withTenant } from '../db/tenant-scope';
import { isUuid } from '../input/input-error';
import { lock } from '../vault';
import { actorOf, RoleError } from './roles';
import { unlockedKeys, type SessionInfo } from './sessions';

/**
 * Access requests of people who first arrived through single sign-on (sso-login.ts): owners and
 * admins see them on the users page; approving one (the approver's unlocked session seals the
 * tenant key to the requester's public key) makes the account, rejecting one deletes its keys.
 * Both audited. An admin never approves an admin of… anything but what the mapping gave:
 * the role comes from the provider's groups and is never owner.
 */

const managers = (session: SessionInfo) => {
  if (session.role !== 'owner' && session.role !== 'admin')
    throw new RoleError('users.error.notAllowed');
};

export async function listSsoRequests(db: Db, session: SessionInfo) {
  managers(session);
  return withTenant(db, session.tenantId, (tx) =>
    tx
      .selectFrom('sso_requests')
      .select(['id', 'email', 'role', 'requested_at'])
      .orderBy('requested_at')
      .execute(),
  );
}

export async function decideSsoRequest(
  db: Db,
  session: SessionInfo,
  cookie: string,
  input: { requestId: string; approve: boolean; ip: string },
): Promise<void> {
  managers(session);
  if (!isUuid(input.requestId)) throw new RoleError('users.error.noSuchUser');
  await withTenant(db, session.tenantId, async (tx) => {
    const request = await tx
      .deleteFrom('sso_requests')
      .where('id', '=', input.requestId)
      .returningAll()
      .executeTakeFirst();
    if (!request) throw new RoleError('users.error.noSuchUser');
    if (!input.approve) {
      await recordAudit(tx, session.tenantId, {
        action: 'user.access_rejected',
        actor: actorOf(session),
        ip: input.ip,
        target: { type: 'sso-request', id: request.id },
        details: { email: request.email },
      });
      return;
    }
    const taken = await tx
      .selectFrom('users')
      .select('id')
      .where('email', '=', request.email)
      .executeTakeFirst();
    if (taken) throw new RoleError('users.error.exists');
    const unlocked = await unlockedKeys(tx, session, cookie);
    try {
      const { id, tenant_id, email, role, requested_at: _, ...keys } = request;
      await tx
        .insertInto('users')
        .values({ id, tenant_id, email, role, ...keys })
        .execute();
      await tx
        .insertInto('tenant_key_grants')
        .values({
          tenant_id,
          user_id: id,
          key_version: unlocked.tenantKeyVersion,
          sealed_private_key: sealTo(
            request.public_key,
            bind.tenantGrant(tenant_id, unlocked.tenantKeyVersion, id),
            unlocked.tenantPrivateKey,
          ),
        })
        .execute();
      await recordAudit(tx, session.tenantId, {
        action: 'user.added',
        actor: actorOf(session),
        ip: input.ip,
        target: { type: 'user', id },
        details: { email, role, via: 'sso', approvedBy: session.userId },
      });
    } finally {
      lock(unlocked);
    }
  });
}
