import { sql, type Kysely } from 'kysely';
import { tenantIsolation } from './tenant-isolation';

/**
 * Results of integrity checks (issue 9): every stored ciphertext re-read and hashed, the tenant's
 * ledger and audit chain verified. Failures name message ids and what was wrong — no content.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`CREATE TABLE integrity_runs (
    id uuid PRIMARY KEY,
    tenant_id uuid NOT NULL REFERENCES tenants(id),
    trigger text NOT NULL CHECK (trigger IN ('schedule', 'manual')),
    started_at timestamptz NOT NULL DEFAULT now(),
    finished_at timestamptz,
    objects_checked integer NOT NULL DEFAULT 0,
    bytes_checked bigint NOT NULL DEFAULT 0,
    failures jsonb NOT NULL DEFAULT '[]',
    ledger_problems jsonb NOT NULL DEFAULT '[]',
    audit_problems jsonb NOT NULL DEFAULT '[]'
  )`.execute(db);
  await sql`CREATE INDEX integrity_runs_by_time ON integrity_runs (tenant_id, started_at DESC)`.execute(
    db,
  );
  await tenantIsolation(db, 'integrity_runs', 'SELECT, INSERT, UPDATE');
}
