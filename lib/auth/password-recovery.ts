import { sql } from 'kysely';
import { recordAudit } from '../audit/record';
import { CryptoError } from '../crypto/errors';
import type { Argon2Params } from '../crypto/password';
import type { Db } from '../db';
import { withTenant } from '../db/tenant-scope';
import { lock } from '../vault';
import { replacePassword, openWithRecoveryKey } from '../vault/passwords';
import { unlockedWith, userByEmail } from '../vault/unlock';
import { FAILED_LOGIN_FLOOR_MS, type RequestMeta } from './login';
import { passwordProblem, type PasswordProblem } from './password-policy';
import { createSession, endUserSessionsTx, unlockedKeys, type SessionInfo } from './sessions';
import { LIMITS, reserveAttempt, settle } from './throttle';

/**
 * An owner's forgotten password (issue 21 §2). Step one — e-mail and the tenant's recovery key —
 * opens the owner's private key from its copy sealed to the recovery key and starts a session
 * that has passed no factor yet and is marked `must_set_password`. The ordinary second-factor
 * step follows (code, passkey or recovery code), then the new password, which only re-wraps the
 * owner's private key; until it is set, the session reaches nothing else.
 *
 * Guesses of the recovery key count against the same limits as passwords (one subject: an
 * attacker cannot alternate between the two), fail in one answer whether or not the address
 * exists, no sooner than a failed login, and are audited in every tenant that knows the address.
 * Only owners recover this way: admins, auditors and members get a reset link from an owner or
 * admin (docs/permissions.md).
 */

export type RecoveryStepResult =
  { kind: 'throttled'; retryAfterS: number } | { kind: 'failed' } | { kind: 'ok'; cookie: string };

export async function recoveryKeyStep(
  db: Db,
  input: { email: string; recoveryKey: string } & RequestMeta,
): Promise<RecoveryStepResult> {
  const started = performance.now();
  const email = input.email.trim();
  const r = await reserveAttempt(db, { step: 'password', account: email, ip: input.ip });
  if (!('reservation' in r)) return { kind: 'throttled', retryAfterS: r.retryAfterS };
  const reservation = r.reservation;
  return settle(reservation, async () => {
    const tenants = await sql<{ t: string }>`SELECT login_tenants(${email}) AS t`.execute(db);
    for (const { t: tenantId } of tenants.rows) {
      const opened = await withTenant(db, tenantId, async (tx) => {
        const user = await userByEmail(tx, tenantId, email);
        if (user?.role !== 'owner') return undefined;
        let userPrivateKey: Buffer;
        try {
          userPrivateKey = await openWithRecoveryKey(tx, tenantId, user.id, input.recoveryKey);
        } catch (e) {
          if (e instanceof CryptoError) return undefined;
          throw e;
        }
        const unlocked = await unlockedWith(tx, tenantId, user, userPrivateKey);
        try {
          await recordAudit(tx, tenantId, {
            action: 'auth.recovery_key.used',
            actor: { type: 'user', id: user.id },
            ip: input.ip,
          });
          const cookie = await createSession(tx, {
            unlocked,
            ...input,
            secondFactor: false,
            mustSetPassword: true,
          });
          return cookie;
        } finally {
          lock(unlocked);
        }
      });
      if (!opened) continue;
      await reservation.succeeded();
      return { kind: 'ok', cookie: opened } as const;
    }

    const { attackNotice } = await reservation.failed();
    for (const { t: tenantId } of tenants.rows)
      await withTenant(db, tenantId, async (tx) => {
        const details = { email: email.toLowerCase() };
        await recordAudit(tx, tenantId, {
          action: 'auth.recovery_key.failed',
          actor: { type: 'system', label: 'login' },
          ip: input.ip,
          details,
        });
        if (attackNotice)
          await recordAudit(tx, tenantId, {
            action: 'auth.login.attack_suspected',
            actor: { type: 'system', label: 'login' },
            ip: input.ip,
            details: { ...details, failuresLastHour: LIMITS.accountPerHour },
          });
      });
    const rest = FAILED_LOGIN_FLOOR_MS - (performance.now() - started);
    if (rest > 0) await new Promise((resolve) => setTimeout(resolve, rest));
    return { kind: 'failed' } as const;
  });
}

export type RecoveredPassword =
  | { kind: 'ok'; sessionsEnded: number }
  | { kind: 'invalid'; problem: PasswordProblem | 'mismatch' };

/**
 * The last step of a recovery: the new password wraps the owner's private key (nothing else of
 * the archive changes), `key.recovered` is audited, every other session of the owner ends, and
 * this session becomes an ordinary one.
 */
export async function setRecoveredPassword(
  db: Db,
  session: SessionInfo,
  cookie: string,
  input: { next: string; repeat: string; ip: string; argon2?: Argon2Params },
): Promise<RecoveredPassword> {
  if (!session.mustSetPassword || !session.secondFactor)
    throw new Error('not a recovery session past its second factor');
  if (input.next !== input.repeat) return { kind: 'invalid', problem: 'mismatch' };
  const problem = passwordProblem(input.next, session.email);
  if (problem) return { kind: 'invalid', problem };
  return withTenant(db, session.tenantId, async (tx) => {
    const unlocked = await unlockedKeys(tx, session, cookie);
    try {
      const user = { id: session.userId, email: session.email };
      await replacePassword(tx, session.tenantId, user, Buffer.from(unlocked.userPrivateKey), {
        password: input.next,
        argon2: input.argon2,
        event: {
          action: 'key.recovered',
          details: { method: 'recovery-key', passwordReset: true },
        },
      });
    } finally {
      lock(unlocked);
    }
    const actor = { type: 'user' as const, id: session.userId };
    const sessionsEnded = await endUserSessionsTx(
      tx, session.tenantId, session.userId, actor, input.ip, session.idHash,
    ); // prettier-ignore
    await tx
      .updateTable('sessions')
      .set({ must_set_password: false })
      .where('id_hash', '=', session.idHash)
      .execute();
    return { kind: 'ok', sessionsEnded } as const;
  });
}
