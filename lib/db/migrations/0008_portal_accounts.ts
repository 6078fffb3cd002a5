import { sql, type Kysely } from 'kysely';
import { tenantIsolation } from './tenant-isolation';

/**
 * Portal accounts (issue 7): four roles, TOTP, single-use recovery codes, invitations, sessions and
 * login throttling. Secrets are stored only as hashes (invite tokens, session ids, recovery codes)
 * or sealed (the TOTP secret, sealed to the user's public key; a session's unlocked keys, sealed
 * under a key that exists only in the session cookie).
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`ALTER TABLE users DROP CONSTRAINT users_role_check`.execute(db);
  await sql`ALTER TABLE users ADD CONSTRAINT users_role_check
    CHECK (role IN ('owner', 'admin', 'auditor', 'member'))`.execute(db);
  await sql`ALTER TABLE users
    ADD COLUMN totp_sealed_secret bytea,
    ADD COLUMN totp_last_step bigint,
    ADD COLUMN totp_enrolled_at timestamptz`.execute(db);
  await sql`ALTER TABLE tenants
    ADD COLUMN session_idle_minutes integer NOT NULL DEFAULT 30
      CHECK (session_idle_minutes BETWEEN 5 AND 480),
    ADD COLUMN session_absolute_hours integer NOT NULL DEFAULT 12
      CHECK (session_absolute_hours BETWEEN 1 AND 24)`.execute(db);

  // An invitation; a tenant's first one (role owner) exists before its tenant does.
  await sql`CREATE TABLE invites (
    id uuid PRIMARY KEY,
    tenant_id uuid NOT NULL,
    tenant_name text,
    email text NOT NULL,
    role text NOT NULL CHECK (role IN ('owner', 'admin', 'auditor', 'member')),
    token_hash bytea NOT NULL UNIQUE CHECK (length(token_hash) = 32),
    invited_by text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    expires_at timestamptz NOT NULL,
    accepted_at timestamptz,
    revoked_at timestamptz
  )`.execute(db);
  await tenantIsolation(db, 'invites', 'SELECT, INSERT, UPDATE');

  await sql`CREATE TABLE recovery_codes (
    tenant_id uuid NOT NULL REFERENCES tenants(id),
    user_id uuid NOT NULL REFERENCES users(id),
    code_hash bytea NOT NULL CHECK (length(code_hash) = 32),
    created_at timestamptz NOT NULL DEFAULT now(),
    used_at timestamptz,
    PRIMARY KEY (user_id, code_hash)
  )`.execute(db);
  await tenantIsolation(db, 'recovery_codes', 'SELECT, INSERT, UPDATE, DELETE');

  await sql`CREATE TABLE sessions (
    id_hash bytea PRIMARY KEY CHECK (length(id_hash) = 32),
    tenant_id uuid NOT NULL REFERENCES tenants(id),
    user_id uuid NOT NULL REFERENCES users(id),
    sealed_keys bytea NOT NULL,
    ip text,
    user_agent text,
    created_at timestamptz NOT NULL DEFAULT now(),
    last_seen_at timestamptz NOT NULL DEFAULT now(),
    second_factor_at timestamptz,
    reauth_at timestamptz,
    ended_at timestamptz,
    end_reason text
  )`.execute(db);
  await sql`CREATE INDEX sessions_user_live ON sessions (user_id) WHERE ended_at IS NULL`.execute(
    db,
  );
  await tenantIsolation(db, 'sessions', 'SELECT, INSERT, UPDATE');

  // Failed-login counters shared by every portal instance; keys are hashes (no e-mail, no IP).
  await sql`CREATE TABLE auth_throttle (
    key_hash bytea PRIMARY KEY CHECK (length(key_hash) = 32),
    failures integer NOT NULL,
    window_start timestamptz NOT NULL,
    last_failure_at timestamptz NOT NULL,
    locked_until timestamptz
  )`.execute(db);

  // Before a tenant is known: which tenant a login, an invitation or a session cookie belongs to.
  for (const [fn, body] of [
    [
      'login_tenants(addr text) RETURNS SETOF uuid',
      'SELECT tenant_id FROM users WHERE lower(email) = lower(addr) AND disabled_at IS NULL',
    ],
    [
      'invite_tenant(hash bytea) RETURNS uuid',
      'SELECT tenant_id FROM invites WHERE token_hash = hash AND accepted_at IS NULL AND revoked_at IS NULL AND expires_at > now()',
    ],
    [
      'session_tenant(hash bytea) RETURNS uuid',
      'SELECT tenant_id FROM sessions WHERE id_hash = hash AND ended_at IS NULL',
    ],
  ] as const) {
    await sql
      .raw(
        `CREATE FUNCTION ${fn} LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public AS $$ ${body} $$`,
      )
      .execute(db);
    const name = fn.slice(0, fn.indexOf(' RETURNS'));
    await sql.raw(`REVOKE ALL ON FUNCTION ${name} FROM PUBLIC`).execute(db);
    await sql.raw(`GRANT EXECUTE ON FUNCTION ${name} TO mailrepo_app`).execute(db);
  }
}
