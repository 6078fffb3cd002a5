import { sql } from 'kysely';
import type { Db } from './index';

/** Every tenant's id, for the sweeps that walk all tenants (a SECURITY DEFINER lookup, 0023). */
export async function allTenantIds(db: Db): Promise<string[]> {
  const r = await sql<{ id: string }>`SELECT tenant_ids() AS id`.execute(db);
  return r.rows.map((row) => row.id);
}

/** One page of tenant ids in id order, after `after`: sweeps walk all tenants a page at a time. */
export async function tenantIdPage(
  db: Db,
  after: string | undefined,
  limit: number,
): Promise<string[]> {
  const r = await sql<{ id: string }>`
    SELECT id FROM tenant_ids() AS id
    WHERE ${after ?? null}::uuid IS NULL OR id > ${after ?? null}::uuid
    ORDER BY id LIMIT ${limit}`.execute(db);
  return r.rows.map((row) => row.id);
}
