import { sql, type Kysely } from 'kysely';
import { tenantIsolation } from './tenant-isolation';

/**
 * Restores into IMAP mailboxes (issue 22 §4): the chosen mails numbered once (so a retried batch
 * restores the same mails), each marked with the UID the server gave it once appended, and the
 * decryption grant's purpose `restore`. The mailbox password is in no table: it travels only in
 * the codec-encrypted workflow input.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`ALTER TABLE decryption_grants
    DROP CONSTRAINT decryption_grants_purpose_check,
    ADD CONSTRAINT decryption_grants_purpose_check
      CHECK (purpose IN ('search-index', 'export', 'key-rotation', 'import', 'restore'))`.execute(
    db,
  );
  await sql`CREATE TABLE restores (
    id uuid PRIMARY KEY,
    tenant_id uuid NOT NULL REFERENCES tenants(id),
    created_by uuid NOT NULL REFERENCES users(id),
    host text NOT NULL,
    port integer NOT NULL,
    username text NOT NULL,
    folder text NOT NULL CHECK (length(folder) BETWEEN 1 AND 200),
    total integer,
    done integer NOT NULL DEFAULT 0,
    status text NOT NULL DEFAULT 'running' CHECK (status IN ('running', 'done', 'failed')),
    error text,
    created_at timestamptz NOT NULL DEFAULT now(),
    finished_at timestamptz
  )`.execute(db);
  await tenantIsolation(db, 'restores', 'SELECT, INSERT, UPDATE');
  await sql`CREATE TABLE restore_items (
    restore_id uuid NOT NULL REFERENCES restores(id),
    tenant_id uuid NOT NULL REFERENCES tenants(id),
    position integer NOT NULL,
    message_id uuid NOT NULL,
    uid bigint,
    PRIMARY KEY (restore_id, position)
  )`.execute(db);
  await tenantIsolation(db, 'restore_items', 'SELECT, INSERT, UPDATE');
}
