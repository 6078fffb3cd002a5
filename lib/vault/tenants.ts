import { randomUUID } from 'node:crypto';
import { zeroize } from '../crypto/bytes';
import type { Argon2Params } from '../crypto/password';
import { encodeRecoveryKey, generateRecoverySecret, recoveryKeyPair } from '../crypto/recovery-key';
import { generateKeyPair } from '../crypto/x25519';
import type { Db } from '../db';
import { withTenant } from '../db/tenant-scope';
import { recordAudit, type Actor } from '../audit/record';
import { insertUser, type NewUser } from './users';

export interface CreatedTenant {
  tenantId: string;
  adminUserId: string;
  /** Shown once to the customer; never stored. */
  recoveryKey: string;
}

/** A new tenant: its key pair, the recovery key, and the first administrator. */
export async function createTenant(
  db: Db,
  input: {
    name: string;
    admin: Omit<NewUser, 'role'>;
    argon2?: Argon2Params;
    actor?: Actor;
    /** Set when an invitation named the tenant before it existed (portal setup). */
    tenantId?: string;
    /** 'owner' for a tenant set up in the portal; 'admin' for operator-made test tenants. */
    adminRole?: 'owner' | 'admin';
  },
): Promise<CreatedTenant> {
  const tenantId = input.tenantId ?? randomUUID();
  const adminRole = input.adminRole ?? 'admin';
  const tenantKeys = generateKeyPair();
  const recoverySecret = generateRecoverySecret();
  const recovery = recoveryKeyPair(recoverySecret);
  try {
    const adminUserId = await withTenant(db, tenantId, async (tx) => {
      await tx
        .insertInto('tenants')
        .values({
          id: tenantId,
          name: input.name,
          public_key: tenantKeys.publicKey,
          key_version: 1,
          recovery_public_key: recovery.publicKey,
        })
        .execute();
      const actor = input.actor ?? { type: 'system' as const };
      await recordAudit(tx, tenantId, {
        action: 'tenant.created',
        actor,
        target: { type: 'tenant', id: tenantId },
        details: { name: input.name },
      });
      await recordAudit(tx, tenantId, {
        action: 'key.created',
        actor,
        target: { type: 'tenant-key', id: 'v1' },
        details: { purpose: 'tenant', version: 1 },
      });
      const userId = await insertUser(
        tx,
        {
          tenantId,
          keyVersion: 1,
          tenantPrivateKey: tenantKeys.privateKey,
          recoveryPublicKey: recovery.publicKey,
        },
        { ...input.admin, role: adminRole },
        input.argon2,
      );
      await recordAudit(tx, tenantId, {
        action: 'user.added',
        actor,
        target: { type: 'user', id: userId },
        details: { email: input.admin.email, role: adminRole },
      });
      return userId;
    });
    return { tenantId, adminUserId, recoveryKey: encodeRecoveryKey(recoverySecret) };
  } finally {
    zeroize(tenantKeys.privateKey, recoverySecret, recovery.privateKey);
  }
}
