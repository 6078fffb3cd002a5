import { sql } from 'kysely';
import type { Db } from '../../lib/db';

/**
 * Every row of one tenant in every table, as the database administrator sees them, for tests
 * that prove an action changed nothing but what it should (issue 21: a password change or a
 * recovery only re-wraps the user's key). Skipped: what such actions write besides the key —
 * sessions, audit events with their chain heads and ledger anchoring (the checkpointer anchors
 * audit heads meanwhile), and the login throttle.
 */

/** The user's key columns: the password wrapping of the private key and its Argon2 record. */
export const PASSWORD_COLUMNS = ['wrapped_private_key', 'password_salt', 'password_verifier', 'argon2_memory_kib', 'argon2_iterations', 'argon2_parallelism']; // prettier-ignore
const SKIPPED = new Set(['sessions', 'audit_events', 'audit_heads', 'audit_anchors', 'ledger_logs', 'ledger_tiles', 'ledger_checkpoints', 'auth_throttle', 'auth_known_sources']); // prettier-ignore

export async function tenantSnapshot(
  dba: Db,
  tenantId: string,
  ignoredUserColumns: readonly string[] = PASSWORD_COLUMNS,
): Promise<Map<string, string[]>> {
  const tables = await sql<{ table_name: string; has_tenant: boolean }>`
    SELECT c.table_name, bool_or(c.column_name = 'tenant_id') AS has_tenant
      FROM information_schema.columns c
     WHERE c.table_schema = 'public'
     GROUP BY c.table_name`.execute(dba);
  const out = new Map<string, string[]>();
  for (const { table_name: t, has_tenant } of tables.rows) {
    if (SKIPPED.has(t)) continue;
    const where =
      t === 'tenants'
        ? sql`WHERE id = ${tenantId}`
        : has_tenant
          ? sql`WHERE tenant_id = ${tenantId}`
          : undefined;
    if (!where) continue;
    // Ledger entries of the audit chain's heads are appended by the checkpointer meanwhile.
    const extra = t === 'ledger_entries' ? sql`AND kind <> 'audit-head'` : sql``;
    const rows = await sql<{ r: Record<string, unknown> }>`
      SELECT to_jsonb(x) AS r FROM ${sql.table(t)} x ${where} ${extra}`.execute(dba);
    out.set(
      t,
      rows.rows
        .map(({ r }) => {
          if (t === 'users') for (const c of ignoredUserColumns) delete r[c];
          return JSON.stringify(r, Object.keys(r).sort());
        })
        .sort(),
    );
  }
  return out;
}
