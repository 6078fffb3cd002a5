import { randomUUID } from 'node:crypto';
import {
  enrolTotp,
  FAILED_LOGIN_FLOOR_MS,
  passwordStep,
  secondFactorStep,
} from '../../lib/auth/login';
import { recoveryKeyStep, setRecoveredPassword } from '../../lib/auth/password-recovery';
import { readSession, unlockedKeys } from '../../lib/auth/sessions';
import { newTotpSecret, totpCodeAt } from '../../lib/auth/totp';
import { createDb, type Db } from '../../lib/db';
import { withTenant } from '../../lib/db/tenant-scope';
import { createTenant, lock, unlock } from '../../lib/vault';
import { insertUser } from '../../lib/vault/users';
import { adminDb } from '../helpers/admin-db';
import { FAST_ARGON2 } from '../helpers/ledger';
import { stackConfig } from '../helpers/stack-env';
import { PASSWORD_COLUMNS, tenantSnapshot } from '../helpers/tenant-snapshot';

/**
 * Issue 21 §2: an owner who forgot the password sets a new one with the tenant's recovery key and
 * the second factor. Wrong keys, unknown addresses and non-owners fail alike (same answer, no
 * sooner than a failed login) and are audited and throttled like passwords; the recovered session
 * reaches nothing before the new password is set; the new password only re-wraps the owner's
 * key (every row of the tenant compared), other sessions end, and the old password stops working.
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

const OLD = 'Das alte vergessene Passwort';
const NEW = 'Ein frisches Passwort für Zaunkönige';
let n = 0;
const ip = () => `198.51.100.${++n}`;

/** A tenant whose owner has a TOTP app enrolled and a full session; plus an admin. */
async function ownerTenant(name: string) {
  const email = `inhaberin@${name}.example`;
  const t = await createTenant(db, {
    name,
    admin: { email, password: OLD },
    adminRole: 'owner',
    argon2: FAST_ARGON2,
  });
  const meta = { ip: ip(), argon2: FAST_ARGON2 };
  const first = await passwordStep(db, { email, password: OLD, ...meta });
  if (first.kind !== 'ok') throw new Error('login failed');
  const pending = await readSession(db, first.cookie);
  if (pending.status !== 'active') throw new Error('no session');
  const secret = newTotpSecret();
  const enrolled = await enrolTotp(db, pending.session, first.cookie, {
    secret,
    code: totpCodeAt(secret, Date.now() - 30_000),
    ip: meta.ip,
  });
  if (enrolled.kind !== 'ok') throw new Error('enrolment failed');
  const adminEmail = `admin@${name}.example`;
  const owner = await unlock(db, { tenantId: t.tenantId, email, password: OLD, argon2: FAST_ARGON2 }); // prettier-ignore
  await withTenant(db, t.tenantId, async (tx) => {
    const key = await tx.selectFrom('tenants').select(['key_version', 'recovery_public_key']).executeTakeFirstOrThrow(); // prettier-ignore
    await insertUser(
      tx,
      { tenantId: t.tenantId, keyVersion: key.key_version, tenantPrivateKey: owner.tenantPrivateKey, recoveryPublicKey: key.recovery_public_key }, // prettier-ignore
      { email: adminEmail, password: OLD, role: 'admin' },
      FAST_ARGON2,
    );
  });
  const tenantKey = Buffer.from(owner.tenantPrivateKey);
  lock(owner);
  return { ...t, email, adminEmail, secret, fullCookie: enrolled.cookie, tenantKey };
}

async function auditActions(tenantId: string, actions: string[]) {
  const rows = await dba
    .selectFrom('audit_events')
    .select(['action', 'details'])
    .where('tenant_id', '=', tenantId)
    .where('action', 'in', actions)
    .orderBy('seq')
    .execute();
  return rows;
}

