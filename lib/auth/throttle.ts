import { sql } from 'kysely';
import { metrics } from '../metrics/metrics';
import type { Db } from '../db';
import { tokenHash } from './tokens';

/**
 * Brute-force limits for the login and second-factor steps (TOMs §3, docs/authentication.md),
 * shared by every portal instance through PostgreSQL. Every limit is an exponential back-off
 * (1 s, 2 s, … 15 min) after some free attempts, never a lock — an attacker can slow guessing
 * down but cannot lock the owner out:
 *  - per account and source address: 10 free failures; a success from there resets it;
 *  - per account and source network (/24, /64): 30 free failures;
 *  - per source address: 100 failures a day over all accounts, then that address waits a day;
 *  - per account over all sources: past 100 failures within an hour, sources the account has
 *    never signed in from back off as well (the caller audits the attack notice); a network the
 *    account signed in from within 90 days keeps only its own limits.
 * Every attempt is reserved before it is checked (reserveAttempt). Keys are hashes: no e-mail and
 * no address is stored.
 */

export const LIMITS = {
  accountIpFree: 10,
  accountNetFree: 30,
  maxBackoffS: 15 * 60,
  ipPerDay: 100,
  accountPerHour: 100,
  knownSourceDays: 90,
} as const;

export type ThrottleStep = 'password' | 'second-factor';

interface Subject {
  step: ThrottleStep;
  /** The e-mail address (password step) or user id (second factor), as typed. */
  account: string;
  ip: string;
}

/** The /24 of an IPv4 address (also IPv4-mapped), the /64 of an IPv6 address. */
export function networkOf(ip: string): string {
  const v4 = /(\d+\.\d+\.\d+)\.\d+$/.exec(ip);
  if (v4) return `${v4[1]}.0/24`;
  const groups = ip.toLowerCase().split('::')[0]!.split(':');
  return `${groups.slice(0, 4).join(':')}::/64`;
}

const keys = (s: Subject) => {
  const account = s.account.trim().toLowerCase();
  const net = networkOf(s.ip);
  return {
    accountIp: tokenHash(`${s.step}|account-ip|${account}|${s.ip}`),
    accountNet: tokenHash(`${s.step}|account-net|${account}|${net}`),
    ip: tokenHash(`ip-day|${s.ip}`),
    account: tokenHash(`${s.step}|account|${account}`),
    known: tokenHash(`known|${account}|${net}`),
  };
};
type Keys = ReturnType<typeof keys>;

type ThrottleRow = {
  key_hash: Buffer;
  failures: number;
  window_start: Date;
  last_failure_at: Date;
};

type Tx = Parameters<Parameters<ReturnType<Db['transaction']>['execute']>[0]>[0];

const backoffUntil = (r: ThrottleRow, free: number) =>
  r.failures >= free
    ? r.last_failure_at.getTime() + Math.min(2 ** (r.failures - free), LIMITS.maxBackoffS) * 1000
    : 0;

function waitFrom(rows: ThrottleRow[], k: Keys, now: Date, knownSource: boolean): number {
  let until = 0;
  for (const r of rows) {
    if (r.key_hash.equals(k.accountIp))
      until = Math.max(until, backoffUntil(r, LIMITS.accountIpFree));
    else if (r.key_hash.equals(k.accountNet))
      until = Math.max(until, backoffUntil(r, LIMITS.accountNetFree));
    else if (r.key_hash.equals(k.account) && !knownSource)
      until = Math.max(until, backoffUntil(r, LIMITS.accountPerHour));
    else if (
      r.key_hash.equals(k.ip) &&
      r.failures >= LIMITS.ipPerDay &&
      r.window_start.getTime() + 86_400_000 > now.getTime()
    )
      until = Math.max(until, r.window_start.getTime() + 86_400_000);
  }
  return Math.max(0, Math.ceil((until - now.getTime()) / 1000));
}

async function isKnownSource(db: Db | Tx, k: Keys, now: Date): Promise<boolean> {
  const row = await db
    .selectFrom('auth_known_sources')
    .select('last_success_at')
    .where('key_hash', '=', k.known)
    .executeTakeFirst();
  return (
    !!row && now.getTime() - row.last_success_at.getTime() < LIMITS.knownSourceDays * 86_400_000
  );
}

const throttleKeys = (k: Keys) => [k.accountIp, k.accountNet, k.ip, k.account];

/** Seconds the caller must wait before trying, or 0 (a look only: nothing is reserved). */
export async function retryAfter(db: Db, s: Subject, now = new Date()): Promise<number> {
  const k = keys(s);
  const rows = await db
    .selectFrom('auth_throttle')
    .selectAll()
    .where('key_hash', 'in', throttleKeys(k))
    .execute();
  return waitFrom(rows, k, now, await isKnownSource(db, k, now));
}

const WINDOWS = { accountIp: 86_400, accountNet: 86_400, ip: 86_400, account: 3600 } as const;

