import {
  generateAuthenticationOptions,
  generateRegistrationOptions,
  verifyAuthenticationResponse,
  verifyRegistrationResponse,
} from '@simplewebauthn/server';
import type {
  AuthenticationResponseJSON,
  AuthenticatorTransportFuture,
  PublicKeyCredentialCreationOptionsJSON,
  PublicKeyCredentialRequestOptionsJSON,
  RegistrationResponseJSON,
} from '@simplewebauthn/server';
import { recordAudit } from '../audit/record';
import type { Db } from '../db';
import { withTenant, type TenantTx } from '../db/tenant-scope';
import { lock } from '../vault';
import {
  finishEnrolment,
  upgradeSession,
  type RequestMeta,
  type SecondFactorResult,
} from './login';
import { unlockedKeys, type SessionInfo } from './sessions';
import { asCredential, enablePasskeyUnlock, passkeyUnlockOptions } from './passkey-unlock';
import { underThrottle } from './throttle';

/**
 * Passkeys (FIDO2/WebAuthn) as second factor, with user verification required. A ceremony's
 * challenge is kept in the session row that asked for it, for two minutes, and used once.
 */

export interface RelyingParty {
  /** The portal's host name (no scheme, no port), e.g. archiv.mailrepo.de. */
  id: string;
  name: string;
  /** The portal's origin as the browser sees it. */
  origin: string;
}

export function relyingParty(publicUrl: string): RelyingParty {
  const u = new URL(publicUrl);
  return { id: u.hostname, name: 'mailrepo', origin: u.origin };
}

const CHALLENGE_MS = 2 * 60_000;

async function keepChallenge(tx: TenantTx, session: SessionInfo, challenge: string) {
  await tx
    .updateTable('sessions')
    .set({
      webauthn_challenge: challenge,
      webauthn_challenge_expires_at: new Date(Date.now() + CHALLENGE_MS),
    })
    .where('id_hash', '=', session.idHash)
    .execute();
}

/** The session's pending challenge, cleared in the same step: a response is checked once. */
async function takeChallenge(tx: TenantTx, session: SessionInfo): Promise<string | undefined> {
  const row = await tx
    .selectFrom('sessions')
    .select(['webauthn_challenge', 'webauthn_challenge_expires_at'])
    .where('id_hash', '=', session.idHash)
    .forUpdate()
    .executeTakeFirst();
  await tx
    .updateTable('sessions')
    .set({ webauthn_challenge: null, webauthn_challenge_expires_at: null })
    .where('id_hash', '=', session.idHash)
    .execute();
  if (!row?.webauthn_challenge || !row.webauthn_challenge_expires_at) return undefined;
  return row.webauthn_challenge_expires_at > new Date() ? row.webauthn_challenge : undefined;
}

/** How a stored passkey is named to the browser. */
const descriptor = (p: { id: string; transports: string[] }) => ({
  id: p.id,
  transports: p.transports as AuthenticatorTransportFuture[],
});

const userPasskeys = (tx: TenantTx, userId: string) =>
  tx.selectFrom('passkeys').selectAll().where('user_id', '=', userId).execute();

export async function passkeyRegistrationOptions(
  db: Db,
  rp: RelyingParty,
  session: SessionInfo,
): Promise<PublicKeyCredentialCreationOptionsJSON> {
  return withTenant(db, session.tenantId, async (tx) => {
    const existing = await userPasskeys(tx, session.userId);
    const options = await generateRegistrationOptions({
      rpName: rp.name,
      rpID: rp.id,
      userName: session.email,
      userID: Buffer.from(session.userId.replace(/-/g, ''), 'hex'),
      attestationType: 'none',
      excludeCredentials: existing.map(descriptor),
      authenticatorSelection: { residentKey: 'preferred', userVerification: 'required' },
      // Asks whether the passkey can unlock without a password (passkey-unlock.ts).
      extensions: { prf: {} } as never,
    });
    await keepChallenge(tx, session, options.challenge);
    return options;
  });
}

/** Verifies a registration response against the kept challenge and stores the passkey. */
async function storeVerifiedPasskey(
  tx: TenantTx,
  rp: RelyingParty,
  session: SessionInfo,
  input: { response: RegistrationResponseJSON; name: string } & RequestMeta,
): Promise<boolean> {
  const expectedChallenge = await takeChallenge(tx, session);
  if (!expectedChallenge) return false;
  const v = await verifyRegistrationResponse({
    response: input.response,
    expectedChallenge,
    expectedOrigin: rp.origin,
    expectedRPID: rp.id,
    requireUserVerification: true,
  }).catch(() => undefined);
  if (!v?.verified) return false;
  const { credential } = v.registrationInfo;
  await tx
    .insertInto('passkeys')
    .values({
      id: credential.id,
      tenant_id: session.tenantId,
      user_id: session.userId,
      public_key: Buffer.from(credential.publicKey),
      counter: credential.counter,
      transports: credential.transports ?? [],
      name: input.name.slice(0, 80) || 'Passkey',
    })
    .execute();
  await recordAudit(tx, session.tenantId, {
    action: 'auth.passkey.added',
    actor: { type: 'user', id: session.userId },
    ip: input.ip,
    target: { type: 'passkey', id: credential.id.slice(0, 32) },
  });
  return true;
}

/** A further passkey of a signed-in user (settings). */
export async function registerPasskey(
  db: Db,
  rp: RelyingParty,
  session: SessionInfo,
  input: { response: RegistrationResponseJSON; name: string } & RequestMeta,
): Promise<boolean> {
  return withTenant(db, session.tenantId, (tx) => storeVerifiedPasskey(tx, rp, session, input));
}

