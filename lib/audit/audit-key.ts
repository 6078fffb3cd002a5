import { zeroize } from '../crypto/bytes';
import type { Binding } from '../crypto/context';
import { openSealed, sealTo } from '../crypto/sealed-box';
import { generateKeyPair } from '../crypto/x25519';
import type { Database } from '../db';
import type { Transaction } from 'kysely';

/**
 * Content-derived audit details (search terms and the like) are sealed to a per-tenant audit key
 * pair whose private key is sealed to the tenant key — like an epoch key, so a tenant key rotation
 * re-seals it and old events stay readable to auditors in an unlocked session. Sealing needs only
 * public keys, so any process can write such events.
 */

type Tx = Transaction<Database>;

export const auditKeyBinding = (tenant: string, tenantKeyVersion: number): Binding => ({
  tenant,
  message: `v${tenantKeyVersion}`,
  purpose: 'audit-private-key',
});

export const auditDetailsBinding = (tenant: string, eventId: string): Binding => ({
  tenant,
  message: eventId,
  purpose: 'audit-details',
});

/** The tenant's audit public key, created (sealed to the current tenant key) on first use. */
export async function auditPublicKey(tx: Tx, tenantId: string): Promise<Buffer> {
  const existing = await tx
    .selectFrom('audit_keys')
    .select('public_key')
    .where('tenant_id', '=', tenantId)
    .executeTakeFirst();
  if (existing) return existing.public_key;
  const tenant = await tx
    .selectFrom('tenants')
    .select(['public_key', 'key_version'])
    .where('id', '=', tenantId)
    .executeTakeFirstOrThrow();
  const pair = generateKeyPair();
  try {
    await tx
      .insertInto('audit_keys')
      .values({
        tenant_id: tenantId,
        public_key: Buffer.from(pair.publicKey),
        sealed_private_key: sealTo(
          tenant.public_key,
          auditKeyBinding(tenantId, tenant.key_version),
          pair.privateKey,
        ),
        tenant_key_version: tenant.key_version,
      })
      .onConflict((oc) => oc.column('tenant_id').doNothing())
      .execute();
  } finally {
    zeroize(pair.privateKey);
  }
  return (
    await tx
      .selectFrom('audit_keys')
      .select('public_key')
      .where('tenant_id', '=', tenantId)
      .executeTakeFirstOrThrow()
  ).public_key;
}

/** Re-seals the audit private key to a new tenant key (inside the rotation's transaction). */
export async function resealAuditKey(
  tx: Tx,
  tenantId: string,
  oldTenantPrivateKey: Buffer,
  newTenantPublicKey: Uint8Array,
  newVersion: number,
): Promise<void> {
  const row = await tx
    .selectFrom('audit_keys')
    .selectAll()
    .where('tenant_id', '=', tenantId)
    .executeTakeFirst();
  if (!row) return;
  const priv = openSealed(
    oldTenantPrivateKey,
    auditKeyBinding(tenantId, row.tenant_key_version),
    row.sealed_private_key,
  );
  try {
    await tx
      .updateTable('audit_keys')
      .set({
        sealed_private_key: sealTo(newTenantPublicKey, auditKeyBinding(tenantId, newVersion), priv),
        tenant_key_version: newVersion,
      })
      .where('tenant_id', '=', tenantId)
      .execute();
  } finally {
    zeroize(priv);
  }
}

/** Opens an event's sealed details with an unlocked session of its tenant. */
export async function openAuditDetails(
  tx: Tx,
  // The unlocked session's tenant key (lib/vault/session.ts), by shape: the vault writes audit
  // events, so the audit log does not import the vault.
  session: { tenantId: string; tenantPrivateKey: Buffer },
  event: { id: string; sealed_details: Buffer | null },
): Promise<Record<string, unknown> | null> {
  if (!event.sealed_details) return null;
  const row = await tx
    .selectFrom('audit_keys')
    .selectAll()
    .where('tenant_id', '=', session.tenantId)
    .executeTakeFirstOrThrow();
  const priv = openSealed(
    session.tenantPrivateKey,
    auditKeyBinding(session.tenantId, row.tenant_key_version),
    row.sealed_private_key,
  );
  try {
    const plain = openSealed(
      priv,
      auditDetailsBinding(session.tenantId, event.id),
      event.sealed_details,
    );
    return JSON.parse(plain.toString('utf8')) as Record<string, unknown>;
  } finally {
    zeroize(priv);
  }
}
