import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import { createDb, type Db } from '../../lib/db';
import { ROLES } from '../../lib/db/roles';
import { withTenant } from '../../lib/db/tenant-scope';
import { allTenantIds } from '../../lib/db/tenant-ids';
import { addIngestAddress } from '../../lib/ingest/addresses';
import { createPasswordCredential } from '../../lib/ingest/credentials';
import { createTenant } from '../../lib/vault';
import { adminDb } from '../helpers/admin-db';
import { FAST_ARGON2 } from '../helpers/ledger';
import { stackConfig } from '../helpers/stack-env';

/**
 * Issue 17 §7: production roles, exercised. Row-level security only ever ran with the processes
 * connected as the superuser, which it does not bind; SECURITY DEFINER lookups owned by the
 * superuser bypassed it too. Now the whole suite runs as the service role; these tests pin down
 * what that role is and what it cannot do.
 */
const cfg = stackConfig();
let db: Db;
let admin: Db;
const tenants: { tenantId: string; address: string }[] = [];

beforeAll(async () => {
  db = createDb(cfg.DATABASE_URL, 2);
  admin = adminDb(cfg);
  for (const name of ['Rollen A GmbH', 'Rollen B GmbH']) {
    const { tenantId } = await createTenant(db, {
      name,
      admin: {
        email: `chefin-${randomUUID().slice(0, 8)}@rollen.example`,
        password: 'ein langes Passwort',
      },
      argon2: FAST_ARGON2,
    });
    const address = `journal-${randomUUID().slice(0, 8)}@ingest.rollen.example`;
    await addIngestAddress(db, tenantId, address, { type: 'system' });
    tenants.push({ tenantId, address });
  }
});
afterAll(async () => {
  await db.destroy();
  await admin.destroy();
});

const one = async <T>(q: ReturnType<typeof sql<T>>, on: Db = db): Promise<T> =>
  (await q.execute(on)).rows[0]!;

it('the processes connect as a login role that is no superuser, bypasses no RLS and owns nothing', async () => {
  const me = await one(sql<{ name: string; super: boolean; bypass: boolean; owned: number }>`
    SELECT rolname AS name, rolsuper AS super, rolbypassrls AS bypass,
           (SELECT count(*)::int FROM pg_class WHERE relowner = r.oid) AS owned
      FROM pg_roles r WHERE rolname = current_user`);
  expect(me).toEqual({ name: ROLES.service, super: false, bypass: false, owned: 0 });
  // The migrations ran as the owner, who owns the schema (the audit tables excepted).
  const owners = await sql<{ owner: string }>`
    SELECT DISTINCT pg_get_userbyid(c.relowner) AS owner FROM pg_class c
      JOIN pg_namespace n ON n.oid = c.relnamespace
     WHERE n.nspname = 'public' AND c.relkind = 'r'`.execute(db);
  expect(owners.rows.map((r) => r.owner).sort()).toEqual([ROLES.auditOwner, ROLES.owner]);
});

it('every table with tenant rows has forced row-level security', async () => {
  const open = await sql<{ t: string }>`
    SELECT c.relname AS t FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
     WHERE n.nspname = 'public' AND c.relkind = 'r'
       AND NOT (c.relrowsecurity AND c.relforcerowsecurity)
     ORDER BY 1`.execute(db);
  // Hashes of login sources and passwordless challenges, the anchor log's evidence records, the
  // smoke check and kysely's bookkeeping: no tenant in them.
  expect(open.rows.map((r) => r.t)).toEqual([
    'anchor_evidence',
    'auth_known_sources',
    'auth_throttle',
    'passkey_challenges',
    'schema_migrations',
    'schema_migrations_lock',
    'smoke_checks',
  ]);
});

it('SECURITY DEFINER lookups belong to a no-login role that bypasses nothing', async () => {
  const fns = await sql<{ fn: string; owner: string; login: boolean; unbound: boolean }>`
    SELECT p.proname AS fn, r.rolname AS owner, r.rolcanlogin AS login,
           r.rolsuper OR r.rolbypassrls AS unbound
      FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
      JOIN pg_roles r ON r.oid = p.proowner
     WHERE n.nspname = 'public' AND p.prosecdef ORDER BY 1`.execute(db);
  expect(fns.rows.length).toBeGreaterThanOrEqual(8);
  for (const f of fns.rows)
    expect(f).toEqual({ fn: f.fn, owner: ROLES.definer, login: false, unbound: false });
  // …which reads only the columns it needs: a user's key material is out of its reach.
  const reach = await one(sql<{ keys: boolean; email: boolean }>`
    SELECT has_column_privilege(${ROLES.definer}, 'users', 'wrapped_private_key', 'SELECT') AS keys,
           has_column_privilege(${ROLES.definer}, 'users', 'email', 'SELECT') AS email`);
  expect(reach).toEqual({ keys: false, email: true });
});