/**
 * A passkey as the user's first second factor (instead of TOTP) at enrolment: stored, then the
 * recovery codes and the upgraded session, exactly as TOTP enrolment ends.
 */
export async function enrolPasskey(
  db: Db,
  rp: RelyingParty,
  session: SessionInfo,
  cookie: string,
  input: { response: RegistrationResponseJSON; name: string } & RequestMeta,
): Promise<{ kind: 'failed' } | { kind: 'ok'; cookie: string; recoveryCodes: string[] }> {
  if (session.enrolled || session.secondFactor) return { kind: 'failed' };
  return withTenant(db, session.tenantId, async (tx) => {
    const unlocked = await unlockedKeys(tx, session, cookie);
    try {
      if (!(await storeVerifiedPasskey(tx, rp, session, input))) return { kind: 'failed' } as const;
      return { kind: 'ok', ...(await finishEnrolment(tx, session, unlocked, input)) } as const;
    } finally {
      lock(unlocked);
    }
  });
}

export async function passkeyLoginOptions(
  db: Db,
  rp: RelyingParty,
  session: SessionInfo,
): Promise<PublicKeyCredentialRequestOptionsJSON | undefined> {
  return withTenant(db, session.tenantId, async (tx) => {
    const keys = await userPasskeys(tx, session.userId);
    if (!keys.length) return undefined;
    const options = await generateAuthenticationOptions({
      rpID: rp.id,
      userVerification: 'required',
      allowCredentials: keys.map(descriptor),
    });
    await keepChallenge(tx, session, options.challenge);
    return options;
  });
}

/** Step two with a passkey: the same outcome, throttling and audit as a TOTP code. */
export async function passkeyLoginStep(
  db: Db,
  rp: RelyingParty,
  session: SessionInfo,
  cookie: string,
  input: { response: AuthenticationResponseJSON } & RequestMeta,
): Promise<SecondFactorResult> {
  const subject = { step: 'second-factor' as const, account: session.userId, ip: input.ip };
  return underThrottle(db, subject, () =>
    withTenant(db, session.tenantId, async (tx) => {
      const expectedChallenge = await takeChallenge(tx, session);
      const key = await tx
        .selectFrom('passkeys')
        .selectAll()
        .where('user_id', '=', session.userId)
        .where('id', '=', String(input.response.id))
        .executeTakeFirst();
      const v =
        expectedChallenge && key
          ? await verifyAuthenticationResponse({
              response: input.response,
              expectedChallenge,
              expectedOrigin: rp.origin,
              expectedRPID: rp.id,
              requireUserVerification: true,
              credential: asCredential(key),
            }).catch(() => undefined)
          : undefined;
      if (!v?.verified || !key) {
        await recordAudit(tx, session.tenantId, {
          action: 'auth.second_factor.failed',
          actor: { type: 'user', id: session.userId },
          ip: input.ip,
          details: { method: 'passkey' },
        });
        return { kind: 'failed' } as const;
      }
      await tx
        .updateTable('passkeys')
        .set({ counter: v.authenticationInfo.newCounter, last_used_at: new Date() })
        .where('id', '=', key.id)
        .execute();
      await recordAudit(tx, session.tenantId, {
        action: 'auth.second_factor.succeeded',
        actor: { type: 'user', id: session.userId },
        ip: input.ip,
        details: { method: 'passkey' },
      });
      const unlocked = await unlockedKeys(tx, session, cookie);
      try {
        return { kind: 'ok', cookie: await upgradeSession(tx, session, unlocked, input) } as const;
      } finally {
        lock(unlocked);
      }
    }),
  );
}

/** Options of the ceremony that lets one of the user's passkeys unlock their keys (PRF). */
export async function passkeyUnlockSetupOptions(
  db: Db,
  rp: RelyingParty,
  session: SessionInfo,
  credential: string,
): Promise<PublicKeyCredentialRequestOptionsJSON | undefined> {
  return withTenant(db, session.tenantId, (tx) =>
    passkeyUnlockOptions(tx, rp, session, credential, (c) => keepChallenge(tx, session, c)),
  );
}

/** Its answer: the passkey's assertion and PRF output wrap the user's private key for it. */
export async function setUpPasskeyUnlock(
  db: Db,
  rp: RelyingParty,
  session: SessionInfo,
  cookie: string,
  input: { response: AuthenticationResponseJSON; prf: unknown } & RequestMeta,
): Promise<boolean> {
  return withTenant(db, session.tenantId, async (tx) =>
    enablePasskeyUnlock(tx, rp, session, cookie, {
      ...input,
      expectedChallenge: await takeChallenge(tx, session),
    }),
  );
}

export async function listPasskeys(db: Db, session: SessionInfo) {
  const rows = await withTenant(db, session.tenantId, (tx) => userPasskeys(tx, session.userId));
  return rows.map((r) => ({
    id: r.id,
    name: r.name,
    createdAt: r.created_at,
    lastUsedAt: r.last_used_at,
    unlocks: r.prf_wrapped_private_key !== null,
  }));
}

/** Removes one of the user's passkeys (TOTP stays, so a second factor always remains). */
export async function removePasskey(
  db: Db,
  session: SessionInfo,
  id: string,
  ip: string,
): Promise<boolean> {
  return withTenant(db, session.tenantId, async (tx) => {
    const gone = await tx
      .deleteFrom('passkeys')
      .where('user_id', '=', session.userId)
      .where('id', '=', id)
      .returning('id')
      .executeTakeFirst();
    if (!gone) return false;
    await recordAudit(tx, session.tenantId, {
      action: 'auth.passkey.removed',
      actor: { type: 'user', id: session.userId },
      ip,
      target: { type: 'passkey', id: id.slice(0, 32) },
    });
    return true;
  });
}
