import { sql, type Kysely } from 'kysely';

/**
 * Merkle logs (DESIGN §5): one per tenant plus the global anchor log (tenant_id NULL). Entries are
 * sequenced (index assigned, unique per log and entry hash) and later integrated into tiles.
 * Tenant rows are under row-level security; the anchor log is readable by every tenant.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`CREATE TABLE ledger_logs (
    id uuid PRIMARY KEY,
    tenant_id uuid REFERENCES tenants(id),
    origin text NOT NULL UNIQUE,
    size bigint NOT NULL DEFAULT 0,
    integrated_size bigint NOT NULL DEFAULT 0,
    root bytea NOT NULL,
    signing_public_key bytea NOT NULL CHECK (length(signing_public_key) = 32),
    signing_wrapped_private_key bytea NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    CHECK (integrated_size <= size)
  )`.execute(db);
  await sql`CREATE UNIQUE INDEX ledger_logs_one_per_tenant ON ledger_logs (tenant_id) WHERE tenant_id IS NOT NULL`.execute(
    db,
  );
  await sql`CREATE UNIQUE INDEX ledger_logs_one_anchor ON ledger_logs ((tenant_id IS NULL)) WHERE tenant_id IS NULL`.execute(
    db,
  );

  await sql`CREATE TABLE ledger_entries (
    log_id uuid NOT NULL REFERENCES ledger_logs(id),
    tenant_id uuid,
    idx bigint NOT NULL,
    entry_hash bytea NOT NULL CHECK (length(entry_hash) = 32),
    kind text NOT NULL CHECK (kind IN ('mail', 'audit-head', 'tombstone', 'checkpoint')),
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (log_id, idx),
    UNIQUE (log_id, entry_hash)
  )`.execute(db);

  await sql`CREATE TABLE ledger_tiles (
    log_id uuid NOT NULL REFERENCES ledger_logs(id),
    tenant_id uuid,
    level integer NOT NULL,
    tile_index bigint NOT NULL,
    hashes bytea NOT NULL CHECK (length(hashes) % 32 = 0 AND length(hashes) BETWEEN 32 AND 8192),
    PRIMARY KEY (log_id, level, tile_index)
  )`.execute(db);

  for (const table of ['ledger_logs', 'ledger_entries', 'ledger_tiles']) {
    await sql.raw(`ALTER TABLE ${table} ENABLE ROW LEVEL SECURITY`).execute(db);
    await sql.raw(`ALTER TABLE ${table} FORCE ROW LEVEL SECURITY`).execute(db);
    await sql
      .raw(
        `CREATE POLICY tenant_isolation ON ${table}
           USING (tenant_id IS NULL OR tenant_id = nullif(current_setting('app.tenant_id', true), '')::uuid)
           WITH CHECK (tenant_id = nullif(current_setting('app.tenant_id', true), '')::uuid)`,
      )
      .execute(db);
    await sql.raw(`GRANT SELECT, INSERT, UPDATE ON ${table} TO mailrepo_app`).execute(db);
  }
}
