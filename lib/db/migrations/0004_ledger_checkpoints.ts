import { sql, type Kysely } from 'kysely';

/**
 * Signed checkpoints of every log. A tenant checkpoint records where its note was appended in the
 * anchor log; an anchor checkpoint carries the RFC 3161 response over its note once the TSA has
 * answered (NULL while the TSA is unreachable: the next run timestamps a newer checkpoint).
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`CREATE TABLE ledger_checkpoints (
    log_id uuid NOT NULL REFERENCES ledger_logs(id),
    tenant_id uuid,
    size bigint NOT NULL,
    root bytea NOT NULL CHECK (length(root) = 32),
    note text NOT NULL,
    anchor_index bigint,
    tsa_response bytea,
    tsa_gen_time timestamptz,
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (log_id, size)
  )`.execute(db);
  await sql`ALTER TABLE ledger_checkpoints ENABLE ROW LEVEL SECURITY`.execute(db);
  await sql`ALTER TABLE ledger_checkpoints FORCE ROW LEVEL SECURITY`.execute(db);
  await sql`CREATE POLICY tenant_isolation ON ledger_checkpoints
    USING (tenant_id IS NULL OR tenant_id = nullif(current_setting('app.tenant_id', true), '')::uuid)
    WITH CHECK (tenant_id = nullif(current_setting('app.tenant_id', true), '')::uuid)`.execute(db);
  await sql`GRANT SELECT ON ledger_checkpoints TO mailrepo_app`.execute(db);
}