describe('an owner’s forgotten password', () => {
  it('recovers with the recovery key and the second factor; only the key wrapping changes', async () => {
    const name = `vergessen-${randomUUID().slice(0, 8)}`;
    const t = await ownerTenant(name);
    const other = await createTenant(db, {
      name: `${name}-anderer`,
      admin: { email: `x@${name}-anderer.example`, password: OLD },
      argon2: FAST_ARGON2,
    });
    // TOTP use moves `totp_last_step`: besides the key, the only user column allowed to change.
    const ignored = [...PASSWORD_COLUMNS, 'totp_last_step'];
    const before = await tenantSnapshot(dba, t.tenantId, ignored);
    const from = ip();

    // Failures look alike: a key of another tenant, a garbled key, an unknown address, an admin.
    const attempts = [
      { email: t.email, recoveryKey: other.recoveryKey },
      { email: t.email, recoveryKey: 'ABCDE-FGHJK' },
      { email: `niemand@${name}.example`, recoveryKey: t.recoveryKey },
      { email: t.adminEmail, recoveryKey: t.recoveryKey },
    ];
    for (const a of attempts) {
      const started = performance.now();
      expect(await recoveryKeyStep(db, { ...a, ip: from })).toEqual({ kind: 'failed' });
      expect(performance.now() - started).toBeGreaterThanOrEqual(FAILED_LOGIN_FLOOR_MS - 5);
    }
    expect(await tenantSnapshot(dba, t.tenantId, ignored)).toEqual(before);
    const failed = await auditActions(t.tenantId, ['auth.recovery_key.failed']);
    expect(failed.map((e) => (e.details as { email: string }).email)).toEqual([
      t.email,
      t.email,
      t.adminEmail,
    ]);

    const step = await recoveryKeyStep(db, {
      email: t.email.toUpperCase(),
      recoveryKey: t.recoveryKey.toLowerCase(),
      ip: from,
    });
    if (step.kind !== 'ok') throw new Error(`recovery refused: ${step.kind}`);
    const pending = await readSession(db, step.cookie);
    if (pending.status !== 'active') throw new Error('no session');
    expect(pending.session).toMatchObject({ secondFactor: false, mustSetPassword: true, enrolled: true }); // prettier-ignore
    // No new password before the second factor.
    await expect(
      setRecoveredPassword(db, pending.session, step.cookie, { next: NEW, repeat: NEW, ip: from }),
    ).rejects.toThrow(/second factor/);

    const second = await secondFactorStep(db, pending.session, step.cookie, {
      code: totpCodeAt(t.secret, Date.now()),
      ip: from,
    });
    if (second.kind !== 'ok') throw new Error('second factor refused');
    const recovered = await readSession(db, second.cookie);
    if (recovered.status !== 'active') throw new Error('no session');
    expect(recovered.session).toMatchObject({ secondFactor: true, mustSetPassword: true });

    const set = (next: string, repeat = next) =>
      setRecoveredPassword(db, recovered.session, second.cookie, { next, repeat, ip: from, argon2: FAST_ARGON2 }); // prettier-ignore
    expect(await set(NEW, 'anders')).toEqual({ kind: 'invalid', problem: 'mismatch' });
    expect(await set('password123!')).toEqual({ kind: 'invalid', problem: 'common' });
    // The session made at enrolment ends; the recovered one stays.
    expect(await set(NEW)).toEqual({ kind: 'ok', sessionsEnded: 1 });
    expect((await readSession(db, t.fullCookie)).status).toBe('none');
    const after = await readSession(db, second.cookie);
    expect(after.status === 'active' && after.session.mustSetPassword).toBe(false);

    expect(await tenantSnapshot(dba, t.tenantId, ignored)).toEqual(before);
    const withNew = await unlock(db, { tenantId: t.tenantId, email: t.email, password: NEW, argon2: FAST_ARGON2 }); // prettier-ignore
    expect(withNew.tenantPrivateKey.equals(t.tenantKey)).toBe(true);
    lock(withNew);
    await expect(
      unlock(db, { tenantId: t.tenantId, email: t.email, password: OLD, argon2: FAST_ARGON2 }),
    ).rejects.toThrow();
    if (after.status === 'active') {
      const keys = await withTenant(db, t.tenantId, (tx) => unlockedKeys(tx, after.session, second.cookie)); // prettier-ignore
      expect(keys.tenantPrivateKey.equals(t.tenantKey)).toBe(true);
      lock(keys);
    }

    const done = await auditActions(t.tenantId, ['auth.recovery_key.used', 'key.recovered']);
    expect(done.map((e) => e.action)).toEqual(['auth.recovery_key.used', 'key.recovered']);
  }, 60_000);

  it('counts wrong recovery keys against the password limits', async () => {
    const name = `raten-${randomUUID().slice(0, 8)}`;
    const t = await ownerTenant(name);
    const other = await createTenant(db, {
      name: `${name}-anderer`,
      admin: { email: `x@${name}-anderer.example`, password: OLD },
      argon2: FAST_ARGON2,
    });
    const from = ip();
    const results: string[] = [];
    for (let i = 0; i < 11; i++)
      results.push((await recoveryKeyStep(db, { email: t.email, recoveryKey: other.recoveryKey, ip: from })).kind); // prettier-ignore
    expect(results.slice(0, 10)).toEqual(Array(10).fill('failed'));
    expect(results[10]).toBe('throttled');
    // One subject with the password step: the right key and the right password wait alike.
    expect((await recoveryKeyStep(db, { email: t.email, recoveryKey: t.recoveryKey, ip: from })).kind).toBe('throttled'); // prettier-ignore
    expect((await passwordStep(db, { email: t.email, password: OLD, ip: from, argon2: FAST_ARGON2 })).kind).toBe('throttled'); // prettier-ignore
  }, 60_000);
});
