import { sql } from 'kysely';
import { recordAudit } from '../audit/record';
import { CryptoError } from '../crypto/errors';
import type { Argon2Params } from '../crypto/password';
import { openSealed, sealTo } from '../crypto/sealed-box';
import type { Db } from '../db';
import { withTenant, type TenantTx } from '../db/tenant-scope';
import { lock, unlock } from '../vault';
import { bind } from '../crypto/bindings';
import type { UnlockedSession } from '../vault/session';
import { newRecoveryCodes, recoveryCodeHash } from './recovery-codes';
import { createSession, endSessionTx, unlockedKeys, type SessionInfo } from './sessions';
import { LIMITS, reserveAttempt, settle, underThrottle, type Reservation } from './throttle';
import { verifyTotp } from './totp';
import { ssoRequired } from './sso-tickets';

/**
 * The two login steps and second-factor enrolment. Step one (e-mail + password) unlocks the keys
 * and opens a session that may do nothing but step two (or enrol a second factor); step two
 * replaces it with a fresh session id that has both factors. Wrong e-mail and wrong password fail
 * alike, in the same Argon2 time. Every outcome is audited in the transaction that records it.
 */

export interface RequestMeta {
  ip: string;
  userAgent?: string;
}

export type PasswordStepResult =
  | { kind: 'throttled'; retryAfterS: number }
  | { kind: 'failed' }
  /** The password was right, but the tenant insists on its OpenID provider first. */
  | { kind: 'sso-required' }
  | { kind: 'ok'; cookie: string; next: 'second-factor' | 'enrol' };

const NO_TENANT = '00000000-0000-0000-0000-000000000000';

/**
 * A failed password step answers no sooner than this after it began. Unknown and known addresses
 * already cost one Argon2 run each; the floor also hides what differs after it (the audit write
 * for a known address, database jitter), so timing does not tell whether an account exists.
 */
export const FAILED_LOGIN_FLOOR_MS = 800;

export async function passwordStep(
  db: Db,
  input: { email: string; password: string; argon2?: Argon2Params } & RequestMeta,
): Promise<PasswordStepResult> {
  const started = performance.now();
  const subject = { step: 'password' as const, account: input.email, ip: input.ip };
  const r = await reserveAttempt(db, subject);
  if (!('reservation' in r)) return { kind: 'throttled', retryAfterS: r.retryAfterS };
  return settle(r.reservation, () => checkPassword(db, input, r.reservation, started));
}

async function checkPassword(
  db: Db,
  input: { email: string; password: string; argon2?: Argon2Params } & RequestMeta,
  reservation: Reservation,
  started: number,
): Promise<PasswordStepResult> {
  const tenants = await sql<{
    t: string;
  }>`SELECT login_tenants(${input.email.trim()}) AS t`.execute(db);
  // Unknown addresses still cost one Argon2 run (unlock's dummy derivation).
  const candidates = tenants.rows.length ? tenants.rows.map((r) => r.t) : [NO_TENANT];
  for (const tenantId of candidates) {
    let unlocked: UnlockedSession;
    try {
      unlocked = await unlock(db, {
        tenantId,
        email: input.email,
        password: input.password,
        argon2: input.argon2,
      });
    } catch (e) {
      if (e instanceof CryptoError) continue;
      throw e;
    }
    try {
      await reservation.succeeded();
      return await withTenant(db, tenantId, async (tx) => {
        if (await ssoRequired(tx, tenantId)) {
          await recordAudit(tx, tenantId, {
            action: 'auth.login.failed',
            actor: { type: 'user', id: unlocked.userId },
            ip: input.ip,
            details: { email: input.email.trim().toLowerCase(), reason: 'sso-required' },
          });
          return { kind: 'sso-required' } as const;
        }
        const user = await tx
          .selectFrom('users')
          .select('totp_enrolled_at')
          .where('id', '=', unlocked.userId)
          .executeTakeFirstOrThrow();
        await recordAudit(tx, tenantId, {
          action: 'auth.login.succeeded',
          actor: { type: 'user', id: unlocked.userId },
          ip: input.ip,
        });
        const cookie = await createSession(tx, { unlocked, ...input, secondFactor: false });
        return { kind: 'ok', cookie, next: user.totp_enrolled_at ? 'second-factor' : 'enrol' };
      });
    } finally {
      lock(unlocked);
    }
  }

  const { attackNotice } = await reservation.failed();
  for (const tenantId of tenants.rows.map((r) => r.t))
    await withTenant(db, tenantId, async (tx) => {
      await recordAudit(tx, tenantId, {
        action: 'auth.login.failed',
        actor: { type: 'system', label: 'login' },
        ip: input.ip,
        details: { email: input.email.trim().toLowerCase() },
      });
      if (attackNotice)
        await recordAudit(tx, tenantId, {
          action: 'auth.login.attack_suspected',
          actor: { type: 'system', label: 'login' },
          ip: input.ip,
          details: {
            email: input.email.trim().toLowerCase(),
            failuresLastHour: LIMITS.accountPerHour,
          },
        });
    });
  const rest = FAILED_LOGIN_FLOOR_MS - (performance.now() - started);
  if (rest > 0) await new Promise((r) => setTimeout(r, rest));
  return { kind: 'failed' };
}

