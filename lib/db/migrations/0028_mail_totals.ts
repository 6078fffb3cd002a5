import { sql, type Kysely } from 'kysely';
import { tenantIsolation } from './tenant-isolation';

/**
 * The portal's home counts a tenant's mails and bytes (issue 20 §4). Counting ten million rows
 * takes seconds, so the count up to a moment is kept here (lib/dashboard/mail-totals.ts): the
 * home adds the mails since, deletions at retention end subtract theirs. Filled now for every
 * tenant, up to ten minutes ago (a mail's row is committed within that of its received_at).
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`CREATE TABLE tenant_mail_totals (
    tenant_id uuid PRIMARY KEY REFERENCES tenants (id) ON DELETE CASCADE,
    counted_before timestamptz NOT NULL,
    mails bigint NOT NULL,
    bytes bigint NOT NULL
  )`.execute(db);
  await tenantIsolation(db, 'tenant_mail_totals', 'SELECT, INSERT, UPDATE');
  await sql`INSERT INTO tenant_mail_totals (tenant_id, counted_before, mails, bytes)
    SELECT t.id, now() - interval '10 minutes', count(m.id), coalesce(sum(m.size), 0)
      FROM tenants t
      LEFT JOIN messages m ON m.tenant_id = t.id AND m.deleted_at IS NULL
                          AND m.received_at < now() - interval '10 minutes'
     GROUP BY t.id`.execute(db);
}
