import { sql, type Kysely } from 'kysely';
import { tenantIsolation } from './tenant-isolation';

/**
 * Attachment text read by the index job (issue 20, decision 0022): a mail whose attachments
 * include a document (PDF, Office, OpenDocument, RTF, ZIP) waits in `search_extract_queue` until
 * the job, under its decryption grant, has read them; the text and what became of each part are
 * kept in `messages.enc_extracted`, encrypted under the mail's DEK like its metadata. The index
 * queue does not merge a mail while it waits here, so it enters the index once, with everything.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`ALTER TABLE messages ADD COLUMN enc_extracted bytea`.execute(db);
  await sql`CREATE TABLE search_extract_queue (
    message_id uuid PRIMARY KEY REFERENCES messages (id),
    tenant_id uuid NOT NULL REFERENCES tenants (id),
    queued_at timestamptz NOT NULL DEFAULT now()
  )`.execute(db);
  await sql`CREATE INDEX search_extract_queue_order ON search_extract_queue (tenant_id, queued_at)`.execute(
    db,
  );
  await tenantIsolation(db, 'search_extract_queue', 'SELECT, INSERT, DELETE');
}