it('outside a tenant the service role sees no tenant rows; inside one, only that tenant', async () => {
  const [a, b] = tenants as [(typeof tenants)[0], (typeof tenants)[0]];
  // The administrator sees both tenants' users: the rows are there.
  const all = await one(
    sql<{ n: number }>`SELECT count(*)::int AS n FROM users
                        WHERE tenant_id IN (${a.tenantId}, ${b.tenantId})`,
    admin,
  );
  expect(all.n).toBe(2);
  for (const table of ['users', 'tenants', 'epochs', 'ingest_addresses', 'audit_events']) {
    const n = await one(sql<{ n: number }>`SELECT count(*)::int AS n FROM ${sql.table(table)}`);
    expect({ table, n: n.n }).toEqual({ table, n: 0 });
  }
  const seen = await withTenant(db, a.tenantId, (tx) =>
    sql<{ t: string }>`SELECT DISTINCT tenant_id AS t FROM users`.execute(tx),
  );
  expect(seen.rows).toEqual([{ t: a.tenantId }]);
  // The cross-tenant lookups still answer: they are what the definer role is for.
  expect(await allTenantIds(db)).toEqual(expect.arrayContaining([a.tenantId, b.tenantId]));
  const r = await one(sql<{ t: string }>`SELECT ingest_address_tenant(${b.address}) AS t`);
  expect(r.t).toBe(b.tenantId);
});

it('the service role cannot widen its own rights', async () => {
  const attempts = [
    sql`SET ROLE ${sql.raw(ROLES.owner)}`,
    sql`SET ROLE ${sql.raw(ROLES.definer)}`,
    sql`ALTER TABLE users DISABLE ROW LEVEL SECURITY`,
    sql`ALTER TABLE users NO FORCE ROW LEVEL SECURITY`,
    sql`SET row_security = off; SELECT 1 FROM users`,
    sql`DROP POLICY tenant_isolation ON users`,
    sql`CREATE TABLE planted (x int)`,
    sql`GRANT ${sql.raw(ROLES.owner)} TO ${sql.raw(ROLES.service)}`,
  ];
  for (const q of attempts)
    await expect(db.transaction().execute((tx) => q.execute(tx))).rejects.toThrow(
      /permission|must be|denied|row-level security|owner/i,
    );
  // Outside a tenant the platform may read audit heads (to anchor them), not write any tenant's.
  await expect(
    sql`INSERT INTO audit_heads (tenant_id, seq, hash)
        VALUES (${tenants[1]!.tenantId}, 0, ${Buffer.alloc(32)})`.execute(db),
  ).rejects.toThrow(/row-level security/);
  // Inside a tenant, the tenant role cannot touch the append-only audit log either.
  await expect(
    withTenant(db, tenants[0]!.tenantId, (tx) => sql`DELETE FROM audit_events`.execute(tx)),
  ).rejects.toThrow(/permission denied|append-only/);
});

it("the operator's relay credentials are the platform's; a tenant's are not", async () => {
  const operator = await createPasswordCredential(db, {
    tenantId: null,
    label: `relay-${randomUUID().slice(0, 6)}`,
    actor: { type: 'system' },
    createdBy: 'operator test',
  });
  const tenantCred = await createPasswordCredential(db, {
    tenantId: tenants[0]!.tenantId,
    label: 'eigener MTA',
    actor: { type: 'system' },
    createdBy: 'test',
  });
  const ids = await sql<{ id: string }>`SELECT id FROM ingest_credentials`.execute(db);
  const visible = ids.rows.map((r) => r.id);
  expect(visible).toContain(operator.id);
  expect(visible).not.toContain(tenantCred.id);
  await expect(
    sql`UPDATE ingest_credentials SET tenant_id = ${tenants[1]!.tenantId} WHERE id = ${operator.id}`.execute(
      db,
    ),
  ).rejects.toThrow(/row-level security/);
});
