import { sql, type Kysely } from 'kysely';

/**
 * Building blocks of migrations from 0005 on (earlier ones spell the same SQL out and stay as
 * they ran). The SQL must never change once a migration using it has shipped.
 */

/** A NOLOGIN role, created once. */
export async function ensureRole(db: Kysely<unknown>, role: string): Promise<void> {
  await sql`DO $$ BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = ${sql.lit(role)}) THEN
      CREATE ROLE ${sql.raw(role)} NOLOGIN;
    END IF;
  END $$`.execute(db);
}

/**
 * Row-level security confining `table` to the transaction's `app.tenant_id` (FORCEd, so the owner
 * is bound too), and `grants` for the application role.
 */
export async function tenantIsolation(
  db: Kysely<unknown>,
  table: string,
  grants: string,
): Promise<void> {
  await sql.raw(`ALTER TABLE ${table} ENABLE ROW LEVEL SECURITY`).execute(db);
  await sql.raw(`ALTER TABLE ${table} FORCE ROW LEVEL SECURITY`).execute(db);
  await sql
    .raw(
      `CREATE POLICY tenant_isolation ON ${table}
         USING (tenant_id = nullif(current_setting('app.tenant_id', true), '')::uuid)
         WITH CHECK (tenant_id = nullif(current_setting('app.tenant_id', true), '')::uuid)`,
    )
    .execute(db);
  await sql.raw(`GRANT ${grants} ON ${table} TO mailrepo_app`).execute(db);
}
