import { sql, type Kysely } from 'kysely';
import { tenantIsolation } from './tenant-isolation';

/**
 * IMAP imports (issue 22 §3): one row per mailbox account, one per folder with its checkpoint
 * (UIDVALIDITY and the last UID archived), so an interrupted import resumes where it stopped and
 * continuous mode fetches only new mail. The password is in neither: it travels only in the
 * codec-encrypted workflow input.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`CREATE TABLE imap_imports (
    id uuid PRIMARY KEY,
    tenant_id uuid NOT NULL REFERENCES tenants(id),
    created_by uuid REFERENCES users(id),
    host text NOT NULL CHECK (length(host) BETWEEN 1 AND 253),
    port integer NOT NULL CHECK (port BETWEEN 1 AND 65535),
    security text NOT NULL CHECK (security IN ('tls', 'starttls')),
    username text NOT NULL CHECK (length(username) BETWEEN 1 AND 320),
    continuous_minutes integer CHECK (continuous_minutes BETWEEN 5 AND 1440),
    status text NOT NULL DEFAULT 'running'
      CHECK (status IN ('running', 'watching', 'done', 'failed')),
    error text,
    last_sync_at timestamptz,
    created_at timestamptz NOT NULL DEFAULT now(),
    finished_at timestamptz
  )`.execute(db);
  await tenantIsolation(db, 'imap_imports', 'SELECT, INSERT, UPDATE');
  await sql`CREATE TABLE imap_import_folders (
    import_id uuid NOT NULL REFERENCES imap_imports(id),
    tenant_id uuid NOT NULL REFERENCES tenants(id),
    path text NOT NULL,
    uid_validity text,
    last_uid bigint NOT NULL DEFAULT 0,
    archived integer NOT NULL DEFAULT 0,
    duplicates integer NOT NULL DEFAULT 0,
    skipped integer NOT NULL DEFAULT 0,
    error text,
    PRIMARY KEY (import_id, path)
  )`.execute(db);
  await tenantIsolation(db, 'imap_import_folders', 'SELECT, INSERT, UPDATE');
}
