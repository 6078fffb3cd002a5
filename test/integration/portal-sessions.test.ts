import { sql } from 'kysely';
import { changeRole, endSessionsOf, RoleError, setUserDisabled } from '../../lib/auth/roles';
import {
  createSession,
  readSession,
  revokeSessions,
  sweepExpiredSessions,
  unlockedKeys,
} from '../../lib/auth/sessions';
import { createDb, type Db } from '../../lib/db';
import { withTenant } from '../../lib/db/tenant-scope';
import { addMember, lock, unlock } from '../../lib/vault';
import { FAST_ARGON2 } from '../helpers/ledger';
import { unlockedTenant } from '../helpers/tenant';
import { stackConfig } from '../helpers/stack-env';
import { adminDb } from '../helpers/admin-db';

/**
 * Sessions below the portal: the cookie's key is needed to unwrap the session's keys (a database
 * dump alone opens nothing), an ended session's keys are destroyed, and tenant A cannot touch
 * tenant B's sessions even with B's session reference.
 */
const cfg = stackConfig();
// Inspects and tampers with what is stored as the database administrator; the code under test
// runs as the service role.
const dba = adminDb(cfg);
afterAll(() => dba.destroy());
let db: Db;
beforeAll(() => {
  db = createDb(cfg.DATABASE_URL, 2);
});
afterAll(() => db.destroy());

async function signedIn(name: string) {
  const t = await unlockedTenant(db, name);
  const { session: unlocked } = t;
  const cookie = await withTenant(db, t.tenantId, (tx) =>
    createSession(tx, { unlocked, ip: '192.0.2.1', secondFactor: true }),
  );
  const tenantKey = Buffer.from(unlocked.tenantPrivateKey);
  lock(unlocked);
  const r = await readSession(db, cookie);
  if (r.status !== 'active') throw new Error('session not active');
  return { ...t, cookie, session: r.session, tenantKey };
}

/** What readSession says of a session that ran out idle: 30 minutes after it was last seen. */
async function idleExpiry(idHash: Buffer) {
  const seen = await sql<{ at: Date }>`SELECT last_seen_at AS at FROM sessions
    WHERE id_hash = ${idHash}`.execute(dba);
  const at = new Date(seen.rows[0]!.at.getTime() + 30 * 60_000);
  return { status: 'expired', reason: 'idle-timeout', at, limit: 30 };
}

