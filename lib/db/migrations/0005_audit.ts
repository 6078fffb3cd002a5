import { sql, type Kysely } from 'kysely';
import { ensureRole, tenantIsolation } from './tenant-isolation';

/**
 * Audit log (DESIGN §6, issue 5). `audit_events` is one hash chain per tenant; `audit_heads` holds
 * each chain's head (the row lock that serialises a tenant's events); `audit_anchors` records which
 * heads were appended to the tenant's ledger. Events and anchors are append-only for every role:
 * triggers reject UPDATE, DELETE and TRUNCATE, they belong to a NOLOGIN owner role, and the
 * application role may only INSERT and SELECT. Only a superuser can get around that (by disabling
 * triggers), and the anchored heads in the ledger catch what it changes.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await ensureRole(db, 'mailrepo_audit_owner');
  await sql`GRANT USAGE ON SCHEMA public TO mailrepo_audit_owner`.execute(db);

  await sql`CREATE TABLE audit_keys (
    tenant_id uuid PRIMARY KEY REFERENCES tenants(id),
    public_key bytea NOT NULL CHECK (length(public_key) = 32),
    sealed_private_key bytea NOT NULL,
    tenant_key_version integer NOT NULL
  )`.execute(db);

  await sql`CREATE TABLE audit_events (
    tenant_id uuid NOT NULL REFERENCES tenants(id),
    seq bigint NOT NULL CHECK (seq >= 1),
    id uuid NOT NULL UNIQUE,
    at timestamptz NOT NULL,
    action text NOT NULL CHECK (action ~ '^[a-z_]+(\\.[a-z_]+)+$'),
    actor_type text NOT NULL CHECK (actor_type IN ('user', 'operator', 'system')),
    actor_id text,
    actor_label text,
    target_type text,
    target_id text,
    ip text,
    details jsonb NOT NULL,
    sealed_details bytea,
    prev_hash bytea NOT NULL CHECK (length(prev_hash) = 32),
    hash bytea NOT NULL CHECK (length(hash) = 32),
    PRIMARY KEY (tenant_id, seq)
  )`.execute(db);
  await sql`CREATE INDEX audit_events_by_time ON audit_events (tenant_id, at)`.execute(db);

  await sql`CREATE TABLE audit_heads (
    tenant_id uuid PRIMARY KEY REFERENCES tenants(id),
    seq bigint NOT NULL,
    hash bytea NOT NULL CHECK (length(hash) = 32)
  )`.execute(db);

  await sql`CREATE TABLE audit_anchors (
    tenant_id uuid NOT NULL REFERENCES tenants(id),
    seq bigint NOT NULL,
    hash bytea NOT NULL CHECK (length(hash) = 32),
    ledger_index bigint NOT NULL,
    anchored_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, seq)
  )`.execute(db);

  await sql`CREATE FUNCTION audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      RAISE EXCEPTION 'audit log is append-only: % on % is not allowed', TG_OP, TG_TABLE_NAME
        USING ERRCODE = 'insufficient_privilege';
    END $$`.execute(db);

  for (const [table, grants] of [
    ['audit_keys', 'SELECT, INSERT, UPDATE'],
    ['audit_events', 'SELECT, INSERT'],
    ['audit_heads', 'SELECT, INSERT, UPDATE'],
    ['audit_anchors', 'SELECT'],
  ] as const) {
    await tenantIsolation(db, table, grants);
  }
  for (const table of ['audit_events', 'audit_anchors']) {
    await sql
      .raw(
        `CREATE TRIGGER append_only_rows BEFORE UPDATE OR DELETE ON ${table}
           FOR EACH ROW EXECUTE FUNCTION audit_append_only()`,
      )
      .execute(db);
    await sql
      .raw(
        `CREATE TRIGGER append_only_truncate BEFORE TRUNCATE ON ${table}
           FOR EACH STATEMENT EXECUTE FUNCTION audit_append_only()`,
      )
      .execute(db);
    // Owned by a role nobody logs in as; the owner is bound by the triggers like everyone else.
    await sql.raw(`ALTER TABLE ${table} OWNER TO mailrepo_audit_owner`).execute(db);
  }
}
