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

/** Seconds the caller must wait before trying, or 0. */
export async function retryAfter(db: Db, s: Subject, now = new Date()): Promise<number> {
  const k = keys(s);
  const rows = await db
    .selectFrom('auth_throttle')
    .selectAll()
    .where('key_hash', 'in', [k.accountIp, k.ip, k.account])
    .execute();
  let until = 0;
  for (const r of rows) {
    if (r.key_hash.equals(k.accountIp) && r.failures >= LIMITS.accountIpFree) {
      const backoff = Math.min(
        2 ** (r.failures - LIMITS.accountIpFree),
        LIMITS.accountIpMaxBackoffS,
      );
      until = Math.max(until, r.last_failure_at.getTime() + backoff * 1000);
    } else if (r.key_hash.equals(k.ip) && r.failures >= LIMITS.ipPerDay) {
      until = Math.max(until, r.window_start.getTime() + 86_400_000);
    }
    if (r.locked_until) until = Math.max(until, r.locked_until.getTime());
  }
  return Math.max(0, Math.ceil((until - now.getTime()) / 1000));
}

async function bump(db: Db, key: Buffer, windowS: number): Promise<number> {
  const r = await sql<{ failures: number }>`
    INSERT INTO auth_throttle (key_hash, failures, window_start, last_failure_at)
    VALUES (${key}, 1, now(), now())
    ON CONFLICT (key_hash) DO UPDATE SET
      failures = CASE WHEN auth_throttle.window_start < now() - make_interval(secs => ${windowS})
                      THEN 1 ELSE auth_throttle.failures + 1 END,
      window_start = CASE WHEN auth_throttle.window_start < now() - make_interval(secs => ${windowS})
                          THEN now() ELSE auth_throttle.window_start END,
      last_failure_at = now()
    RETURNING failures`.execute(db);
  return r.rows[0]!.failures;
}

/** Counts a failure; `accountLocked` is true exactly when this failure locked the account. */
export async function recordFailure(db: Db, s: Subject): Promise<{ accountLocked: boolean }> {
  const k = keys(s);
  await bump(db, k.accountIp, 86_400);
  await bump(db, k.ip, 86_400);
  const n = await bump(db, k.account, 3600);
  if (n !== LIMITS.accountPerHour) return { accountLocked: false };
  await db
    .updateTable('auth_throttle')
    .set({ locked_until: sql<Date>`now() + make_interval(secs => ${LIMITS.accountLockS})` })
    .where('key_hash', '=', k.account)
    .execute();
  return { accountLocked: true };
}

/** A success ends the back-off of this account from this IP (not the IP's or account's totals). */
export async function recordSuccess(db: Db, s: Subject): Promise<void> {
  await db.deleteFrom('auth_throttle').where('key_hash', '=', keys(s).accountIp).execute();
}

/**
 * One attempt of a throttled step: refused while the subject must wait; a `failed` outcome
 * counts, an `ok` one ends the back-off.
 */
export async function underThrottle<T extends { kind: string }>(
  db: Db,
  s: Subject,
  attempt: () => Promise<T>,
): Promise<T | { kind: 'throttled'; retryAfterS: number }> {
  const wait = await retryAfter(db, s);
  if (wait > 0) {
    metrics.rateLimited.inc({ limit: s.step });
    return { kind: 'throttled', retryAfterS: wait };
  }
  const result = await attempt();
  if (result.kind === 'failed') {
    metrics.loginFailures.inc({ step: s.step });
    await recordFailure(db, s);
  } else if (result.kind === 'ok') await recordSuccess(db, s);
  return result;
}
