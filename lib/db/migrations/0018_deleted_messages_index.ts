import { sql, type Kysely } from 'kysely';

/**
 * Every load of a session's search index asks which mails were deleted beside held mail (to hide
 * them); a partial index keeps that a lookup of the few deleted rows instead of a scan of all.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`CREATE INDEX messages_deleted ON messages (tenant_id, epoch_id)
    WHERE deleted_at IS NOT NULL`.execute(db);
}
