import { sql, type Kysely } from 'kysely';
import { tenantIsolation } from './tenant-isolation';

/**
 * Encrypted search index segments (issue 8, DESIGN §7). Each segment holds the summaries and
 * inverted lists of a batch of one epoch's mails, compressed and encrypted under the epoch's index
 * key, so the database sees only sizes, counts and times. Segments are merged (replaced) as an
 * epoch's mails arrive; shredding an epoch deletes its segments with its keys.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`CREATE TABLE search_segments (
    id uuid PRIMARY KEY,
    tenant_id uuid NOT NULL REFERENCES tenants(id),
    epoch_id uuid NOT NULL REFERENCES epochs(id),
    doc_count integer NOT NULL CHECK (doc_count > 0),
    enc_segment bytea NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
  )`.execute(db);
  await sql`CREATE INDEX search_segments_by_epoch ON search_segments (tenant_id, epoch_id)`.execute(
    db,
  );
  await tenantIsolation(db, 'search_segments', 'SELECT, INSERT, DELETE');
}
