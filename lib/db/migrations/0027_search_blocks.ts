import { sql, type Kysely } from 'kysely';

/**
 * Search segments read block by block (decision 0021): format 3 rows hold `enc_header` and
 * `enc_blocks`; `enc_blocks` is kept uncompressed outside the row (STORAGE EXTERNAL), so
 * substring() reads only the chunks of the blocks asked for. The index is rebuilt: every archived
 * mail is queued again, and the first merge of the new release deletes the tenant's format 2
 * segments. Only adds (docs/deploy.md, Upgrades): `enc_segment` goes one release later.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`ALTER TABLE search_segments
    ADD COLUMN format smallint NOT NULL DEFAULT 2,
    ADD COLUMN enc_header bytea,
    ADD COLUMN enc_blocks bytea,
    ALTER COLUMN enc_segment DROP NOT NULL,
    ADD CONSTRAINT search_segments_format CHECK (
      (format = 2 AND enc_segment IS NOT NULL) OR
      (format = 3 AND enc_header IS NOT NULL AND enc_blocks IS NOT NULL))`.execute(db);
  await sql`ALTER TABLE search_segments ALTER COLUMN enc_blocks SET STORAGE EXTERNAL`.execute(db);
  // Each merge takes the oldest queued mails of a tenant: a lookup, not a sort of the whole queue
  // (a rebuild queues every mail at once).
  await sql`CREATE INDEX search_index_queue_by_time ON search_index_queue (tenant_id, queued_at)`.execute(
    db,
  );
  await sql`INSERT INTO search_index_queue (message_id, tenant_id, queued_at)
    SELECT m.id, m.tenant_id, m.received_at FROM messages m
     WHERE m.deleted_at IS NULL AND m.state IN ('ledgered', 'sealed')
    ON CONFLICT (message_id) DO NOTHING`.execute(db);
  // Planner statistics for the queue just filled: without them a merge's lookup of the next
  // mails is planned as a scan of the whole queue until autovacuum analyses it.
  await sql`ANALYZE search_index_queue`.execute(db);
}
