import { equalBytes, zeroize } from '../crypto/bytes';
import { CryptoError } from '../crypto/errors';
import { checkPassword, DEFAULT_ARGON2, newPassword, type Argon2Params } from '../crypto/password';
import { decodeRecoveryKey, recoveryKeyPair } from '../crypto/recovery-key';
import { openSealed, unwrap, wrap } from '../crypto/sealed-box';
import type { Db } from '../db';
import { withTenant, type TenantTx } from '../db/tenant-scope';
import { bind } from './bindings';
import { userByEmail } from './unlock';
import { passwordColumns } from './users';

async function setPassword(
  tx: TenantTx,
  tenantId: string,
  userId: string,
  userPrivateKey: Uint8Array,
  password: string,
  argon2: Argon2Params,
) {
  if (password.length < 12) throw new Error('passwords need at least 12 characters');
  const { record, keys } = await newPassword(password, argon2);
  await tx
    .updateTable('users')
    .set({
      wrapped_private_key: wrap(keys.kek, bind.userKey(tenantId, userId), userPrivateKey),
      ...passwordColumns(record),
    })
    .where('id', '=', userId)
    .where('tenant_id', '=', tenantId)
    .execute();
  zeroize(keys.kek, keys.authKey);
}

/** Re-wraps the user's private key under a KEK from the new password; nothing else changes. */
export async function changePassword(
  db: Db,
  input: {
    tenantId: string;
    email: string;
    currentPassword: string;
    newPassword: string;
    argon2?: Argon2Params;
  },
): Promise<void> {
  await withTenant(db, input.tenantId, async (tx) => {
    const user = await userByEmail(tx, input.tenantId, input.email);
    if (!user) throw new CryptoError('wrong-password');
    const keys = await checkPassword(input.currentPassword, {
      salt: user.password_salt,
      params: {
        memoryKiB: user.argon2_memory_kib,
        iterations: user.argon2_iterations,
        parallelism: user.argon2_parallelism,
      },
      verifier: user.password_verifier,
    });
    if (!keys) throw new CryptoError('wrong-password');
    const userPrivateKey = unwrap(
      keys.kek,
      bind.userKey(input.tenantId, user.id),
      user.wrapped_private_key,
    );
    zeroize(keys.kek, keys.authKey);
    try {
      await setPassword(
        tx,
        input.tenantId,
        user.id,
        userPrivateKey,
        input.newPassword,
        input.argon2 ?? DEFAULT_ARGON2,
      );
    } finally {
      zeroize(userPrivateKey);
    }
  });
}

/**
 * Restores a user's access with the tenant recovery key: opens the user's private key sealed to
 * the recovery public key and wraps it under a new password. The recovery key itself stays valid.
 */
export async function recoverAccess(
  db: Db,
  input: {
    tenantId: string;
    email: string;
    recoveryKey: string;
    newPassword: string;
    argon2?: Argon2Params;
  },
): Promise<void> {
  const secret = decodeRecoveryKey(input.recoveryKey);
  const recovery = recoveryKeyPair(secret);
  zeroize(secret);
  try {
    await withTenant(db, input.tenantId, async (tx) => {
      const tenant = await tx
        .selectFrom('tenants')
        .select('recovery_public_key')
        .where('id', '=', input.tenantId)
        .executeTakeFirst();
      if (!tenant || !equalBytes(tenant.recovery_public_key, recovery.publicKey))
        throw new CryptoError('bad-recovery-key');
      const user = await userByEmail(tx, input.tenantId, input.email);
      if (!user) throw new CryptoError('bad-recovery-key');
      const userPrivateKey = openSealed(
        recovery.privateKey,
        bind.userKeyRecovery(input.tenantId, user.id),
        user.recovery_sealed_private_key,
      );
      try {
        await setPassword(
          tx,
          input.tenantId,
          user.id,
          userPrivateKey,
          input.newPassword,
          input.argon2 ?? DEFAULT_ARGON2,
        );
      } finally {
        zeroize(userPrivateKey);
      }
    });
  } finally {
    zeroize(recovery.privateKey);
  }
}
