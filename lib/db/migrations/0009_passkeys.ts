import { sql, type Kysely } from 'kysely';
import { tenantIsolation } from './tenant-isolation';

/**
 * Passkeys (WebAuthn, user verification required) as a second factor. The pending challenge of a
 * ceremony lives in the session row that asked for it, with its expiry, and is used once.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`CREATE TABLE passkeys (
    id text PRIMARY KEY,
    tenant_id uuid NOT NULL REFERENCES tenants(id),
    user_id uuid NOT NULL REFERENCES users(id),
    public_key bytea NOT NULL,
    counter bigint NOT NULL,
    transports text[] NOT NULL DEFAULT '{}',
    name text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    last_used_at timestamptz
  )`.execute(db);
  await tenantIsolation(db, 'passkeys', 'SELECT, INSERT, UPDATE, DELETE');
  await sql`ALTER TABLE sessions
    ADD COLUMN webauthn_challenge text,
    ADD COLUMN webauthn_challenge_expires_at timestamptz`.execute(db);
}
