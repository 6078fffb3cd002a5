import { sql } from 'kysely';
import { createDb, type Db } from '../../lib/db';
import { withTenant } from '../../lib/db/tenant-scope';
import { mailTotals, subtractDeleted } from '../../lib/mail/mail-totals';
import { archiveStatus } from '../../lib/dashboard/archive-status';
import { currentEpochPublicKey } from '../../lib/vault';
import { queueMails } from '../helpers/search-corpus';
import { unlockedTenant } from '../helpers/tenant';
import { stackConfig } from '../helpers/stack-env';
import { adminDb } from '../helpers/admin-db';

/**
 * The home's mail counts (issue 20 §4) come from a kept count plus the mails since it; they must
 * equal what the table holds however the kept count, new mails and deletions interleave.
 */
const cfg = stackConfig();
const dba = adminDb(cfg);
let db: Db;
beforeAll(() => {
  db = createDb(cfg.DATABASE_URL, 8);
});
afterAll(async () => {
  await db.destroy();
  await dba.destroy();
});

const truth = async (tenantId: string) => {
  const r = await sql<{ n: number; b: number }>`SELECT count(*)::int AS n,
      coalesce(sum(size), 0)::int AS b FROM messages
     WHERE tenant_id = ${tenantId} AND deleted_at IS NULL`.execute(dba);
  return { mails: r.rows[0]!.n, bytes: r.rows[0]!.b };
};
const totals = (tenantId: string) => withTenant(db, tenantId, (tx) => mailTotals(tx, tenantId));

async function tenantWithMails(name: string, n: number) {
  const t = await unlockedTenant(db, name);
  const epoch = await currentEpochPublicKey(db, {
    tenantId: t.tenantId,
    retentionClass: 'default',
  });
  const add = (k: number) =>
    queueMails(
      db,
      t.tenantId,
      epoch,
      Array.from({ length: k }, (_, i) => ({
        subject: `Mail ${i}`,
        from: 'a@t.example',
        to: 'b@t.example',
        text: 'x'.repeat(i * 7),
      })),
    );
  return { ...t, ids: await add(n), add };
}

/** Moves every mail and the kept count back in time, as if they had come `hours` ago. */
const age = async (tenantId: string, hours: number) => {
  await sql`UPDATE messages SET received_at = received_at - make_interval(hours => ${hours})
    WHERE tenant_id = ${tenantId}`.execute(dba);
  await sql`UPDATE tenant_mail_totals SET counted_before = counted_before - make_interval(hours => ${hours})
    WHERE tenant_id = ${tenantId}`.execute(dba);
};

/** What the retention sweep does to mails at their end (recordDeletion), the count first. */
const deleteMails = (tenantId: string, ids: string[]) =>
  withTenant(db, tenantId, async (tx) => {
    await subtractDeleted(tx, tenantId, ids);
    await tx
      .updateTable('messages')
      .set({ deleted_at: new Date() })
      .where('id', 'in', ids)
      .execute();
  });

const kept = async (tenantId: string) =>
  (
    await sql<{ mails: string; counted_before: Date }>`SELECT mails, counted_before
      FROM tenant_mail_totals WHERE tenant_id = ${tenantId}`.execute(dba)
  ).rows[0];

it('counts what the table holds as the kept count starts, moves forward and mails come', async () => {
  const t = await tenantWithMails('TotalsA', 7);
  expect(await totals(t.tenantId)).toEqual(await truth(t.tenantId));
  // Three hours later the kept count folds the seven in and still adds new mails on top.
  await age(t.tenantId, 3);
  await t.add(4);
  expect(await totals(t.tenantId)).toEqual(await truth(t.tenantId));
  expect(Number((await kept(t.tenantId))!.mails)).toBe(7);
  expect((await truth(t.tenantId)).mails).toBe(11);
  // What the home shows.
  const status = await archiveStatus(db, t.tenantId);
  expect({ mails: status.mails, bytes: status.bytes }).toEqual(await truth(t.tenantId));
  expect(status.lastHour).toBe(4);
});

it('subtracts mails deleted at retention end once, counted or not yet counted', async () => {
  const t = await tenantWithMails('TotalsB', 10);
  await totals(t.tenantId);
  await age(t.tenantId, 3);
  await totals(t.tenantId); // folds all ten in
  const fresh = await t.add(5); // after the kept count
  const del = (ids: string[]) => deleteMails(t.tenantId, ids);
  await del([...t.ids.slice(0, 4), ...fresh.slice(0, 2)]);
  expect(await totals(t.tenantId)).toEqual(await truth(t.tenantId));
  // A retried deletion changes nothing.
  await del(t.ids.slice(0, 4));
  expect(await totals(t.tenantId)).toEqual(await truth(t.tenantId));
  expect((await truth(t.tenantId)).mails).toBe(9);
});

it('stays exact when a deletion and a fold run at the same time', async () => {
  const t = await tenantWithMails('TotalsC', 30);
  await totals(t.tenantId);
  for (let round = 0; round < 5; round++) {
    await age(t.tenantId, 2);
    const batch = await t.add(3);
    const victims = [...t.ids.slice(round * 4, round * 4 + 4), batch[0]!];
    await Promise.all([totals(t.tenantId), deleteMails(t.tenantId, victims), totals(t.tenantId)]);
    expect(await totals(t.tenantId)).toEqual(await truth(t.tenantId));
  }
});

it("reads no other tenant's count", async () => {
  const a = await tenantWithMails('TotalsD', 3);
  const b = await tenantWithMails('TotalsE', 6);
  expect((await totals(a.tenantId)).mails).toBe(3);
  expect((await totals(b.tenantId)).mails).toBe(6);
});
