import { zeroize } from '../crypto/bytes';
import { sealTo } from '../crypto/sealed-box';
import { generateKeyPair } from '../crypto/x25519';
import type { Db } from '../db';
import { resealAuditKey } from '../audit/audit-key';
import { recordAudit } from '../audit/record';
import { withTenant } from '../db/tenant-scope';
import { bind } from './bindings';
import { openEpochKey, sealEpochKey } from './epochs';
import { requireAdmin, VaultError, type UnlockedSession } from './session';

/**
 * Rotates the tenant key pair: every live epoch key is re-sealed to the new tenant public key,
 * every remaining member gets a grant of the new tenant private key, all grants of older versions
 * are deleted, and members named in `removeUserIds` are disabled and get no grant. One transaction:
 * it happens completely or not at all. Returns the admin's session under the new key.
 *
 * What it cannot undo: a removed member who copied epoch private keys while still a member can
 * still read those epochs' mail, since epoch keys themselves are not changed (docs/crypto.md).
 */
export async function rotateTenantKey(
  db: Db,
  admin: UnlockedSession,
  opts: { removeUserIds?: string[] } = {},
): Promise<UnlockedSession> {
  requireAdmin(admin, admin.tenantId);
  const remove = new Set(opts.removeUserIds ?? []);
  if (remove.has(admin.userId))
    throw new VaultError('an administrator cannot remove themselves while rotating');
  const next = generateKeyPair();
  const tenantId = admin.tenantId;
  try {
    const version = await withTenant(db, tenantId, async (tx) => {
      const tenant = await tx
        .selectFrom('tenants')
        .selectAll()
        .where('id', '=', tenantId)
        .forUpdate()
        .executeTakeFirstOrThrow();
      if (tenant.key_version !== admin.tenantKeyVersion)
        throw new VaultError('the tenant key was rotated meanwhile; unlock again');
      const v = tenant.key_version + 1;

      const epochs = await tx
        .selectFrom('epochs')
        .select(['id', 'sealed_private_key', 'tenant_key_version', 'shred_layer'])
        .where('tenant_id', '=', tenantId)
        .where('shredded_at', 'is', null)
        .execute();
      for (const e of epochs) {
        if (!e.sealed_private_key) continue;
        const epochKey = await openEpochKey(
          db,
          {
            tenantId,
            epochId: e.id,
            tenantKeyVersion: e.tenant_key_version,
            sealed: e.sealed_private_key,
            shredLayer: e.shred_layer,
          },
          admin.tenantPrivateKey,
        );
        const sealed = await sealEpochKey(
          db,
          { tenantId, epochId: e.id, tenantKeyVersion: v, tenantPublicKey: next.publicKey },
          epochKey,
        );
        await tx
          .updateTable('epochs')
          .set({ sealed_private_key: sealed, shred_layer: true, tenant_key_version: v })
          .where('id', '=', e.id)
          .execute();
        zeroize(epochKey);
      }

      await resealAuditKey(tx, tenantId, admin.tenantPrivateKey, next.publicKey, v);

      if (remove.size)
        await tx
          .updateTable('users')
          .set({ disabled_at: new Date() })
          .where('tenant_id', '=', tenantId)
          .where('id', 'in', [...remove])
          .execute();
      const members = await tx
        .selectFrom('users')
        .select(['id', 'public_key'])
        .where('tenant_id', '=', tenantId)
        .where('disabled_at', 'is', null)
        .execute();
      for (const m of members) {
        await tx
          .insertInto('tenant_key_grants')
          .values({
            tenant_id: tenantId,
            user_id: m.id,
            key_version: v,
            sealed_private_key: sealTo(
              m.public_key,
              bind.tenantGrant(tenantId, v, m.id),
              next.privateKey,
            ),
          })
          .execute();
      }
      await tx
        .deleteFrom('tenant_key_grants')
        .where('tenant_id', '=', tenantId)
        .where('key_version', '<', v)
        .execute();
      await tx
        .updateTable('tenants')
        .set({ public_key: next.publicKey, key_version: v })
        .where('id', '=', tenantId)
        .execute();
      const actor = { type: 'user' as const, id: admin.userId };
      await recordAudit(tx, tenantId, {
        action: 'key.rotated',
        actor,
        target: { type: 'tenant-key', id: `v${v}` },
        details: {
          from: tenant.key_version,
          to: v,
          epochsResealed: epochs.length,
          members: members.length,
        },
      });
      for (const userId of remove)
        await recordAudit(tx, tenantId, {
          action: 'user.removed',
          actor,
          target: { type: 'user', id: userId },
          details: { atKeyVersion: v },
        });
      return v;
    });
    zeroize(admin.tenantPrivateKey);
    return { ...admin, tenantPrivateKey: Buffer.from(next.privateKey), tenantKeyVersion: version };
  } finally {
    zeroize(next.privateKey);
  }
}
