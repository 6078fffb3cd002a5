import { randomBytes, randomUUID, type KeyObject } from 'node:crypto';
import { equalBytes, zeroize } from '../crypto/bytes';
import { CryptoError } from '../crypto/errors';
import { openSealed, sealTo } from '../crypto/sealed-box';
import { generateKeyPair, privateKeyObject, publicFromPrivate } from '../crypto/x25519';
import { decryptBuffer, encryptBuffer } from '../crypto/stream';
import type { Db } from '../db';
import { withTenant } from '../db/tenant-scope';
import { bind } from '../crypto/bindings';
import { VaultError, type TenantKeys } from './session';

export interface EpochPublicKey {
  epochId: string;
  publicKey: Buffer;
}

/** `YYYY-MM` in UTC: epochs are per tenant × retention class × calendar month. */
export const epochMonth = (d: Date): string => d.toISOString().slice(0, 7);

/**
 * An epoch private key as stored: sealed to the tenant public key, and that wrapped under the
 * epoch's shred key from the shred-key vault (so destroying the shred key destroys the epoch).
 */
export async function sealEpochKey(
  db: Db,
  epoch: { tenantId: string; epochId: string; tenantKeyVersion: number; tenantPublicKey: Buffer },
  privateKey: Uint8Array,
): Promise<Buffer> {
  const { tenantId, epochId, tenantKeyVersion } = epoch;
  const inner = sealTo(
    epoch.tenantPublicKey,
    bind.epochKey(tenantId, epochId, tenantKeyVersion),
    privateKey,
  );
  const shredKey = await db.shredKeys.create(tenantId, epochId);
  try {
    return await encryptBuffer(
      shredKey,
      bind.epochShredLayer(tenantId, epochId, tenantKeyVersion),
      inner,
    );
  } finally {
    zeroize(shredKey);
  }
}

/** The inverse of sealEpochKey; a shredded epoch (no shred key any more) opens for nobody. */
export async function openEpochKey(
  db: Db,
  epoch: {
    tenantId: string;
    epochId: string;
    tenantKeyVersion: number;
    sealed: Uint8Array;
    shredLayer: boolean;
  },
  tenantPrivateKey: Uint8Array,
): Promise<Buffer> {
  const { tenantId, epochId, tenantKeyVersion } = epoch;
  let inner: Uint8Array = epoch.sealed;
  // Epochs created before the shred-key vault existed have the inner layer only.
  if (epoch.shredLayer) {
    const shredKey = await db.shredKeys.get(tenantId, epochId);
    if (!shredKey) throw new VaultError('epoch has been shredded');
    try {
      inner = await decryptBuffer(
        shredKey,
        bind.epochShredLayer(tenantId, epochId, tenantKeyVersion),
        epoch.sealed,
      );
    } finally {
      zeroize(shredKey);
    }
  }
  return openSealed(tenantPrivateKey, bind.epochKey(tenantId, epochId, tenantKeyVersion), inner);
}

/**
 * The epoch public key ingest encrypts DEKs to, creating the epoch on first use. Needs no private
 * key: the new epoch's private half is sealed to the tenant public key and forgotten at once, and
 * its index key is sealed to the epoch public key. Concurrent callers converge on one epoch.
 */
