import { sql } from 'kysely';
import { metrics } from '../metrics/metrics';
import type { Db } from '../db';
import { tokenHash } from './tokens';

/**
 * Brute-force limits for the login and second-factor steps (TOMs §3), shared by every portal
 * instance through PostgreSQL:
 *  - per account and IP: 10 consecutive failures, then an exponential back-off (1 s, 2 s, … 15 min);
 *    a success from that IP resets it;
 *  - per IP: 100 failures a day over all accounts;
 *  - per account: 100 failures an hour from any IPs → locked for an hour (the caller audits it).
 * One IP alone cannot reach the account lock (its own back-off stops it first), so an attacker
 * cannot lock the real user out from another address. Keys are hashes: no e-mail, no IP stored.
 */

export const LIMITS = {
  accountIpFree: 10,
  accountIpMaxBackoffS: 15 * 60,
  ipPerDay: 100,
  accountPerHour: 100,
  accountLockS: 60 * 60,
} as const;

export type ThrottleStep = 'password' | 'second-factor';

interface Subject {
  step: ThrottleStep;
  /** The e-mail address (password step) or user id (second factor), as typed. */
  account: string;
  ip: string;
}

const keys = (s: Subject) => {
  const account = s.account.trim().toLowerCase();
  return {
    accountIp: tokenHash(`${s.step}|account-ip|${account}|${s.ip}`),
    ip: tokenHash(`ip-day|${s.ip}`),
    account: tokenHash(`${s.step}|account|${account}`),
  };
};

type ThrottleRow = {
  key_hash: Buffer;
  failures: number;
  window_start: Date;
  last_failure_at: Date;
  locked_until: Date | null;
};

function waitFrom(rows: ThrottleRow[], k: ReturnType<typeof keys>, now: Date): number {
  let until = 0;
  for (const r of rows) {
    if (r.key_hash.equals(k.accountIp) && r.failures >= LIMITS.accountIpFree) {
      const backoff = Math.min(
        2 ** (r.failures - LIMITS.accountIpFree),
        LIMITS.accountIpMaxBackoffS,
      );
      until = Math.max(until, r.last_failure_at.getTime() + backoff * 1000);
    } else if (
      r.key_hash.equals(k.ip) &&
      r.failures >= LIMITS.ipPerDay &&
      r.window_start.getTime() + 86_400_000 > now.getTime()
    ) {
      until = Math.max(until, r.window_start.getTime() + 86_400_000);
    }
    if (r.locked_until) until = Math.max(until, r.locked_until.getTime());
  }
  return Math.max(0, Math.ceil((until - now.getTime()) / 1000));
}

/** Seconds the caller must wait before trying, or 0 (a look only: nothing is reserved). */
export async function retryAfter(db: Db, s: Subject, now = new Date()): Promise<number> {
  const k = keys(s);
  const rows = await db
    .selectFrom('auth_throttle')
    .selectAll()
    .where('key_hash', 'in', [k.accountIp, k.ip, k.account])
    .execute();
  return waitFrom(rows, k, now);
}

const WINDOWS = { accountIp: 86_400, ip: 86_400, account: 3600 } as const;

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

type Tx = Parameters<Parameters<ReturnType<Db['transaction']>['execute']>[0]>[0];

/** One attempt counted before it runs; the caller reports how it ended. */
export interface Reservation {
  /** The attempt failed: it stays counted. `accountLocked` when this failure locked the account. */
  failed(): Promise<{ accountLocked: boolean }>;
  /** The attempt succeeded: the back-off of this account from this IP ends, nothing stays counted. */
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
      VALUES (${k.accountIp}, 0, now(), now()), (${k.ip}, 0, now(), now()),
             (${k.account}, 0, now(), now())
      ON CONFLICT (key_hash) DO NOTHING`.execute(tx);
    const rows = await tx
      .selectFrom('auth_throttle')
      .selectAll()
      .where('key_hash', 'in', [k.accountIp, k.ip, k.account])
      .orderBy('key_hash')
      .forUpdate()
      .execute();
    const wait = waitFrom(rows, k, new Date());
    if (wait > 0) return { wait, accountFailures: 0 };
    await bump(tx, k.accountIp, WINDOWS.accountIp, 1);
    await bump(tx, k.ip, WINDOWS.ip, 1);
    return { wait: 0, accountFailures: await bump(tx, k.account, WINDOWS.account, 1) };
  });
  if (decided.wait > 0) {
    metrics.rateLimited.inc({ limit: s.step });
    return { retryAfterS: decided.wait };
  }
  const undo = async (accountIp: 'delete' | 'decrement') => {
    if (accountIp === 'delete')
      await db.deleteFrom('auth_throttle').where('key_hash', '=', k.accountIp).execute();
    else await bump(db, k.accountIp, WINDOWS.accountIp, -1);
    await bump(db, k.ip, WINDOWS.ip, -1);
    await bump(db, k.account, WINDOWS.account, -1);
  };
  return {
    retryAfterS: 0,
    reservation: {
      async failed() {
        metrics.loginFailures.inc({ step: s.step });
        if (decided.accountFailures !== LIMITS.accountPerHour) return { accountLocked: false };
        await db
          .updateTable('auth_throttle')
          .set({ locked_until: sql<Date>`now() + make_interval(secs => ${LIMITS.accountLockS})` })
          .where('key_hash', '=', k.account)
          .execute();
        return { accountLocked: true };
      },
      succeeded: () => undo('delete'),
      released: () => undo('decrement'),
    },
  };
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
  let result: T;
  try {
    result = await attempt();
  } catch (e) {
    await r.reservation.released();
    throw e;
  }
  if (result.kind === 'failed') await r.reservation.failed();
  else if (result.kind === 'ok') await r.reservation.succeeded();
  else await r.reservation.released();
  return result;
}
