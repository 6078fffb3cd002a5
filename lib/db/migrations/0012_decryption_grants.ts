import { sql, type Kysely } from 'kysely';
import { tenantIsolation } from './tenant-isolation';

/**
 * Short-lived decryption grants (DESIGN §4 "background decryption"): an unlocked session lets one
 * background job (index maintenance, an export) use the tenant key. The key is wrapped under a
 * random grant key that travels only in the job's (codec-encrypted) workflow input, so neither
 * this table nor Temporal's history alone opens it; the row is deleted when the job ends and is
 * useless after `expires_at` anyway.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`CREATE TABLE decryption_grants (
    id uuid PRIMARY KEY,
    tenant_id uuid NOT NULL REFERENCES tenants(id),
    purpose text NOT NULL CHECK (purpose IN ('search-index', 'export')),
    created_by uuid NOT NULL REFERENCES users(id),
    sealed_keys bytea NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    expires_at timestamptz NOT NULL
  )`.execute(db);
  await tenantIsolation(db, 'decryption_grants', 'SELECT, INSERT, DELETE');
}