describe('portal sessions', () => {
  it('unwrap the keys only with the cookie, and not once ended', async () => {
    const a = await signedIn('SitzungA');
    const keys = await withTenant(db, a.tenantId, (tx) => unlockedKeys(tx, a.session, a.cookie));
    expect(keys.tenantPrivateKey.equals(a.tenantKey)).toBe(true);
    // The id with another key (what a database reader could guess at best) opens nothing.
    const [, id] = a.cookie.split('.');
    const forged = `s1.${id}.${Buffer.alloc(32, 7).toString('base64url')}`;
    await expect(
      withTenant(db, a.tenantId, (tx) => unlockedKeys(tx, a.session, forged)),
    ).rejects.toThrow();
    // Nothing readable in the row: the tenant key's bytes do not occur.
    const row = await sql<{ sealed_keys: Buffer }>`SELECT sealed_keys FROM sessions
      WHERE id_hash = ${a.session.idHash}`.execute(dba);
    expect(row.rows[0]!.sealed_keys.includes(a.tenantKey)).toBe(false);

    expect(await revokeSessions(db, a.session, a.session.idHash.toString('hex'), '192.0.2.1')).toBe(
      1,
    );
    expect((await readSession(db, a.cookie)).status).toBe('none');
    await expect(
      withTenant(db, a.tenantId, (tx) => unlockedKeys(tx, a.session, a.cookie)),
    ).rejects.toThrow();
  });

  it('a session the sweep ended for idleness still reads as expired, not as unknown', async () => {
    const a = await signedIn('SitzungSweep');
    await sql`UPDATE sessions SET last_seen_at = now() - interval '31 minutes'
              WHERE id_hash = ${a.session.idHash}`.execute(dba);
    expect(await sweepExpiredSessions(db)).toBeGreaterThanOrEqual(1);
    const row = await sql<{ end_reason: string; keys: number }>`
      SELECT end_reason, length(sealed_keys) AS keys FROM sessions
      WHERE id_hash = ${a.session.idHash}`.execute(dba);
    expect(row.rows).toEqual([{ end_reason: 'idle-timeout', keys: 0 }]);
    // The cookie comes back after the sweep: the user is told why, when and by which limit
    // (issue 25 §3), and nothing is ended twice.
    expect(await readSession(db, a.cookie)).toEqual(await idleExpiry(a.session.idHash));
    const ends = await sql<{ n: string }>`SELECT count(*) AS n FROM audit_events
      WHERE tenant_id = ${a.tenantId} AND action = 'session.expired'`.execute(dba);
    expect(Number(ends.rows[0]!.n)).toBe(1);
  });

  it('a session past its limits reads as expired with when and which limit ended it', async () => {
    const a = await signedIn('SitzungFrist');
    await sql`UPDATE sessions SET last_seen_at = now() - interval '45 minutes'
              WHERE id_hash = ${a.session.idHash}`.execute(dba);
    expect(await readSession(db, a.cookie)).toEqual(await idleExpiry(a.session.idHash));
    // Active all along but older than the tenant's maximum (12 hours by default).
    const b = await signedIn('SitzungHoechst');
    await sql`UPDATE sessions SET created_at = now() - interval '13 hours'
              WHERE id_hash = ${b.session.idHash}`.execute(dba);
    const made = await sql<{ at: Date; hours: number }>`SELECT s.created_at AS at,
      t.session_absolute_hours AS hours FROM sessions s JOIN tenants t ON t.id = s.tenant_id
      WHERE s.id_hash = ${b.session.idHash}`.execute(dba);
    const { at, hours } = made.rows[0]!;
    const expired = { status: 'expired', reason: 'absolute-limit', at: new Date(at.getTime() + hours * 3_600_000), limit: hours }; // prettier-ignore
    expect(await readSession(db, b.cookie)).toEqual(expired);
    // …and the same once it has been ended, when the cookie comes back.
    expect(await readSession(db, b.cookie)).toEqual(expired);
  });

  it("tenant A cannot end tenant B's session, even naming it", async () => {
    const a = await signedIn('SitzungC');
    const b = await signedIn('SitzungD');
    const bRef = b.session.idHash.toString('hex');
    expect(await revokeSessions(db, a.session, bRef, '192.0.2.1')).toBe(0);
    // Also with A's tenant but B's user id forged into the session info: RLS hides B's row.
    expect(
      await revokeSessions(db, { ...a.session, userId: b.session.userId }, bRef, '192.0.2.1'),
    ).toBe(0);
    expect((await readSession(db, b.cookie)).status).toBe('active');
    // Nor change the role of B's user: not found, nothing changed.
    await expect(
      changeRole(
        db,
        { ...a.session, role: 'owner' },
        { userId: b.adminUserId, role: 'member', ip: '192.0.2.1' },
      ),
    ).rejects.toThrow('users.error.noSuchUser');
  });

  it('an admin disables a user (sessions end, sign-in refused) and signs users out everywhere', async () => {
    const a = await signedIn('SitzungE');
    const unlockedAdmin = await unlock(db, {
      tenantId: a.tenantId,
      email: 'admin@sitzunge.example',
      password: 'ein langes Passwort',
      argon2: FAST_ARGON2,
    });
    const memberId = await addMember(
      db,
      unlockedAdmin,
      { email: 'member@sitzunge.example', password: 'noch ein langes Passwort', role: 'member' },
      FAST_ARGON2,
    );
    lock(unlockedAdmin);
    const memberSession = async () => {
      const u = await unlock(db, {
        tenantId: a.tenantId,
        email: 'member@sitzunge.example',
        password: 'noch ein langes Passwort',
        argon2: FAST_ARGON2,
      });
      const cookie = await withTenant(db, a.tenantId, (tx) =>
        createSession(tx, { unlocked: u, ip: '192.0.2.2', secondFactor: true }),
      );
      lock(u);
      return cookie;
    };
    const admin = { ...a.session, role: 'admin' as const };

    const c1 = await memberSession();
    const c2 = await memberSession();
    expect(await endSessionsOf(db, admin, { userId: memberId, ip: '192.0.2.1' })).toBe(2);
    expect((await readSession(db, c1)).status).toBe('none');
    expect((await readSession(db, c2)).status).toBe('none');

    const c3 = await memberSession();
    await setUserDisabled(db, admin, { userId: memberId, disabled: true, ip: '192.0.2.1' });
    expect((await readSession(db, c3)).status).toBe('none');
    // Disabled: the login lookup no longer finds the account (same answer as a wrong password).
    const found = await sql<{
      t: string | null;
    }>`SELECT login_tenants('member@sitzunge.example') AS t`.execute(dba);
    expect(found.rows.every((r) => r.t !== a.tenantId)).toBe(true);
    await setUserDisabled(db, admin, { userId: memberId, disabled: false, ip: '192.0.2.1' });
    expect((await readSession(db, await memberSession())).status).toBe('active');

    const events = await sql<{ action: string }>`SELECT action FROM audit_events
      WHERE tenant_id = ${a.tenantId} AND action IN ('user.disabled', 'user.enabled') ORDER BY seq`.execute(
      dba,
    );
    expect(events.rows.map((r) => r.action)).toEqual(['user.disabled', 'user.enabled']);

    // Nobody manages themselves or, unless owner, an owner; another tenant's user is not found.
    await expect(
      setUserDisabled(db, admin, { userId: a.session.userId, disabled: true, ip: '192.0.2.1' }),
    ).rejects.toThrow(RoleError);
    const b = await signedIn('SitzungF');
    await expect(
      endSessionsOf(
        db,
        { ...a.session, role: 'owner' },
        { userId: b.session.userId, ip: '192.0.2.1' },
      ),
    ).rejects.toThrow('users.error.noSuchUser');
    expect((await readSession(db, b.cookie)).status).toBe('active');
  });
});