export type SecondFactorResult =
  { kind: 'throttled'; retryAfterS: number } | { kind: 'failed' } | { kind: 'ok'; cookie: string };

/** Replaces the half-finished session by one with both factors (a new id: no session fixation). */
export async function upgradeSession(
  tx: TenantTx,
  session: SessionInfo,
  unlocked: UnlockedSession,
  meta: RequestMeta,
): Promise<string> {
  await endSessionTx(tx, session.tenantId, session.idHash, 'replaced', { type: 'system' });
  const cookie = await createSession(tx, {
    unlocked,
    ...meta,
    secondFactor: true,
    mustSetPassword: session.mustSetPassword,
  });
  await recordAudit(tx, session.tenantId, {
    action: 'session.created',
    actor: { type: 'user', id: session.userId },
    ip: meta.ip,
  });
  return cookie;
}

/**
 * Spends a TOTP code of the signed-in user: true when it is valid and newer than the last one used.
 * The conditional update makes each code usable once, even for two requests racing with it.
 */
async function consumeTotpCode(
  tx: TenantTx,
  session: SessionInfo,
  unlocked: UnlockedSession,
  code: string,
): Promise<boolean> {
  if (!/^\s*\d{3}\s*\d{3}\s*$/.test(code)) return false;
  const user = await tx
    .selectFrom('users')
    .select(['totp_sealed_secret', 'totp_last_step'])
    .where('id', '=', session.userId)
    .executeTakeFirstOrThrow();
  if (!user.totp_sealed_secret) return false;
  const secret = openSealed(
    unlocked.userPrivateKey,
    bind.totpSecret(session.tenantId, session.userId),
    user.totp_sealed_secret,
  ).toString('utf8');
  const step = verifyTotp(secret, code, user.totp_last_step);
  if (step === undefined) return false;
  return !!(await tx
    .updateTable('users')
    .set({ totp_last_step: step })
    .where('id', '=', session.userId)
    .where((eb) => eb.or([eb('totp_last_step', 'is', null), eb('totp_last_step', '<', step)]))
    .returning('id')
    .executeTakeFirst());
}

/** Step two: a TOTP code (each usable once) or one of the single-use recovery codes. */
export async function secondFactorStep(
  db: Db,
  session: SessionInfo,
  cookie: string,
  input: { code: string } & RequestMeta,
): Promise<SecondFactorResult> {
  const subject = { step: 'second-factor' as const, account: session.userId, ip: input.ip };
  return underThrottle(db, subject, () =>
    withTenant(db, session.tenantId, async (tx) => {
      const unlocked = await unlockedKeys(tx, session, cookie);
      try {
        let method: 'totp' | 'recovery-code' | undefined;
        if (await consumeTotpCode(tx, session, unlocked, input.code)) {
          method = 'totp';
        } else if (
          await tx
            .updateTable('recovery_codes')
            .set({ used_at: new Date() })
            .where('user_id', '=', session.userId)
            .where('code_hash', '=', recoveryCodeHash(input.code))
            .where('used_at', 'is', null)
            .returning('user_id')
            .executeTakeFirst()
        ) {
          method = 'recovery-code';
          await recordAudit(tx, session.tenantId, {
            action: 'auth.recovery_code.used',
            actor: { type: 'user', id: session.userId },
            ip: input.ip,
          });
        }
        if (!method) {
          await recordAudit(tx, session.tenantId, {
            action: 'auth.second_factor.failed',
            actor: { type: 'user', id: session.userId },
            ip: input.ip,
          });
          return { kind: 'failed' } as const;
        }
        await recordAudit(tx, session.tenantId, {
          action: 'auth.second_factor.succeeded',
          actor: { type: 'user', id: session.userId },
          ip: input.ip,
          details: { method },
        });
        return { kind: 'ok', cookie: await upgradeSession(tx, session, unlocked, input) } as const;
      } finally {
        lock(unlocked);
      }
    }),
  );
}

