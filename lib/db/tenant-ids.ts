import { sql } from 'kysely';
import type { Db } from './index';

/** Every tenant's id, for the sweeps that walk all tenants (a SECURITY DEFINER lookup, 0023). */
export async function allTenantIds(db: Db): Promise<string[]> {
  const r = await sql<{ id: string }>`SELECT tenant_ids() AS id`.execute(db);
  return r.rows.map((row) => row.id);
}
