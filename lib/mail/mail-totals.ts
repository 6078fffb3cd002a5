import { sql } from 'kysely';
import type { TenantTx } from '../db/tenant-scope';

/**
 * A tenant's live mails and their bytes without counting millions of rows on every look: the
 * count up to `counted_before` is kept (tenant_mail_totals, migration 0028), the mails received
 * since are counted by the time index. Now and then the kept count moves forward; mails deleted
 * at retention end are subtracted in the transaction that deletes them (subtractDeleted). Both
 * writers hold the same per-tenant lock, so neither loses the other's change.
 */

/** A mail's row commits within this of its received_at (which is its transaction's start). */
const SETTLE_MS = 10 * 60_000;
/** The kept count moves forward once the mails after it span more than this. */
const FOLD_AFTER_MS = 60 * 60_000;

const lockTotals = (tx: TenantTx, tenantId: string) =>
  sql`SELECT pg_advisory_xact_lock(hashtext(${`mail-totals:${tenantId}`}))`.execute(tx);

async function live(tx: TenantTx, from: Date | undefined, before: Date) {
  const r = await sql<{ n: string; b: string }>`
    SELECT count(*) AS n, coalesce(sum(size), 0) AS b FROM messages
     WHERE deleted_at IS NULL AND received_at < ${before}
       ${from ? sql`AND received_at >= ${from}` : sql``}`.execute(tx);
  // Passed on as text: bigint sums stay exact.
  return { mails: r.rows[0]!.n, bytes: r.rows[0]!.b };
}

/** Brings the kept count forward when it is missing or old (under the tenant's lock). */
async function fold(tx: TenantTx, tenantId: string): Promise<void> {
  const until = new Date(Date.now() - SETTLE_MS);
  const kept = () =>
    tx.selectFrom('tenant_mail_totals').select('counted_before').executeTakeFirst();
  const before = await kept();
  if (before && before.counted_before.getTime() >= until.getTime() - FOLD_AFTER_MS) return;
  await lockTotals(tx, tenantId);
  const row = await kept();
  if (!row) {
    const c = await live(tx, undefined, until);
    await tx
      .insertInto('tenant_mail_totals')
      .values({
        tenant_id: tenantId,
        counted_before: until,
        mails: c.mails,
        bytes: c.bytes,
      })
      .execute();
  } else if (row.counted_before.getTime() < until.getTime() - FOLD_AFTER_MS) {
    const c = await live(tx, row.counted_before, until);
    await sql`UPDATE tenant_mail_totals SET counted_before = ${until},
        mails = mails + ${c.mails}::bigint, bytes = bytes + ${c.bytes}::bigint`.execute(tx);
  }
}

export async function mailTotals(
  tx: TenantTx,
  tenantId: string,
): Promise<{ mails: number; bytes: number }> {
  await fold(tx, tenantId);
  // One statement: the kept count and the mails since it from one snapshot, so a deletion that
  // commits meanwhile is seen in both or in neither.
  const r = await sql<{ mails: string; bytes: string }>`
    SELECT t.mails + d.n AS mails, t.bytes + d.b AS bytes
      FROM tenant_mail_totals t,
           LATERAL (SELECT count(*) AS n, coalesce(sum(size), 0) AS b FROM messages
                     WHERE deleted_at IS NULL AND received_at >= t.counted_before) d`.execute(tx);
  const row = r.rows[0]!;
  return { mails: Number(row.mails), bytes: Number(row.bytes) };
}

/** In the transaction that marks `ids` deleted, before it does: their share leaves the count. */
export async function subtractDeleted(tx: TenantTx, tenantId: string, ids: string[]) {
  if (!ids.length) return;
  await lockTotals(tx, tenantId);
  await sql`UPDATE tenant_mail_totals t SET mails = t.mails - d.n, bytes = t.bytes - d.b
      FROM (SELECT count(*) AS n, coalesce(sum(m.size), 0) AS b
              FROM messages m, tenant_mail_totals k
             WHERE m.id = ANY(${ids}::uuid[]) AND m.deleted_at IS NULL
               AND m.received_at < k.counted_before) d`.execute(tx);
}