/** A confirmed TOTP secret as stored: sealed to the user's key, its first step already spent. */
const totpColumns = (session: SessionInfo, publicKey: Buffer, secret: string, step: number) => ({
  totp_sealed_secret: sealTo(
    publicKey,
    bind.totpSecret(session.tenantId, session.userId),
    Buffer.from(secret, 'utf8'),
  ),
  totp_last_step: step,
  totp_enrolled_at: new Date(),
});

/**
 * First second factor of a user (after an invitation, or after an admin reset): the TOTP secret
 * the page showed, confirmed by a code from the app. Returns the recovery codes to show once and
 * the upgraded session.
 */
export async function enrolTotp(
  db: Db,
  session: SessionInfo,
  cookie: string,
  input: { secret: string; code: string } & RequestMeta,
): Promise<{ kind: 'failed' } | { kind: 'ok'; cookie: string; recoveryCodes: string[] }> {
  if (session.enrolled) return { kind: 'failed' };
  const step = verifyTotp(input.secret, input.code, null);
  if (step === undefined) return { kind: 'failed' };
  return withTenant(db, session.tenantId, async (tx) => {
    const unlocked = await unlockedKeys(tx, session, cookie);
    try {
      const user = await tx
        .selectFrom('users')
        .select('public_key')
        .where('id', '=', session.userId)
        .executeTakeFirstOrThrow();
      const updated = await tx
        .updateTable('users')
        .set(totpColumns(session, user.public_key, input.secret, step))
        .where('id', '=', session.userId)
        .where('totp_enrolled_at', 'is', null)
        .returning('id')
        .executeTakeFirst();
      if (!updated) return { kind: 'failed' } as const;
      await recordAudit(tx, session.tenantId, {
        action: 'auth.totp.added',
        actor: { type: 'user', id: session.userId },
        ip: input.ip,
      });
      return { kind: 'ok', ...(await finishEnrolment(tx, session, unlocked, input)) } as const;
    } finally {
      lock(unlocked);
    }
  });
}

/**
 * The end of a user's first second-factor enrolment (TOTP or passkey): ten fresh recovery codes
 * (stored hashed, shown once) and the session upgraded to a new id with both factors.
 */
export async function finishEnrolment(
  tx: TenantTx,
  session: SessionInfo,
  unlocked: UnlockedSession,
  meta: RequestMeta,
): Promise<{ cookie: string; recoveryCodes: string[] }> {
  const recoveryCodes = newRecoveryCodes();
  await tx.deleteFrom('recovery_codes').where('user_id', '=', session.userId).execute();
  await tx
    .insertInto('recovery_codes')
    .values(
      recoveryCodes.map((c) => ({
        tenant_id: session.tenantId,
        user_id: session.userId,
        code_hash: recoveryCodeHash(c),
      })),
    )
    .execute();
  return { recoveryCodes, cookie: await upgradeSession(tx, session, unlocked, meta) };
}

/** Logout: ends the session and destroys its wrapped keys. */
export async function logout(db: Db, session: SessionInfo, ip: string): Promise<void> {
  await withTenant(db, session.tenantId, (tx) =>
    endSessionTx(
      tx,
      session.tenantId,
      session.idHash,
      'logout',
      { type: 'user', id: session.userId },
      ip,
    ),
  );
}

/**
 * Re-authentication before sensitive actions (2FA changes, key operations, exports, role
 * changes): the password again, throttled like a login; marks the session fresh for 10 minutes.
 */
