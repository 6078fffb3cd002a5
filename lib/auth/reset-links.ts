import { randomUUID } from 'node:crypto';
import { recordAudit } from '../audit/record';
import { bind } from '../crypto/bindings';
import { zeroize } from '../crypto/bytes';
import { sealTo } from '../crypto/sealed-box';
import type { Db } from '../db';
import { withTenant } from '../db/tenant-scope';
import { lock } from '../vault';
import { newUserKeys } from '../vault/users';
import {
  findInvite,
  inviteKeyPair,
  InviteError,
  openInviteGrant,
  newUserSession,
  type AcceptInput,
} from './invites';
import { actorOf, RoleError, withManagedUser } from './roles';
import { endUserSessionsTx, unlockedKeys, type SessionInfo } from './sessions';
import { newToken, tokenHash } from './tokens';

/**
 * Reset links (issue 21 §3): a user who forgot the password or lost the second factor gets a
 * one-time link from an owner or admin (fresh re-authentication; owners reset anyone but
 * themselves, admins never an owner — docs/permissions.md). Like an invitation, the issuer's
 * unlocked session seals the tenant key to the link's token; the user's sessions end at once (a
 * lost phone). Opening the link, the user chooses a new password and gets a **new key pair**:
 * the old private key is out of reach (its password is forgotten), so everything sealed to the
 * old public key is destroyed — the password wrapping, the copy for the recovery key, the tenant
 * key grant, the TOTP secret, the recovery codes, the passkeys' unlock wrappings and, when the
 * issuer chose so, the passkeys themselves — and
 * the tenant key from the link is granted to the new key. A second factor is enrolled again
 * (unless kept passkeys serve). Both sides are audited.
 */

export const RESET_HOURS = 24;

export async function issueResetLink(
  db: Db,
  session: SessionInfo,
  cookie: string,
  input: { userId: string; removePasskeys: boolean; ip: string },
): Promise<{ token: string; expiresAt: Date; email: string }> {
  const token = newToken();
  const id = randomUUID();
  const expiresAt = new Date(Date.now() + RESET_HOURS * 3_600_000);
  return withManagedUser(db, session, input.userId, async (tx, user) => {
    if (user.disabled_at) throw new RoleError('users.error.disabled');
    const unlocked = await unlockedKeys(tx, session, cookie);
    const link = inviteKeyPair(token);
    try {
      // One live link per user: an earlier one stops working.
      await tx
        .updateTable('invites')
        .set({ revoked_at: new Date(), sealed_tenant_key: null })
        .where('reset_user_id', '=', user.id)
        .where('accepted_at', 'is', null)
        .where('revoked_at', 'is', null)
        .execute();
      await tx
        .insertInto('invites')
        .values({
          id,
          tenant_id: session.tenantId,
          tenant_name: null,
          email: user.email.toLowerCase(),
          role: user.role,
          token_hash: tokenHash(token),
          invited_by: session.userId,
          expires_at: expiresAt,
          sealed_tenant_key: sealTo(
            link.publicKey,
            bind.inviteGrant(session.tenantId, id, unlocked.tenantKeyVersion),
            unlocked.tenantPrivateKey,
          ),
          tenant_key_version: unlocked.tenantKeyVersion,
          reset_user_id: user.id,
          remove_passkeys: input.removePasskeys,
        })
        .execute();
      await recordAudit(tx, session.tenantId, {
        action: 'user.reset_issued',
        actor: actorOf(session),
        ip: input.ip,
        target: { type: 'user', id: user.id },
        details: { email: user.email, removePasskeys: input.removePasskeys, expiresAt },
      });
      await endUserSessionsTx(tx, session.tenantId, user.id, actorOf(session), input.ip);
    } finally {
      lock(unlocked);
      zeroize(link.privateKey);
    }
    return { token, expiresAt, email: user.email };
  });
}

/**
 * The user opens the link and sets a new password: new key pair, everything sealed to the old one
 * destroyed (see above), the link spent. Returns a session past the password step; `enrolled`
 * when kept passkeys serve as the second factor, else a second factor is enrolled next.
 */
export async function acceptResetLink(db: Db, input: AcceptInput): Promise<{ cookie: string }> {
  const invite = await findInvite(db, input.token);
  if (!invite?.resetUserId) throw new InviteError('invite.invalid');
  const userId = invite.resetUserId;
  await withTenant(db, invite.tenantId, async (tx) => {
    const grant = await openInviteGrant(tx, invite, input.token);
    const { tenantPrivateKey, keyVersion } = grant;
    const user = await tx
      .selectFrom('users')
      .select(['id', 'disabled_at'])
      .where('id', '=', userId)
      .forUpdate()
      .executeTakeFirst();
    // A rotation under way has sealed its next key to the old public key: wait for it to end.
    const ahead = await tx
      .selectFrom('tenant_key_grants')
      .select('key_version')
      .where('user_id', '=', userId)
      .where('key_version', '>', keyVersion)
      .executeTakeFirst();
    if (!user || user.disabled_at || ahead) {
      zeroize(tenantPrivateKey);
      throw new InviteError(ahead && user && !user.disabled_at ? 'invite.rotationRunning' : 'invite.invalid'); // prettier-ignore
    }
    try {
      const keys = await newUserKeys(invite.tenantId, userId, input.password, grant.recoveryPublicKey, input.argon2); // prettier-ignore
      await tx
        .updateTable('users')
        .set({
          ...keys,
          totp_sealed_secret: null,
          totp_last_step: null,
          totp_enrolled_at: null,
        })
        .where('id', '=', userId)
        .execute();
      await tx.deleteFrom('tenant_key_grants').where('user_id', '=', userId).execute();
      await tx
        .insertInto('tenant_key_grants')
        .values({
          tenant_id: invite.tenantId,
          user_id: userId,
          key_version: keyVersion,
          sealed_private_key: sealTo(
            keys.public_key,
            bind.tenantGrant(invite.tenantId, keyVersion, userId),
            tenantPrivateKey,
          ),
        })
        .execute();
    } finally {
      zeroize(tenantPrivateKey);
    }
    await tx.deleteFrom('recovery_codes').where('user_id', '=', userId).execute();
    const passkeysRemoved = grant.removePasskeys
      ? (await tx.deleteFrom('passkeys').where('user_id', '=', userId).returning('id').execute())
          .length
      : 0;
    // Kept passkeys stay a second factor; what they unlocked was the old private key.
    await tx
      .updateTable('passkeys')
      .set({ prf_salt: null, prf_wrapped_private_key: null })
      .where('user_id', '=', userId)
      .execute();
    await tx
      .updateTable('invites')
      .set({ accepted_at: new Date(), sealed_tenant_key: null })
      .where('id', '=', invite.id)
      .execute();
    const actor = { type: 'user' as const, id: userId };
    await endUserSessionsTx(tx, invite.tenantId, userId, actor, input.ip ?? '');
    await recordAudit(tx, invite.tenantId, {
      action: 'user.reset_completed',
      actor,
      ip: input.ip,
      target: { type: 'user', id: userId },
      details: { issuedBy: grant.invitedBy, passkeysRemoved },
    });
  });
  return { cookie: await newUserSession(db, invite, input) };
}
