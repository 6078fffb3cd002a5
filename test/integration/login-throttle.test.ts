import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import {
  enrolTotp,
  FAILED_LOGIN_FLOOR_MS,
  passwordStep,
  secondFactorStep,
} from '../../lib/auth/login';
import { readSession } from '../../lib/auth/sessions';
import { LIMITS, reserveAttempt, retryAfter } from '../../lib/auth/throttle';
import type { Db as DbT } from '../../lib/db';

/** A failed attempt as the login counts it: reserved, then reported failed. */
async function recordFailure(db: DbT, s: Parameters<typeof reserveAttempt>[1]) {
  const r = await reserveAttempt(db, s);
  if ('reservation' in r) await r.reservation.failed();
}
import { newTotpSecret, totpCodeAt } from '../../lib/auth/totp';
import { createDb, type Db } from '../../lib/db';
import { createTenant } from '../../lib/vault';
import { FAST_ARGON2 } from '../helpers/ledger';
import { stackConfig } from '../helpers/stack-env';
import { adminDb } from '../helpers/admin-db';

/**
 * The brute-force limits beyond one account and IP (the browser test covers that one): per IP per
 * day, the account lock with its audit notice, and the second-factor step.
 */
const cfg = stackConfig();
// Inspects and tampers with what is stored as the database administrator; the code under test
// runs as the service role.
const dba = adminDb(cfg);
afterAll(() => dba.destroy());
const PASSWORD = 'ein langes Passwort';
let db: Db;
beforeAll(() => {
  db = createDb(cfg.DATABASE_URL, 2);
});
afterAll(() => db.destroy());

const ip = () => `198.51.100.${Math.floor(Math.random() * 250)}-${randomUUID().slice(0, 6)}`;

async function tenantWithUser() {
  const email = `nutzer-${randomUUID().slice(0, 8)}@drossel.example`;
  const t = await createTenant(db, {
    name: 'Drossel GmbH',
    admin: { email, password: PASSWORD },
    argon2: FAST_ARGON2,
  });
  return { ...t, email };
}

describe('failed logins', () => {
  it('take the same floor time for known and unknown addresses', async () => {
    const t = await tenantWithUser();
    const time = async (email: string) => {
      const start = performance.now();
      const r = await passwordStep(db, {
        email,
        password: 'falsch und lang genug',
        ip: ip(),
        argon2: FAST_ARGON2,
      });
      expect(r.kind).toBe('failed');
      return performance.now() - start;
    };
    const known = await time(t.email);
    const unknown = await time(`niemand-${randomUUID()}@drossel.example`);
    // Both answer no sooner than the floor (a property, not a speed goal: what differs between
    // the two paths takes far less than the floor and is hidden under it).
    expect(known).toBeGreaterThanOrEqual(FAILED_LOGIN_FLOOR_MS - 5);
    expect(unknown).toBeGreaterThanOrEqual(FAILED_LOGIN_FLOOR_MS - 5);
  });
});

describe('login throttling', () => {
  it('stops one IP after 100 failures a day over many accounts, not other IPs', async () => {
    const attacker = ip();
    for (let i = 0; i < LIMITS.ipPerDay; i++)
      await recordFailure(db, { step: 'password', account: `opfer${i}@x.example`, ip: attacker });
    const fresh = { step: 'password' as const, account: 'neu@x.example' };
    expect(await retryAfter(db, { ...fresh, ip: attacker })).toBeGreaterThan(3600);
    expect(await retryAfter(db, { ...fresh, ip: ip() })).toBe(0);
  });

  it('100 failures an hour from many networks: an attack notice, unknown sources back off, the owner still signs in', async () => {
    const t = await tenantWithUser();
    // The owner signed in from home before.
    const home = '192.0.2.77';
    expect(
      (
        await passwordStep(db, {
          email: t.email,
          password: PASSWORD,
          ip: home,
          argon2: FAST_ARGON2,
        })
      ).kind,
    ).toBe('ok');
    // 99 failures from 33 networks (3 each: under every per-source limit) …
    for (let i = 0; i < LIMITS.accountPerHour - 1; i++)
      await recordFailure(db, { step: 'password', account: t.email, ip: `203.0.${i % 33}.9` });
    // … and the 100th through the login itself.
    const last = await passwordStep(db, {
      email: t.email,
      password: 'falsch, falsch, falsch',
      ip: '203.0.200.1',
      argon2: FAST_ARGON2,
    });
    expect(last.kind).toBe('failed');
    // A source the account never signed in from now waits, even with the right password …
    const stranger = await passwordStep(db, {
      email: t.email,
      password: PASSWORD,
      ip: '198.18.0.5',
      argon2: FAST_ARGON2,
    });
    expect(stranger.kind).toBe('throttled');
    // … but the attacker cannot lock the owner out: their own network is not held back.
    const owner = await passwordStep(db, {
      email: t.email,
      password: PASSWORD,
      ip: '192.0.2.80',
      argon2: FAST_ARGON2,
    });
    expect(owner.kind).toBe('ok');
    const events = await sql<{ action: string }>`SELECT action FROM audit_events
      WHERE tenant_id = ${t.tenantId} AND action LIKE 'auth.login.%' ORDER BY seq`.execute(dba);
    expect(events.rows.map((r) => r.action)).toEqual([
      'auth.login.succeeded',
      'auth.login.failed',
      'auth.login.attack_suspected',
      'auth.login.succeeded',
    ]);
  });

  it('throttles the second-factor step like the password step', async () => {
    const t = await tenantWithUser();
    const meta = { ip: ip(), argon2: FAST_ARGON2 };
    const first = await passwordStep(db, { email: t.email, password: PASSWORD, ...meta });
    if (first.kind !== 'ok') throw new Error('login failed');
    const pending = await readSession(db, first.cookie);
    if (pending.status !== 'active') throw new Error('no session');
    const secret = newTotpSecret();
    const enrolled = await enrolTotp(db, pending.session, first.cookie, {
      secret,
      code: totpCodeAt(secret, Date.now()),
      ip: meta.ip,
    });
    expect(enrolled.kind).toBe('ok');

    const second = await passwordStep(db, { email: t.email, password: PASSWORD, ...meta });
    if (second.kind !== 'ok') throw new Error('login failed');
    expect(second.next).toBe('second-factor');
    const s = await readSession(db, second.cookie);
    if (s.status !== 'active') throw new Error('no session');
    const results: string[] = [];
    for (let i = 0; i < LIMITS.accountIpFree; i++)
      results.push(
        (await secondFactorStep(db, s.session, second.cookie, { code: '000000', ip: meta.ip }))
          .kind,
      );
    expect(results).toEqual(Array(LIMITS.accountIpFree).fill('failed'));
    // Now even the right code waits.
    const right = totpCodeAt(secret, Date.now() + 30_000);
    const blocked = await secondFactorStep(db, s.session, second.cookie, {
      code: right,
      ip: meta.ip,
    });
    expect(blocked.kind).toBe('throttled');
  });
});
