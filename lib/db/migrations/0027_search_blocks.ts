import { sql, type Kysely } from 'kysely';

/**
 * Search segments read block by block (decision 0021). Segments of the old format (one blob per
 * segment, decrypted whole) are dropped and their mails queued again: the next index maintenance
 * rebuilds them from each mail's encrypted metadata and token list, which stay with the mail
 * until it is deleted. `enc_blocks` is kept uncompressed outside the row, so substring() reads
 * only the chunks of the blocks asked for.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`INSERT INTO search_index_queue (message_id, tenant_id, queued_at)
    SELECT m.id, m.tenant_id, m.received_at FROM messages m
     WHERE m.deleted_at IS NULL AND m.state IN ('ledgered', 'sealed')
    ON CONFLICT (message_id) DO NOTHING`.execute(db);
  await sql`DELETE FROM search_segments`.execute(db);
  await sql`ALTER TABLE search_segments
    DROP COLUMN enc_segment,
    ADD COLUMN format smallint NOT NULL CHECK (format = 3),
    ADD COLUMN enc_header bytea NOT NULL,
    ADD COLUMN enc_blocks bytea NOT NULL`.execute(db);
  await sql`ALTER TABLE search_segments ALTER COLUMN enc_blocks SET STORAGE EXTERNAL`.execute(db);
}