export async function currentEpochPublicKey(
  db: Db,
  input: { tenantId: string; retentionClass: string; now?: Date },
): Promise<EpochPublicKey> {
  const month = epochMonth(input.now ?? new Date());
  return withTenant(db, input.tenantId, async (tx) => {
    const findEpoch = () =>
      tx
        .selectFrom('epochs')
        .select(['id', 'public_key'])
        .where('tenant_id', '=', input.tenantId)
        .where('retention_class', '=', input.retentionClass)
        .where('month', '=', month)
        .where('shredded_at', 'is', null)
        .executeTakeFirst();
    const existing = await findEpoch();
    if (existing) return { epochId: existing.id, publicKey: existing.public_key };

    // FOR SHARE: a key rotation finishing meanwhile waits for this epoch, then re-seals it too.
    const tenant = await tx
      .selectFrom('tenants')
      .select(['public_key', 'key_version'])
      .where('id', '=', input.tenantId)
      .forShare()
      .executeTakeFirstOrThrow();
    const id = randomUUID();
    const keys = generateKeyPair();
    const indexKey = randomBytes(32);
    let inserted: boolean;
    try {
      const sealed = await sealEpochKey(
        db,
        {
          tenantId: input.tenantId,
          epochId: id,
          tenantKeyVersion: tenant.key_version,
          tenantPublicKey: tenant.public_key,
        },
        keys.privateKey,
      );
      const r = await tx
        .insertInto('epochs')
        .values({
          id,
          tenant_id: input.tenantId,
          retention_class: input.retentionClass,
          month,
          public_key: keys.publicKey,
          sealed_private_key: sealed,
          shred_layer: true,
          tenant_key_version: tenant.key_version,
          sealed_index_key: sealTo(keys.publicKey, bind.indexKey(input.tenantId, id), indexKey),
        })
        .onConflict((oc) =>
          oc
            .columns(['tenant_id', 'retention_class', 'month'])
            .where('shredded_at', 'is', null)
            .doNothing(),
        )
        .executeTakeFirst();
      inserted = Number(r.numInsertedOrUpdatedRows ?? 0) > 0;
    } finally {
      zeroize(keys.privateKey, indexKey);
    }
    // Another caller created the month's epoch first: ours was never used.
    if (!inserted) await db.shredKeys.destroy(input.tenantId, id);
    const row = await findEpoch().then(
      (r) => r ?? Promise.reject(new VaultError('epoch vanished')),
    );
    return { epochId: row.id, publicKey: row.public_key };
  });
}

export interface UnlockedEpoch {
  epochId: string;
  privateKey: Buffer;
  /** Checked against the private key at unlock, and the private key imported once: each mail's
   * DEK open (HPKE) would otherwise derive and import both again. */
  known?: { publicKey: Buffer; privateKeyObject: KeyObject };
  indexKey: Buffer;
}

/**
 * Opens an epoch's private and index keys with the session's tenant key. The stored public key is
 * checked against the private half: a public key substituted in the database (so that ingest would
 * encrypt to someone else) is detected here rather than trusted.
 */
export async function unlockEpoch(
  db: Db,
  session: TenantKeys,
  epochId: string,
): Promise<UnlockedEpoch> {
  return withTenant(db, session.tenantId, async (tx) => {
    const epoch = await tx
      .selectFrom('epochs')
      .selectAll()
      .where('id', '=', epochId)
      .where('tenant_id', '=', session.tenantId)
      .executeTakeFirst();
    if (!epoch) throw new VaultError('no such epoch');
    if (!epoch.sealed_private_key || !epoch.sealed_index_key)
      throw new VaultError('epoch has been shredded');
    if (epoch.tenant_key_version !== session.tenantKeyVersion)
      throw new VaultError('the tenant key was rotated; unlock again');
    const privateKey = await openEpochKey(
      db,
      {
        tenantId: session.tenantId,
        epochId,
        tenantKeyVersion: epoch.tenant_key_version,
        sealed: epoch.sealed_private_key,
        shredLayer: epoch.shred_layer,
      },
      session.tenantPrivateKey,
    );
    if (!equalBytes(publicFromPrivate(privateKey), epoch.public_key)) {
      zeroize(privateKey);
      throw new CryptoError('key-mismatch');
    }
    const indexKey = openSealed(
      privateKey,
      bind.indexKey(session.tenantId, epochId),
      epoch.sealed_index_key,
    );
    return {
      epochId,
      privateKey,
      known: {
        publicKey: Buffer.from(epoch.public_key),
        privateKeyObject: privateKeyObject(privateKey),
      },
      indexKey,
    };
  });
}
