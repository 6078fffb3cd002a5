import { randomUUID } from 'node:crypto';
import { passwordStep, reauthenticate } from '../../lib/auth/login';
import { LIMITS } from '../../lib/auth/throttle';
import { argon2Gate } from '../../lib/crypto/argon2-gate';
import { BusyError, Gate } from '../../lib/process/gate';
import { createDb, type Db } from '../../lib/db';
import { createTenant } from '../../lib/vault';
import { FAST_ARGON2 } from '../helpers/ledger';
import { stackConfig } from '../helpers/stack-env';
import { adminDb } from '../helpers/admin-db';

/**
 * Issue 17 §3: a limit that concurrency cannot beat. 100 wrong passwords for one account from one
 * IP, all at once: at most the free attempts are checked, the rest are refused before any Argon2
 * run. (Before: 100 × failed, 0 × throttled — every guess was checked.)
 */
const cfg = stackConfig();
const dba = adminDb(cfg);
afterAll(() => dba.destroy());
let db: Db;
beforeAll(() => {
  db = createDb(cfg.DATABASE_URL, 10);
});
afterAll(() => db.destroy());

async function tenantWithUser() {
  const email = `ziel-${randomUUID().slice(0, 8)}@parallel.example`;
  await createTenant(db, {
    name: 'Parallel GmbH',
    admin: { email, password: 'das richtige Passwort' },
    argon2: FAST_ARGON2,
  });
  return email;
}

it('100 concurrent wrong passwords from one IP: at most the free attempts are checked', async () => {
  const email = await tenantWithUser();
  const ip = `192.0.2.${Math.floor(Math.random() * 250)}-${randomUUID().slice(0, 6)}`;
  const results = await Promise.all(
    Array.from({ length: 100 }, () =>
      passwordStep(db, { email, password: 'falsch geraten!', ip, argon2: FAST_ARGON2 }),
    ),
  );
  const kinds = results.map((r) => r.kind);
  const failed = kinds.filter((k) => k === 'failed').length;
  expect(failed).toBeLessThanOrEqual(LIMITS.accountIpFree);
  expect(failed).toBeGreaterThan(0);
  expect(kinds.filter((k) => k === 'throttled').length).toBe(100 - failed);
});

it('re-authentication is reserved the same way', async () => {
  const email = await tenantWithUser();
  const ip = `192.0.2.77-${randomUUID().slice(0, 6)}`;
  const login = await passwordStep(db, {
    email,
    password: 'das richtige Passwort',
    ip,
    argon2: FAST_ARGON2,
  });
  expect(login.kind).toBe('ok');
  const session = { email, tenantId: '', userId: '' } as Parameters<typeof reauthenticate>[1];
  const tenant = await dba
    .selectFrom('users')
    .select(['tenant_id', 'id'])
    .where('email', '=', email)
    .executeTakeFirstOrThrow();
  Object.assign(session, { tenantId: tenant.tenant_id, userId: tenant.id });
  const outcomes = await Promise.all(
    Array.from({ length: 40 }, () =>
      reauthenticate(db, session, 's1.x.y', {
        password: 'falsch geraten!',
        ip,
        argon2: FAST_ARGON2,
      }),
    ),
  );
  expect(outcomes.filter((o) => o === 'failed').length).toBeLessThanOrEqual(LIMITS.accountIpFree);
  expect(outcomes.filter((o) => o === 'throttled').length).toBeGreaterThanOrEqual(30);
});

it('Argon2 runs are bounded per process: a full queue refuses at once', async () => {
  const gate = new Gate(2, 3);
  let running = 0;
  let peak = 0;
  const release: (() => void)[] = [];
  const job = () =>
    gate.run(async () => {
      peak = Math.max(peak, ++running);
      await new Promise<void>((r) => release.push(r));
      running--;
    });
  const jobs = Array.from({ length: 5 }, job);
  await expect(job()).rejects.toBeInstanceOf(BusyError);
  while (release.length || gate.load.running) {
    await new Promise((r) => setTimeout(r, 5));
    release.shift()?.();
  }
  await Promise.all(jobs);
  expect(peak).toBe(2);
  // The process's own gate is the one password derivation uses.
  expect(argon2Gate.load.running).toBe(0);
});
