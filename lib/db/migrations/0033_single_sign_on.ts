import { sql, type Kysely } from 'kysely';
import { tenantIsolation } from './tenant-isolation';

/**
 * Single sign-on with OpenID Connect (issue 21 §5, docs/authentication.md). Per tenant: the
 * provider, the client (its secret wrapped under the server's vault wrap key), the e-mail domains
 * it vouches for (each domain belongs to one tenant) and the group → role mapping. A sign-in's
 * state, nonce and PKCE verifier live in `sso_logins` for ten minutes and are used once; after the
 * callback the row holds who was proven, under the hash of a ticket cookie. Someone the provider
 * vouches for who has no account yet asks for one (`sso_requests`, with a key pair under an
 * archive password of their choosing) until an unlocked owner or admin approves and grants the
 * tenant key.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`CREATE TABLE tenant_sso (
    tenant_id uuid PRIMARY KEY REFERENCES tenants(id),
    issuer text NOT NULL,
    client_id text NOT NULL,
    client_secret_wrapped bytea NOT NULL,
    allowed_domains text[] NOT NULL,
    group_claim text NOT NULL DEFAULT 'groups',
    role_map jsonb NOT NULL DEFAULT '[]',
    required boolean NOT NULL DEFAULT false,
    updated_at timestamptz NOT NULL DEFAULT now()
  )`.execute(db);
  await tenantIsolation(db, 'tenant_sso', 'SELECT, INSERT, UPDATE, DELETE');
  await sql`CREATE TABLE sso_domains (
    domain text PRIMARY KEY,
    tenant_id uuid NOT NULL REFERENCES tenants(id)
  )`.execute(db);
  await tenantIsolation(db, 'sso_domains', 'SELECT, INSERT, DELETE');

  await sql`CREATE TABLE sso_logins (
    state_hash bytea PRIMARY KEY CHECK (length(state_hash) = 32),
    tenant_id uuid NOT NULL REFERENCES tenants(id),
    nonce text NOT NULL,
    code_verifier text NOT NULL,
    expires_at timestamptz NOT NULL,
    ticket_hash bytea UNIQUE,
    email text,
    user_id uuid REFERENCES users(id),
    role text
  )`.execute(db);
  await tenantIsolation(db, 'sso_logins', 'SELECT, INSERT, UPDATE, DELETE');

  await sql`CREATE TABLE sso_requests (
    id uuid PRIMARY KEY,
    tenant_id uuid NOT NULL REFERENCES tenants(id),
    email text NOT NULL,
    role text NOT NULL,
    public_key bytea NOT NULL,
    wrapped_private_key bytea NOT NULL,
    recovery_sealed_private_key bytea NOT NULL,
    password_salt bytea NOT NULL,
    argon2_memory_kib integer NOT NULL,
    argon2_iterations integer NOT NULL,
    argon2_parallelism integer NOT NULL,
    password_verifier bytea NOT NULL,
    requested_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (tenant_id, email)
  )`.execute(db);
  await tenantIsolation(db, 'sso_requests', 'SELECT, INSERT, DELETE');

  // Before a tenant is known: which tenant vouches for a domain, which one a state or ticket is of.
  for (const [fn, body, table, columns] of [
    [
      'sso_domain_tenant(d text) RETURNS uuid',
      'SELECT tenant_id FROM sso_domains WHERE domain = lower(d)',
      'sso_domains',
      'domain, tenant_id',
    ],
    [
      'sso_login_tenant(hash bytea) RETURNS uuid',
      'SELECT tenant_id FROM sso_logins WHERE (state_hash = hash OR ticket_hash = hash) AND expires_at > now()',
      'sso_logins',
      'state_hash, ticket_hash, tenant_id, expires_at',
    ],
  ] as const) {
    await sql.raw(`GRANT SELECT (${columns}) ON ${table} TO mailrepo_definer`).execute(db);
    await sql
      .raw(`CREATE POLICY definer_lookup ON ${table} FOR SELECT TO mailrepo_definer USING (true)`)
      .execute(db);
    await sql
      .raw(
        `CREATE FUNCTION ${fn} LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public AS $$ ${body} $$`,
      )
      .execute(db);
    const name = fn.slice(0, fn.indexOf('(')) + (fn.includes('bytea') ? '(bytea)' : '(text)');
    await sql.raw(`ALTER FUNCTION ${name} OWNER TO mailrepo_definer`).execute(db);
    await sql.raw(`REVOKE ALL ON FUNCTION ${name} FROM PUBLIC`).execute(db);
    await sql.raw(`GRANT EXECUTE ON FUNCTION ${name} TO mailrepo_platform`).execute(db);
  }
}
