import { sql, type Kysely } from 'kysely';

/**
 * Key vault (DESIGN §4) with row-level security (§8). Application transactions run as the NOLOGIN
 * role `mailrepo_app` (SET LOCAL ROLE) with `app.tenant_id` set for the transaction; RLS is FORCEd so
 * even the owner role is bound by it, and without `app.tenant_id` no row is visible.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`DO $$ BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'mailrepo_app') THEN
      CREATE ROLE mailrepo_app NOLOGIN;
    END IF;
  END $$`.execute(db);
  await sql`GRANT USAGE ON SCHEMA public TO mailrepo_app`.execute(db);

  await sql`CREATE TABLE tenants (
    id uuid PRIMARY KEY,
    name text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    public_key bytea NOT NULL CHECK (length(public_key) = 32),
    key_version integer NOT NULL DEFAULT 1,
    recovery_public_key bytea NOT NULL CHECK (length(recovery_public_key) = 32),
    created_at timestamptz NOT NULL DEFAULT now()
  )`.execute(db);

  await sql`CREATE TABLE users (
    id uuid PRIMARY KEY,
    tenant_id uuid NOT NULL REFERENCES tenants(id),
    email text NOT NULL,
    role text NOT NULL CHECK (role IN ('admin', 'member')),
    public_key bytea NOT NULL CHECK (length(public_key) = 32),
    wrapped_private_key bytea NOT NULL,
    recovery_sealed_private_key bytea NOT NULL,
    password_salt bytea NOT NULL CHECK (length(password_salt) = 16),
    argon2_memory_kib integer NOT NULL,
    argon2_iterations integer NOT NULL,
    argon2_parallelism integer NOT NULL,
    password_verifier bytea NOT NULL CHECK (length(password_verifier) = 32),
    disabled_at timestamptz,
    created_at timestamptz NOT NULL DEFAULT now()
  )`.execute(db);
  await sql`CREATE UNIQUE INDEX users_tenant_email ON users (tenant_id, lower(email))`.execute(db);

  await sql`CREATE TABLE tenant_key_grants (
    tenant_id uuid NOT NULL REFERENCES tenants(id),
    user_id uuid NOT NULL REFERENCES users(id),
    key_version integer NOT NULL,
    sealed_private_key bytea NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, user_id, key_version)
  )`.execute(db);

  await sql`CREATE TABLE epochs (
    id uuid PRIMARY KEY,
    tenant_id uuid NOT NULL REFERENCES tenants(id),
    retention_class text NOT NULL CHECK (retention_class ~ '^[a-z0-9-]{1,40}$'),
    month text NOT NULL CHECK (month ~ '^[0-9]{4}-(0[1-9]|1[0-2])$'),
    public_key bytea NOT NULL CHECK (length(public_key) = 32),
    sealed_private_key bytea,
    tenant_key_version integer NOT NULL,
    sealed_index_key bytea,
    created_at timestamptz NOT NULL DEFAULT now(),
    shredded_at timestamptz,
    UNIQUE (tenant_id, retention_class, month)
  )`.execute(db);

  for (const [table, column] of [
    ['tenants', 'id'],
    ['users', 'tenant_id'],
    ['tenant_key_grants', 'tenant_id'],
    ['epochs', 'tenant_id'],
  ] as const) {
    await sql.raw(`ALTER TABLE ${table} ENABLE ROW LEVEL SECURITY`).execute(db);
    await sql.raw(`ALTER TABLE ${table} FORCE ROW LEVEL SECURITY`).execute(db);
    await sql
      .raw(
        `CREATE POLICY tenant_isolation ON ${table}
           USING (${column} = nullif(current_setting('app.tenant_id', true), '')::uuid)
           WITH CHECK (${column} = nullif(current_setting('app.tenant_id', true), '')::uuid)`,
      )
      .execute(db);
    await sql.raw(`GRANT SELECT, INSERT, UPDATE, DELETE ON ${table} TO mailrepo_app`).execute(db);
  }
}
