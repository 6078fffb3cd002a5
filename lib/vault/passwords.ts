import { equalBytes, zeroize } from '../crypto/bytes';
import { CryptoError } from '../crypto/errors';
import type { Argon2Params } from '../crypto/password';
import { decodeRecoveryKey, recoveryKeyPair } from '../crypto/recovery-key';
import { openSealed } from '../crypto/sealed-box';
import type { Db } from '../db';
import { recordAudit, type AuditInput } from '../audit/record';
import { withTenant, type TenantTx } from '../db/tenant-scope';
import { bind } from '../crypto/bindings';
import { unwrapWithPassword, userByEmail } from './unlock';
import { storePasswordWrap } from './users';

/**
 * Checks the new password's length, stores the user's private key under it (storePasswordWrap)
 * and records the audit event of the action that set it, in the same transaction.
 * Consumes `userPrivateKey`: it is wiped afterwards, whatever happens.
 */
export async function replacePassword(
  tx: TenantTx,
  tenantId: string,
  user: { id: string; email: string },
  userPrivateKey: Buffer,
  change: {
    password: string;
    argon2?: Argon2Params;
    event: Pick<AuditInput, 'action' | 'details'>;
  },
) {
  try {
    if (change.password.length < 12) throw new Error('passwords need at least 12 characters');
    await storePasswordWrap(tx, tenantId, user.id, userPrivateKey, change.password, change.argon2);
  } finally {
    zeroize(userPrivateKey);
  }
  await recordAudit(tx, tenantId, {
    ...change.event,
    actor: { type: 'user', id: user.id, label: user.email },
    target: { type: 'user', id: user.id },
  });
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
    /** Runs in the same transaction after the change (the portal ends the user's other sessions). */
    also?: (tx: TenantTx, userId: string) => Promise<void>;
  },
): Promise<void> {
  await withTenant(db, input.tenantId, async (tx) => {
    const user = await userByEmail(tx, input.tenantId, input.email);
    if (!user) throw new CryptoError('wrong-password');
    const { userPrivateKey } = await unwrapWithPassword(
      input.tenantId,
      user,
      input.currentPassword,
    );
    await replacePassword(tx, input.tenantId, user, userPrivateKey, {
      password: input.newPassword,
      argon2: input.argon2,
      event: { action: 'password.changed' },
    });
    await input.also?.(tx, user.id);
  });
}

/**
 * Opens user `userId`'s private key with the tenant recovery key (its copy sealed to the recovery
 * public key). A key of another tenant, a typo or an unknown user fail alike: 'bad-recovery-key'.
 */
export async function openWithRecoveryKey(
  tx: TenantTx,
  tenantId: string,
  userId: string | undefined,
  recoveryKey: string,
): Promise<Buffer> {
  const secret = decodeRecoveryKey(recoveryKey);
  const recovery = recoveryKeyPair(secret);
  zeroize(secret);
  try {
    const tenant = await tx
      .selectFrom('tenants')
      .select('recovery_public_key')
      .where('id', '=', tenantId)
      .executeTakeFirst();
    if (!tenant || !equalBytes(tenant.recovery_public_key, recovery.publicKey))
      throw new CryptoError('bad-recovery-key');
    const user = userId
      ? await tx
          .selectFrom('users')
          .select('recovery_sealed_private_key')
          .where('id', '=', userId)
          .executeTakeFirst()
      : undefined;
    if (!user) throw new CryptoError('bad-recovery-key');
    return openSealed(
      recovery.privateKey,
      bind.userKeyRecovery(tenantId, userId!),
      user.recovery_sealed_private_key,
    );
  } finally {
    zeroize(recovery.privateKey);
  }
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
  await withTenant(db, input.tenantId, async (tx) => {
    const user = await userByEmail(tx, input.tenantId, input.email);
    const userPrivateKey = await openWithRecoveryKey(
      tx,
      input.tenantId,
      user?.id,
      input.recoveryKey,
    );
    await replacePassword(tx, input.tenantId, user!, userPrivateKey, {
      password: input.newPassword,
      argon2: input.argon2,
      event: {
        action: 'key.recovered',
        details: { method: 'recovery-key', passwordReset: true },
      },
    });
  });
}
