import { sql, type Kysely } from 'kysely';

/**
 * Archiving in batches (decision 0020): the checkpoint round seals a tenant's ledgered mails with
 * one update by ledger index, and a batch looks up its mails' `mail.archived` events at once. Both
 * would otherwise scan every row of the tenant — millions of mails, each round.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`CREATE INDEX messages_unsealed ON messages (tenant_id, ledger_index)
    WHERE state <> 'sealed'`.execute(db);
  await sql`CREATE INDEX audit_events_by_target ON audit_events (tenant_id, target_id)
    WHERE target_id IS NOT NULL`.execute(db);
}
