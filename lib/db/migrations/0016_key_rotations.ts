import { sql, type Kysely } from 'kysely';
import { tenantIsolation } from './tenant-isolation';

/**
 * Resumable key rotation (issue 9 §3). While a rotation runs, each epoch gets its private key
 * sealed to the next tenant key beside the current sealing (`next_*`), so sessions keep working;
 * the finish swaps them in one transaction. `key_rotations` tracks progress for the portal and
 * the workflow; `tenants.key_rotation_months` is the tenant's rotation schedule.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`ALTER TABLE epochs
    ADD COLUMN next_sealed_private_key bytea,
    ADD COLUMN next_key_version integer`.execute(db);
  await sql`ALTER TABLE tenants
    ADD COLUMN key_rotation_months integer NOT NULL DEFAULT 0
      CHECK (key_rotation_months BETWEEN 0 AND 120),
    ADD COLUMN key_rotated_at timestamptz`.execute(db);
  await sql`CREATE TABLE key_rotations (
    id uuid PRIMARY KEY,
    tenant_id uuid NOT NULL REFERENCES tenants(id),
    from_version integer NOT NULL,
    to_version integer NOT NULL,
    next_public_key bytea NOT NULL CHECK (length(next_public_key) = 32),
    requested_by uuid NOT NULL REFERENCES users(id),
    trigger text NOT NULL CHECK (trigger IN ('manual', 'schedule', 'member-removal')),
    remove_user_ids uuid[] NOT NULL DEFAULT '{}',
    status text NOT NULL DEFAULT 'running' CHECK (status IN ('running', 'done', 'failed')),
    epochs_total integer NOT NULL DEFAULT 0,
    epochs_done integer NOT NULL DEFAULT 0,
    error text,
    created_at timestamptz NOT NULL DEFAULT now(),
    finished_at timestamptz
  )`.execute(db);
  // One running rotation per tenant: the database refuses a second.
  await sql`CREATE UNIQUE INDEX key_rotations_one_running ON key_rotations (tenant_id)
    WHERE status = 'running'`.execute(db);
  await tenantIsolation(db, 'key_rotations', 'SELECT, INSERT, UPDATE');
  // Rotations (and imports, issue 9 §5) run under decryption grants too.
  await sql`ALTER TABLE decryption_grants
    DROP CONSTRAINT decryption_grants_purpose_check,
    ADD CONSTRAINT decryption_grants_purpose_check
      CHECK (purpose IN ('search-index', 'export', 'key-rotation', 'import'))`.execute(db);
}
