import { sql, type Kysely } from 'kysely';
import { tenantIsolation } from './tenant-isolation';

/**
 * Imports of historical mail (issue 9 §5): one row per uploaded MBOX or ZIP, with its progress
 * (entries and bytes done, so a retried import resumes after the last finished entry) and the
 * entries it reported as malformed. The upload itself is ciphertext in S3 under a key that lives
 * only in the import workflow's (codec-encrypted) input.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`CREATE TABLE imports (
    id uuid PRIMARY KEY,
    tenant_id uuid NOT NULL REFERENCES tenants(id),
    created_by uuid NOT NULL REFERENCES users(id),
    format text NOT NULL CHECK (format IN ('mbox', 'zip')),
    object_key text NOT NULL,
    size bigint NOT NULL,
    status text NOT NULL DEFAULT 'running' CHECK (status IN ('running', 'done', 'failed')),
    bytes_done bigint NOT NULL DEFAULT 0,
    entries_done integer NOT NULL DEFAULT 0,
    archived integer NOT NULL DEFAULT 0,
    duplicates integer NOT NULL DEFAULT 0,
    malformed integer NOT NULL DEFAULT 0,
    problems jsonb NOT NULL DEFAULT '[]',
    error text,
    created_at timestamptz NOT NULL DEFAULT now(),
    finished_at timestamptz
  )`.execute(db);
  await tenantIsolation(db, 'imports', 'SELECT, INSERT, UPDATE');
}
