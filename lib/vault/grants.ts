import { randomBytes, randomUUID } from 'node:crypto';
import { zeroize } from '../crypto/bytes';
import { unwrap, wrap } from '../crypto/sealed-box';
import type { Db } from '../db';
import { withTenant } from '../db/tenant-scope';
import { bind } from '../crypto/bindings';
import { VaultError, type TenantKeys, type UnlockedSession } from './session';

export type { TenantKeys };

/**
 * Decryption grants (DESIGN §4): what a background job gets instead of a user's keys. An unlocked
 * session wraps the tenant key under a fresh random grant key; the wrapped blob goes to the
 * database with an expiry, the grant key only into the job's workflow input (which the Temporal
 * PayloadCodec encrypts). The job opens the grant, does its work and destroys it; an expired or
 * destroyed grant opens nothing.
 */

export type GrantPurpose = 'search-index' | 'export' | 'key-rotation' | 'import' | 'restore';

export interface IssuedGrant {
  grantId: string;
  /** base64url; belongs in the workflow input only. */
  grantKey: string;
  expiresAt: Date;
}

export async function issueGrant(
  db: Db,
  session: UnlockedSession,
  input: { purpose: GrantPurpose; ttlMs: number },
): Promise<IssuedGrant> {
  const grantId = randomUUID();
  const key = randomBytes(32);
  const plain = Buffer.alloc(4 + 32);
  plain.writeUInt32BE(session.tenantKeyVersion, 0);
  session.tenantPrivateKey.copy(plain, 4);
  const expiresAt = new Date(Date.now() + input.ttlMs);
  try {
    await withTenant(db, session.tenantId, (tx) =>
      tx
        .insertInto('decryption_grants')
        .values({
          id: grantId,
          tenant_id: session.tenantId,
          purpose: input.purpose,
          created_by: session.userId,
          sealed_keys: wrap(key, bind.decryptionGrant(session.tenantId, grantId), plain),
          expires_at: expiresAt,
        })
        .execute(),
    );
    return { grantId, grantKey: key.toString('base64url'), expiresAt };
  } finally {
    zeroize(key, plain);
  }
}

export class GrantUnavailableError extends VaultError {
  override name = 'GrantUnavailableError';
}

/** The tenant key a live grant carries; throws GrantUnavailableError once destroyed or expired. */
export async function openGrant(
  db: Db,
  input: { tenantId: string; grantId: string; grantKey: string; purpose: GrantPurpose },
): Promise<TenantKeys> {
  const row = await withTenant(db, input.tenantId, (tx) =>
    tx
      .selectFrom('decryption_grants')
      .select(['sealed_keys', 'expires_at', 'purpose'])
      .where('id', '=', input.grantId)
      .executeTakeFirst(),
  );
  if (!row || row.purpose !== input.purpose || row.expires_at.getTime() <= Date.now())
    throw new GrantUnavailableError('the decryption grant is gone or expired');
  const key = Buffer.from(input.grantKey, 'base64url');
  const plain = unwrap(key, bind.decryptionGrant(input.tenantId, input.grantId), row.sealed_keys);
  try {
    return {
      tenantId: input.tenantId,
      tenantKeyVersion: plain.readUInt32BE(0),
      tenantPrivateKey: Buffer.from(plain.subarray(4, 36)),
    };
  } finally {
    zeroize(key, plain);
  }
}

/** Destroys a grant (idempotent); also sweeps the tenant's expired ones. */
export async function destroyGrant(db: Db, tenantId: string, grantId: string): Promise<void> {
  await withTenant(db, tenantId, (tx) =>
    tx
      .deleteFrom('decryption_grants')
      .where((eb) => eb.or([eb('id', '=', grantId), eb('expires_at', '<=', new Date())]))
      .execute(),
  );
}
