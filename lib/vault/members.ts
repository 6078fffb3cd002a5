import type { Argon2Params } from '../crypto/password';
import type { Db } from '../db';
import { withTenant } from '../db/tenant-scope';
import { recordAudit } from '../audit/record';
import { requireAdmin, VaultError, type UnlockedSession } from './session';
import { insertUser, type NewUser } from './users';

/** Adds a member; only an unlocked administrator holds the tenant key that must be granted. */
export async function addMember(
  db: Db,
  admin: UnlockedSession,
  user: NewUser,
  argon2?: Argon2Params,
): Promise<string> {
  requireAdmin(admin, admin.tenantId);
  return withTenant(db, admin.tenantId, async (tx) => {
    const tenant = await tx
      .selectFrom('tenants')
      .selectAll()
      .where('id', '=', admin.tenantId)
      .executeTakeFirstOrThrow();
    if (tenant.key_version !== admin.tenantKeyVersion)
      throw new VaultError('the tenant key was rotated; unlock again');
    const userId = await insertUser(
      tx,
      {
        tenantId: admin.tenantId,
        keyVersion: tenant.key_version,
        tenantPrivateKey: admin.tenantPrivateKey,
        recoveryPublicKey: tenant.recovery_public_key,
      },
      user,
      argon2,
    );
    await recordAudit(tx, admin.tenantId, {
      action: 'user.added',
      actor: { type: 'user', id: admin.userId },
      target: { type: 'user', id: userId },
      details: { email: user.email, role: user.role },
    });
    return userId;
  });
}
