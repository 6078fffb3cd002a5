import { sql, type Kysely } from 'kysely';

/**
 * One logical mail for one original journaled several times (issue 22 §2, decision 0029): a
 * journal report's row keeps the SHA-256 of the original it carries (the same kind of fact as
 * `sha256`, which every mail's row already holds), and a later report of the same original
 * points at the first one's row. Both stay separate evidence (own object, ledger entry and
 * proof); lists and searches show the group once.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`ALTER TABLE messages
    ADD COLUMN original_sha256 bytea CHECK (original_sha256 IS NULL OR length(original_sha256) = 32),
    ADD COLUMN logical_id uuid REFERENCES messages(id)`.execute(db);
  await sql`CREATE INDEX messages_by_original ON messages (tenant_id, original_sha256)
    WHERE original_sha256 IS NOT NULL`.execute(db);
  await sql`CREATE INDEX messages_by_logical ON messages (tenant_id, logical_id)
    WHERE logical_id IS NOT NULL`.execute(db);
}