async function bump(db: Db | Tx, key: Buffer, windowS: number, by: 1 | -1): Promise<number> {
  const r = await sql<{ failures: number }>`
    INSERT INTO auth_throttle (key_hash, failures, window_start, last_failure_at)
    VALUES (${key}, ${Math.max(by, 0)}, now(), now())
    ON CONFLICT (key_hash) DO UPDATE SET
      failures = CASE WHEN auth_throttle.window_start < now() - make_interval(secs => ${windowS})
                      THEN ${Math.max(by, 0)}
                      ELSE greatest(auth_throttle.failures + ${by}, 0) END,
      window_start = CASE WHEN auth_throttle.window_start < now() - make_interval(secs => ${windowS})
                          THEN now() ELSE auth_throttle.window_start END,
      last_failure_at = CASE WHEN ${by} > 0 THEN now() ELSE auth_throttle.last_failure_at END
    RETURNING failures`.execute(db);
  return r.rows[0]!.failures;
}

/** One attempt counted before it runs; the caller reports how it ended. */
export interface Reservation {
  /**
   * The attempt failed: it stays counted. `attackNotice` when this failure brought the account
   * to the hourly threshold (audit it, once).
   */
  failed(): Promise<{ attackNotice: boolean }>;
  /** The attempt succeeded: this source's back-off ends, it becomes known, nothing stays counted. */
  succeeded(): Promise<void>;
  /** The attempt never ran to a verdict (a fault): it is not counted. */
  released(): Promise<void>;
}

/**
 * Reserves one attempt atomically (issue 17 §3): the subject's rows are locked, the wait is
 * decided on them and the attempt is counted as a failure in the same transaction, before any
 * password is checked. Concurrent attempts therefore queue on the rows, and no more of them run
 * than the limits allow — a hundred parallel guesses are not a hundred checked guesses.
 */
export async function reserveAttempt(
  db: Db,
  s: Subject,
): Promise<{ retryAfterS: number } | { retryAfterS: 0; reservation: Reservation }> {
  const k = keys(s);
  const decided = await db.transaction().execute(async (tx) => {
    await sql`INSERT INTO auth_throttle (key_hash, failures, window_start, last_failure_at)
      VALUES (${k.accountIp}, 0, now(), now()), (${k.accountNet}, 0, now(), now()),
             (${k.ip}, 0, now(), now()), (${k.account}, 0, now(), now())
      ON CONFLICT (key_hash) DO NOTHING`.execute(tx);
    const rows = await tx
      .selectFrom('auth_throttle')
      .selectAll()
      .where('key_hash', 'in', throttleKeys(k))
      .orderBy('key_hash')
      .forUpdate()
      .execute();
    const now = new Date();
    const wait = waitFrom(rows, k, now, await isKnownSource(tx, k, now));
    if (wait > 0) return { wait, accountFailures: 0 };
    await bump(tx, k.accountIp, WINDOWS.accountIp, 1);
    await bump(tx, k.accountNet, WINDOWS.accountNet, 1);
    await bump(tx, k.ip, WINDOWS.ip, 1);
    return { wait: 0, accountFailures: await bump(tx, k.account, WINDOWS.account, 1) };
  });
  if (decided.wait > 0) {
    metrics.rateLimited.inc({ limit: s.step });
    return { retryAfterS: decided.wait };
  }
  const undo = async (success: boolean) => {
    if (success) {
      await db
        .deleteFrom('auth_throttle')
        .where('key_hash', 'in', [k.accountIp, k.accountNet])
        .execute();
      await db
        .insertInto('auth_known_sources')
        .values({ key_hash: k.known, last_success_at: new Date() })
        .onConflict((oc) => oc.column('key_hash').doUpdateSet({ last_success_at: new Date() }))
        .execute();
    } else {
      await bump(db, k.accountIp, WINDOWS.accountIp, -1);
      await bump(db, k.accountNet, WINDOWS.accountNet, -1);
    }
    await bump(db, k.ip, WINDOWS.ip, -1);
    await bump(db, k.account, WINDOWS.account, -1);
  };
  return {
    retryAfterS: 0,
    reservation: {
      async failed() {
        metrics.loginFailures.inc({ step: s.step });
        return { attackNotice: decided.accountFailures === LIMITS.accountPerHour };
      },
      succeeded: () => undo(true),
      released: () => undo(false),
    },
  };
}

/** Runs a reserved attempt; a fault releases the reservation instead of counting it. */
export async function settle<T>(reservation: Reservation, attempt: () => Promise<T>): Promise<T> {
  try {
    return await attempt();
  } catch (e) {
    await reservation.released();
    throw e;
  }
}

/**
 * One attempt of a throttled step: refused while the subject must wait; a `failed` outcome
 * stays counted, an `ok` one ends the back-off, a fault is not counted.
 */
export async function underThrottle<T extends { kind: string }>(
  db: Db,
  s: Subject,
  attempt: () => Promise<T>,
): Promise<T | { kind: 'throttled'; retryAfterS: number }> {
  const r = await reserveAttempt(db, s);
  if (!('reservation' in r)) return { kind: 'throttled', retryAfterS: r.retryAfterS };
  const result = await settle(r.reservation, attempt);
  if (result.kind === 'failed') await r.reservation.failed();
  else if (result.kind === 'ok') await r.reservation.succeeded();
  else await r.reservation.released();
  return result;
}
