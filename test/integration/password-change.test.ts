import { changeOwnPassword } from '../../lib/auth/password-change';
import { createSession, readSession, unlockedKeys } from '../../lib/auth/sessions';
import { createDb, type Db } from '../../lib/db';
import { withTenant } from '../../lib/db/tenant-scope';
import { lock, unlock } from '../../lib/vault';
import { adminDb } from '../helpers/admin-db';
import { FAST_ARGON2 } from '../helpers/ledger';
import { stackConfig } from '../helpers/stack-env';
import { TEST_PASSWORD, unlockedTenant } from '../helpers/tenant';
import { tenantSnapshot } from '../helpers/tenant-snapshot';

/**
 * Issue 21 §1: a user changes their own password. Only the wrapping of the user's key changes —
 * every row of the tenant in every table is compared before and after, byte for byte, but the
 * user's key columns, the sessions and what audit writes (its events, chain heads and their
 * anchoring in the ledger) — the other sessions end with their keys destroyed, the new password
 * unlocks and the old one no longer does, and a wrong current password is refused and throttled.
 */
const cfg = stackConfig();
const dba = adminDb(cfg);
let db: Db;
beforeAll(() => {
  db = createDb(cfg.DATABASE_URL, 2);
});
afterAll(async () => {
  await db.destroy();
  await dba.destroy();
});

describe('changing one’s own password', () => {
  it('re-wraps only the user key, ends the other sessions, and audits it', async () => {
    const t = await unlockedTenant(db, 'Passwortwechsel');
    const { session: unlocked } = t;
    const [mine, other] = await withTenant(db, t.tenantId, async (tx) => [
      await createSession(tx, { unlocked, ip: '192.0.2.40', secondFactor: true }),
      await createSession(tx, { unlocked, ip: '192.0.2.41', secondFactor: true }),
    ]);
    lock(unlocked);
    const me = await readSession(db, mine);
    if (me.status !== 'active') throw new Error('no session');
    const session = me.session;
    const before = await tenantSnapshot(dba, t.tenantId);
    const keyBefore = await dba
      .selectFrom('users')
      .select('wrapped_private_key')
      .where('id', '=', session.userId)
      .executeTakeFirstOrThrow();

    const NEW = 'Neues Passwort für Zaunkönige 2026';
    const bad = { current: TEST_PASSWORD, ip: '192.0.2.40', argon2: FAST_ARGON2 };
    expect(await changeOwnPassword(db, session, { ...bad, next: NEW, repeat: 'anders' })).toEqual({
      kind: 'invalid',
      problem: 'mismatch',
    });
    expect(
      await changeOwnPassword(db, session, {
        ...bad,
        next: 'password123!',
        repeat: 'password123!',
      }),
    ).toEqual({ kind: 'invalid', problem: 'common' });
    expect(
      await changeOwnPassword(db, session, { ...bad, current: 'falsch falsch falsch', next: NEW, repeat: NEW }), // prettier-ignore
    ).toEqual({ kind: 'failed' });
    // Nothing changed by refused attempts.
    expect(await tenantSnapshot(dba, t.tenantId)).toEqual(before);

    const changed = await changeOwnPassword(db, session, { ...bad, next: NEW, repeat: NEW });
    expect(changed).toEqual({ kind: 'ok', sessionsEnded: 1 });

    // Byte for byte the same, but the user's key columns.
    expect(await tenantSnapshot(dba, t.tenantId)).toEqual(before);
    const keyAfter = await dba
      .selectFrom('users')
      .select('wrapped_private_key')
      .where('id', '=', session.userId)
      .executeTakeFirstOrThrow();
    expect(keyAfter.wrapped_private_key.equals(keyBefore.wrapped_private_key)).toBe(false);

    // The other session is gone with its keys; this one still opens its keys.
    expect((await readSession(db, other)).status).toBe('none');
    const ended = await dba
      .selectFrom('sessions')
      .select(['sealed_keys', 'end_reason'])
      .where('user_id', '=', session.userId)
      .where('ended_at', 'is not', null)
      .execute();
    expect(ended).toEqual([{ sealed_keys: Buffer.alloc(0), end_reason: 'revoked' }]);
    const keys = await withTenant(db, t.tenantId, (tx) => unlockedKeys(tx, session, mine));
    expect(keys.tenantPrivateKey.length).toBeGreaterThan(0);

    // The new password unlocks the same keys; the old one does not.
    const withNew = await unlock(db, { tenantId: t.tenantId, email: t.email, password: NEW, argon2: FAST_ARGON2 }); // prettier-ignore
    expect(withNew.tenantPrivateKey.equals(keys.tenantPrivateKey)).toBe(true);
    lock(withNew);
    await expect(
      unlock(db, { tenantId: t.tenantId, email: t.email, password: TEST_PASSWORD, argon2: FAST_ARGON2 }), // prettier-ignore
    ).rejects.toThrow();

    const events = await dba
      .selectFrom('audit_events')
      .select(['action', 'actor_id'])
      .where('tenant_id', '=', t.tenantId)
      .where('action', 'in', ['password.changed', 'session.revoked'])
      .orderBy('seq')
      .execute();
    expect(events.map((e) => e.action)).toEqual(['password.changed', 'session.revoked']);
  }, 60_000);

  it('throttles wrong current passwords like logins', async () => {
    const t = await unlockedTenant(db, 'Passwortraten');
    const cookie = await withTenant(db, t.tenantId, (tx) =>
      createSession(tx, { unlocked: t.session, ip: '192.0.2.50', secondFactor: true }),
    );
    lock(t.session);
    const me = await readSession(db, cookie);
    if (me.status !== 'active') throw new Error('no session');
    const NEW = 'Ein ganz anderes Passwort 2026';
    const guess = (n: number) =>
      changeOwnPassword(db, me.session, { current: `Rateversuch Nummer ${n}`, next: NEW, repeat: NEW, ip: '192.0.2.50', argon2: FAST_ARGON2 }); // prettier-ignore
    const results = [];
    for (let n = 0; n < 12; n++) results.push((await guess(n)).kind);
    expect(results.slice(0, 10)).toEqual(Array(10).fill('failed'));
    expect(results.slice(10)).toContain('throttled');
  }, 60_000);
});
