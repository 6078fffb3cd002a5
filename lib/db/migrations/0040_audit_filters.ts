import { sql, type Kysely } from 'kysely';

/**
 * The portal's audit page filters a tenant's events by person, by action and by mail, newest
 * first in pages by sequence number (issue 25 §1). Each filter gets an index that yields its
 * events in sequence order, so a page costs its own rows even among millions of events; a mail's
 * events are its own (target) and those of the exports and restores that decrypted it (their
 * `messageIds`).
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`CREATE INDEX audit_events_by_actor ON audit_events (tenant_id, actor_id, seq)
    WHERE actor_id IS NOT NULL`.execute(db);
  await sql`CREATE INDEX audit_events_by_action ON audit_events (tenant_id, action, seq)`.execute(
    db,
  );
  await sql`CREATE INDEX audit_events_by_mail_ids ON audit_events
    USING gin ((details -> 'messageIds')) WHERE details ? 'messageIds'`.execute(db);
}
