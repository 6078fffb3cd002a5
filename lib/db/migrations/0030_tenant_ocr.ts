import { sql, type Kysely } from 'kysely';

/**
 * Text recognition for scans (issue 20 §1): off unless a tenant's owner or admin switches it on
 * (it costs CPU time per image and reads pictures a tenant may not want read).
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`ALTER TABLE tenants ADD COLUMN ocr_enabled boolean NOT NULL DEFAULT false`.execute(db);
}
