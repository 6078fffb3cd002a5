import { CryptoError } from '../crypto/errors';
import type { Argon2Params } from '../crypto/password';
import type { Db } from '../db';
import { changePassword } from '../vault/passwords';
import { passwordProblem, type PasswordProblem } from './password-policy';
import { endUserSessionsTx, type SessionInfo } from './sessions';
import { underThrottle } from './throttle';

/**
 * A signed-in user changes their own password (issue 21 §1; TOMs: a password change only re-wraps
 * the key-encryption key). The page asks for a fresh second factor first (requireRecentAuth);
 * here the current password is checked under the login's brute-force limits — a stolen session
 * cookie must not become a password oracle — and the new one against the policy of setup. In one
 * transaction: the user's private key is wrapped under the new password (nothing else of the
 * archive changes), `password.changed` is audited, and every other session of the user ends, its
 * sealed keys destroyed; the session that changed it stays.
 */

export type PasswordChange =
  | { kind: 'ok'; sessionsEnded: number }
  | { kind: 'failed' }
  | { kind: 'invalid'; problem: PasswordProblem | 'mismatch' | 'unchanged' }
  | { kind: 'throttled'; retryAfterS: number };

export async function changeOwnPassword(
  db: Db,
  session: SessionInfo,
  input: { current: string; next: string; repeat: string; ip: string; argon2?: Argon2Params },
): Promise<PasswordChange> {
  if (input.next !== input.repeat) return { kind: 'invalid', problem: 'mismatch' };
  if (input.next === input.current) return { kind: 'invalid', problem: 'unchanged' };
  const problem = passwordProblem(input.next, session.email);
  if (problem) return { kind: 'invalid', problem };
  return underThrottle(
    db,
    { step: 'password', account: session.email, ip: input.ip },
    async (): Promise<PasswordChange> => {
      let sessionsEnded = 0;
      try {
        await changePassword(db, {
          tenantId: session.tenantId,
          email: session.email,
          currentPassword: input.current,
          newPassword: input.next,
          argon2: input.argon2,
          also: async (tx, userId) => {
            const actor = { type: 'user' as const, id: userId };
            sessionsEnded = await endUserSessionsTx(
              tx, session.tenantId, userId, actor, input.ip, session.idHash,
            ); // prettier-ignore
          },
        });
      } catch (e) {
        if (e instanceof CryptoError && e.failure === 'wrong-password') return { kind: 'failed' };
        throw e;
      }
      return { kind: 'ok', sessionsEnded };
    },
  );
}
