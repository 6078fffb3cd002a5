import { randomBytes } from 'node:crypto';
import { sql } from 'kysely';
import { zeroize } from '../crypto/bytes';
import { CryptoError } from '../crypto/errors';
import {
  checkPassword,
  DEFAULT_ARGON2,
  derivePasswordKeys,
  needsUpgrade,
  type Argon2Params,
} from '../crypto/password';
import { openSealed, unwrap } from '../crypto/sealed-box';
import type { Db } from '../db';
import { withTenant, type TenantTx } from '../db/tenant-scope';
import { bind } from '../crypto/bindings';
import type { UnlockedSession } from './session';
import { storePasswordWrap } from './users';

export const userByEmail = (tx: TenantTx, tenantId: string, email: string) =>
  tx
    .selectFrom('users')
    .selectAll()
    .where('tenant_id', '=', tenantId)
    .where(sql<string>`lower(email)`, '=', email.trim().toLowerCase())
    .where('disabled_at', 'is', null)
    .executeTakeFirst();

type UserRow = NonNullable<Awaited<ReturnType<typeof userByEmail>>>;

/** Checks `password` against the user's record and unwraps their private key with its KEK. */
export async function unwrapWithPassword(tenantId: string, user: UserRow, password: string) {
  const stored: Argon2Params = {
    memoryKiB: user.argon2_memory_kib,
    iterations: user.argon2_iterations,
    parallelism: user.argon2_parallelism,
  };
  const keys = await checkPassword(password, {
    salt: user.password_salt,
    params: stored,
    verifier: user.password_verifier,
  });
  if (!keys) throw new CryptoError('wrong-password');
  try {
    const userPrivateKey = unwrap(
      keys.kek,
      bind.userKey(tenantId, user.id),
      user.wrapped_private_key,
    );
    return { userPrivateKey, stored };
  } finally {
    zeroize(keys.kek, keys.authKey);
  }
}

/** Opens the tenant private key granted to `userId` at the tenant's current key version. */
export async function openTenantKey(
  tx: TenantTx,
  tenantId: string,
  userId: string,
  userPrivateKey: Uint8Array,
) {
  const tenant = await tx
    .selectFrom('tenants')
    .select(['key_version'])
    .where('id', '=', tenantId)
    .executeTakeFirstOrThrow();
  const grant = await tx
    .selectFrom('tenant_key_grants')
    .select('sealed_private_key')
    .where('tenant_id', '=', tenantId)
    .where('user_id', '=', userId)
    .where('key_version', '=', tenant.key_version)
    .executeTakeFirst();
  if (!grant) throw new CryptoError('decrypt-failed');
  const key = openSealed(
    userPrivateKey,
    bind.tenantGrant(tenantId, tenant.key_version, userId),
    grant.sealed_private_key,
  );
  return { tenantPrivateKey: key, tenantKeyVersion: tenant.key_version };
}

/**
 * The unlocked keys of a user whose private key is open (by password, recovery key or passkey):
 * the tenant key opened through their grant.
 */
export async function unlockedWith(
  tx: TenantTx,
  tenantId: string,
  user: { id: string; role: UnlockedSession['role'] },
  userPrivateKey: Buffer,
): Promise<UnlockedSession> {
  const tenant = await openTenantKey(tx, tenantId, user.id, userPrivateKey);
  return { tenantId, userId: user.id, role: user.role, userPrivateKey, ...tenant };
}

/**
 * Password → KEK → user private key → tenant private key. A wrong password and an unknown e-mail
 * address fail alike and take the same Argon2 time. When the configured Argon2 parameters are
 * stronger than the stored ones, the private key is re-wrapped under a KEK with the new ones.
 */
export async function unlock(
  db: Db,
  input: { tenantId: string; email: string; password: string; argon2?: Argon2Params },
): Promise<UnlockedSession> {
  const configured = input.argon2 ?? DEFAULT_ARGON2;
  return withTenant(db, input.tenantId, async (tx) => {
    const user = await userByEmail(tx, input.tenantId, input.email);
    if (!user) {
      const dummy = await derivePasswordKeys(input.password, randomBytes(16), configured);
      zeroize(dummy.kek, dummy.authKey);
      throw new CryptoError('wrong-password');
    }
    const { userPrivateKey, stored } = await unwrapWithPassword(
      input.tenantId,
      user,
      input.password,
    );

    if (needsUpgrade(stored, configured)) {
      await storePasswordWrap(
        tx,
        input.tenantId,
        user.id,
        userPrivateKey,
        input.password,
        configured,
      );
    }

    return unlockedWith(tx, input.tenantId, user, userPrivateKey);
  });
}
