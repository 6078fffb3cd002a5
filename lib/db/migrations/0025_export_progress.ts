import { sql, type Kysely } from 'kysely';

/**
 * Export progress in the database (issue 18 §4): the activity writing a part records how many
 * mails are done, and the portal reads it from here. It used to signal the workflow every five
 * mails, which grew the workflow's history by one event per five mails.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`ALTER TABLE exports
    ADD COLUMN mails_done integer NOT NULL DEFAULT 0 CHECK (mails_done >= 0)`.execute(db);
}
