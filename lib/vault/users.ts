import { randomUUID } from 'node:crypto';
import { zeroize } from '../crypto/bytes';
import {
  DEFAULT_ARGON2,
  newPassword,
  type Argon2Params,
  type PasswordRecord,
} from '../crypto/password';
import { sealTo, wrap } from '../crypto/sealed-box';
import { generateKeyPair } from '../crypto/x25519';
import type { Role } from '../db/schema';
import type { TenantTx } from '../db/tenant-scope';
import { bind } from '../crypto/bindings';

export interface NewUser {
  email: string;
  password: string;
  role: Role;
}

export const passwordColumns = (r: PasswordRecord) => ({
  password_salt: r.salt,
  argon2_memory_kib: r.params.memoryKiB,
  argon2_iterations: r.params.iterations,
  argon2_parallelism: r.params.parallelism,
  password_verifier: r.verifier,
});

/**
 * Wraps `userPrivateKey` under a KEK from `password` (fresh salt, given Argon2 parameters) and
 * stores it with the new password record. Does not consume the key: callers wipe it.
 */
export async function storePasswordWrap(
  tx: TenantTx,
  tenantId: string,
  userId: string,
  userPrivateKey: Uint8Array,
  password: string,
  argon2: Argon2Params = DEFAULT_ARGON2,
): Promise<void> {
  const { record, keys } = await newPassword(password, argon2);
  try {
    await tx
      .updateTable('users')
      .set({
        wrapped_private_key: wrap(keys.kek, bind.userKey(tenantId, userId), userPrivateKey),
        ...passwordColumns(record),
      })
      .where('id', '=', userId)
      .where('tenant_id', '=', tenantId)
      .execute();
  } finally {
    zeroize(keys.kek, keys.authKey);
  }
}

/**
 * A fresh key pair for user `userId` as its columns: the private half wrapped under a KEK from
 * `password` and sealed to the tenant's recovery public key, then wiped. Grants are sealed to
 * the returned `public_key`.
 */
export async function newUserKeys(
  tenantId: string,
  userId: string,
  password: string,
  recoveryPublicKey: Uint8Array,
  argon2: Argon2Params = DEFAULT_ARGON2,
) {
  const keys = generateKeyPair();
  const { record, keys: pw } = await newPassword(password, argon2);
  try {
    return {
      public_key: Buffer.from(keys.publicKey),
      wrapped_private_key: wrap(pw.kek, bind.userKey(tenantId, userId), keys.privateKey),
      recovery_sealed_private_key: sealTo(
        recoveryPublicKey,
        bind.userKeyRecovery(tenantId, userId),
        keys.privateKey,
      ),
      ...passwordColumns(record),
    };
  } finally {
    zeroize(keys.privateKey, pw.kek, pw.authKey);
  }
}

/**
 * Creates a user with a fresh key pair: private half wrapped under the password KEK and sealed to
 * the tenant's recovery public key; the tenant private key is granted to the new user. Inside the
 * caller's tenant transaction.
 */
export async function insertUser(
  tx: TenantTx,
  t: {
    tenantId: string;
    keyVersion: number;
    tenantPrivateKey: Uint8Array;
    recoveryPublicKey: Uint8Array;
  },
  user: NewUser,
  argon2?: Argon2Params,
): Promise<string> {
  const email = user.email.trim();
  if (!/^[^\s@]+@[^\s@]+$/.test(email)) throw new Error('not an e-mail address');
  if (user.password.length < 12) throw new Error('passwords need at least 12 characters');
  const id = randomUUID();
  const keys = await newUserKeys(t.tenantId, id, user.password, t.recoveryPublicKey, argon2);
  await tx
    .insertInto('users')
    .values({ id, tenant_id: t.tenantId, email, role: user.role, ...keys })
    .execute();
  await tx
    .insertInto('tenant_key_grants')
    .values({
      tenant_id: t.tenantId,
      user_id: id,
      key_version: t.keyVersion,
      sealed_private_key: sealTo(
        keys.public_key,
        bind.tenantGrant(t.tenantId, t.keyVersion, id),
        t.tenantPrivateKey,
      ),
    })
    .execute();
  return id;
}
