import { sql, type Kysely } from 'kysely';

/**
 * Archiving in batches (decision 0020): the checkpoint round seals a tenant's ledgered mails with
 * one update by ledger index, a batch looks up its mails' `mail.archived` events at once, and the
 * gauges count unsealed mail. All would otherwise scan every row — millions of mails, each time.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`CREATE INDEX messages_unsealed ON messages (tenant_id, ledger_index)
    WHERE state <> 'sealed'`.execute(db);
  // The worker's gauges (lib/metrics/archive-gauges.ts) count only unsealed mail: read from the
  // index above instead of every row of every tenant at each scrape. Same owner and grants.
  await sql`CREATE OR REPLACE FUNCTION archive_gauges()
    RETURNS TABLE (ledger_pending bigint, backlog bigint, oldest_pending_seconds double precision)
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public AS $$
      SELECT count(*) FILTER (WHERE state = 'ledgered'),
             count(*) FILTER (WHERE state IN ('staged', 'stored')),
             coalesce(extract(epoch FROM now() - min(received_at)
                        FILTER (WHERE state IN ('staged', 'stored'))), 0)::double precision
        FROM messages WHERE state <> 'sealed' $$`.execute(db);
  await sql`CREATE INDEX audit_events_by_target ON audit_events (tenant_id, target_id)
    WHERE target_id IS NOT NULL`.execute(db);
}