export async function reauthenticate(
  db: Db,
  session: SessionInfo,
  cookie: string,
  input: { password: string; argon2?: Argon2Params } & RequestMeta,
): Promise<'throttled' | 'failed' | { cookie: string }> {
  const subject = { step: 'password' as const, account: session.email, ip: input.ip };
  const r = await reserveAttempt(db, subject);
  if (!('reservation' in r)) return 'throttled';
  try {
    const unlocked = await unlock(db, {
      tenantId: session.tenantId,
      email: session.email,
      password: input.password,
      argon2: input.argon2,
    });
    lock(unlocked);
  } catch (e) {
    if (!(e instanceof CryptoError)) {
      await r.reservation.released();
      throw e;
    }
    await r.reservation.failed();
    await withTenant(db, session.tenantId, (tx) =>
      recordAudit(tx, session.tenantId, {
        action: 'auth.login.failed',
        actor: { type: 'user', id: session.userId },
        ip: input.ip,
        details: { email: session.email, reauthentication: true },
      }),
    );
    return 'failed';
  }
  await r.reservation.succeeded();
  return {
    cookie: await withTenant(db, session.tenantId, (tx) =>
      rotateSession(tx, session, cookie, input),
    ),
  };
}

/**
 * Re-authentication with a code from the authenticator app instead of the password: a fresh
 * TOTP code (spent like at login) proves the second factor again within the last minutes.
 */
export async function reauthenticateWithCode(
  db: Db,
  session: SessionInfo,
  cookie: string,
  input: { code: string } & RequestMeta,
): Promise<'throttled' | 'failed' | { cookie: string }> {
  const subject = { step: 'second-factor' as const, account: session.userId, ip: input.ip };
  const r = await reserveAttempt(db, subject);
  if (!('reservation' in r)) return 'throttled';
  const ok = await settle(r.reservation, () =>
    withTenant(db, session.tenantId, async (tx) => {
      const unlocked = await unlockedKeys(tx, session, cookie);
      try {
        if (!(await consumeTotpCode(tx, session, unlocked, input.code))) {
          await recordAudit(tx, session.tenantId, {
            action: 'auth.second_factor.failed',
            actor: { type: 'user', id: session.userId },
            ip: input.ip,
            details: { reauthentication: true },
          });
          return undefined;
        }
        return await rotateSession(tx, session, cookie, input);
      } finally {
        lock(unlocked);
      }
    }),
  );
  if (!ok) {
    await r.reservation.failed();
    return 'failed';
  }
  await r.reservation.succeeded();
  return { cookie: ok };
}

/**
 * A confirmed re-authentication replaces the session by a fresh one (issue 17 §4): new id, new
 * cookie key, the same keys, marked fresh — a session id seen before the confirmation is worth
 * nothing after it.
 */
async function rotateSession(
  tx: TenantTx,
  session: SessionInfo,
  cookie: string,
  meta: RequestMeta,
): Promise<string> {
  const unlocked = await unlockedKeys(tx, session, cookie);
  try {
    await endSessionTx(tx, session.tenantId, session.idHash, 'replaced', { type: 'system' });
    return await createSession(tx, {
      unlocked,
      ...meta,
      secondFactor: true,
      mustSetPassword: session.mustSetPassword,
    });
  } finally {
    lock(unlocked);
  }
}

/**
 * A new authenticator app replaces the old one (lost or new phone): the new secret is confirmed by
 * a code from the new app; the old secret stops working at once. Needs a fresh password (route).
 */
export async function replaceTotp(
  db: Db,
  session: SessionInfo,
  input: { secret: string; code: string } & RequestMeta,
): Promise<boolean> {
  if (!session.secondFactor) return false;
  const step = verifyTotp(input.secret, input.code, null);
  if (step === undefined) return false;
  return withTenant(db, session.tenantId, async (tx) => {
    const user = await tx
      .selectFrom('users')
      .select(['public_key', 'totp_enrolled_at'])
      .where('id', '=', session.userId)
      .forUpdate()
      .executeTakeFirstOrThrow();
    await tx
      .updateTable('users')
      .set(totpColumns(session, user.public_key, input.secret, step))
      .where('id', '=', session.userId)
      .execute();
    const actor = { type: 'user' as const, id: session.userId };
    if (user.totp_enrolled_at)
      await recordAudit(tx, session.tenantId, { action: 'auth.totp.removed', actor, ip: input.ip });
    await recordAudit(tx, session.tenantId, { action: 'auth.totp.added', actor, ip: input.ip });
    return true;
  });
}
