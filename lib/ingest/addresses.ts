import { randomUUID } from 'node:crypto';
import type { Db } from '../db';
import { withTenant } from '../db/tenant-scope';
import { recordAudit, type Actor } from '../audit/record';

/**
 * Ingest addresses: where a tenant's mail server journals to. Adding and removing them are
 * audited in the same transaction. An address is live for at most one tenant at a time.
 */

export class IngestAddressError extends Error {
  override name = 'IngestAddressError';
}

export function normaliseAddress(address: string): string {
  const a = address.trim().toLowerCase();
  if (!/^[^@\s<>]+@[^@\s<>]+\.[^@\s<>]+$/.test(a) || a.length > 254)
    throw new IngestAddressError(`not an e-mail address: ${JSON.stringify(address)}`);
  return a;
}

export async function addIngestAddress(
  db: Db,
  tenantId: string,
  address: string,
  actor: Actor,
): Promise<string> {
  const normalised = normaliseAddress(address);
  try {
    return await withTenant(db, tenantId, async (tx) => {
      const id = randomUUID();
      await tx
        .insertInto('ingest_addresses')
        .values({ id, tenant_id: tenantId, address: normalised, removed_at: null })
        .execute();
      await recordAudit(tx, tenantId, {
        action: 'ingest_address.added',
        actor,
        target: { type: 'ingest-address', id },
        details: { address: normalised },
      });
      return id;
    });
  } catch (e) {
    if ((e as { code?: string }).code === '23505')
      throw new IngestAddressError(`${normalised} is already an ingest address`);
    throw e;
  }
}

export async function removeIngestAddress(
  db: Db,
  tenantId: string,
  address: string,
  actor: Actor,
): Promise<void> {
  const normalised = normaliseAddress(address);
  await withTenant(db, tenantId, async (tx) => {
    const row = await tx
      .updateTable('ingest_addresses')
      .set({ removed_at: new Date() })
      .where('tenant_id', '=', tenantId)
      .where('address', '=', normalised)
      .where('removed_at', 'is', null)
      .returning('id')
      .executeTakeFirst();
    if (!row) throw new IngestAddressError(`${normalised} is not an ingest address of this tenant`);
    await recordAudit(tx, tenantId, {
      action: 'ingest_address.removed',
      actor,
      target: { type: 'ingest-address', id: row.id },
      details: { address: normalised },
    });
  });
}

export async function listIngestAddresses(
  db: Db,
  tenantId: string,
): Promise<{ address: string; createdAt: Date }[]> {
  return withTenant(db, tenantId, async (tx) =>
    (
      await tx
        .selectFrom('ingest_addresses')
        .select(['address', 'created_at'])
        .where('tenant_id', '=', tenantId)
        .where('removed_at', 'is', null)
        .orderBy('address')
        .execute()
    ).map((r) => ({ address: r.address, createdAt: r.created_at })),
  );
}
