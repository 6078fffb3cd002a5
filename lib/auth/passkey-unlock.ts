import { createHash, randomBytes } from 'node:crypto';
import {
  generateAuthenticationOptions,
  verifyAuthenticationResponse,
  type AuthenticationResponseJSON,
  type AuthenticatorTransportFuture,
  type PublicKeyCredentialRequestOptionsJSON,
} from '@simplewebauthn/server';
import { sql } from 'kysely';
import { recordAudit } from '../audit/record';
import { bind } from '../crypto/bindings';
import { zeroize } from '../crypto/bytes';
import { CryptoError } from '../crypto/errors';
import { expand, extract } from '../crypto/hkdf';
import { unwrap, wrap } from '../crypto/sealed-box';
import type { Db } from '../db';
import { withTenant, type TenantTx } from '../db/tenant-scope';
import { lock } from '../vault';
import { unlockedWith } from '../vault/unlock';
import type { RequestMeta } from './login';
import type { RelyingParty } from './passkeys';
import { createSession, unlockedKeys, type SessionInfo } from './sessions';
import { reserveAttempt, settle } from './throttle';
import { readSsoTicket, spendSsoTicket, ssoRequired } from './sso-tickets';
import { tokenHash } from './tokens';

/**
 * Passwordless unlock with passkeys (issue 21 §4, docs/crypto.md). The WebAuthn PRF extension
 * (CTAP2 hmac-secret) makes a passkey compute HMAC(credential secret, input) inside the
 * authenticator, after user verification. Its 32-byte output, sent by the browser over TLS and
 * never stored, is the input keying material of HKDF-SHA-256 with a random per-credential salt;
 * the derived key wraps the user's private key exactly like the password-derived KEK does
 * (AES-256-GCM, bound to tenant, user and credential). A user-verifying passkey is something one
 * has and something one knows or is, so such a sign-in counts as both factors (NIST SP 800-63B-4
 * AAL2, multi-factor cryptographic authenticator) and needs no password.
 *
 * Passkeys without PRF keep serving as second factor only. Removing a passkey removes its
 * wrapping (same row); a reset link, which gives the user a new key pair, drops every wrapping.
 */

/** The PRF input (`eval.first`) of every ceremony: the per-credential salt is HKDF's. */
const PRF_INPUT = createHash('sha256').update('mailrepo/v1/passkey-prf').digest('base64url');
const prfExtension = { prf: { eval: { first: PRF_INPUT } } } as never;
const CHALLENGE_MS = 2 * 60_000;
/** Unanswered passwordless challenges kept at most (an anonymous endpoint must not grow a table). */
const MAX_OPEN_CHALLENGES = 10_000;

/** The browser's PRF output: exactly 32 bytes, base64url. */
export function parsePrfOutput(value: unknown): Buffer | undefined {
  if (typeof value !== 'string' || !/^[A-Za-z0-9_-]{43}$/.test(value)) return undefined;
  const out = Buffer.from(value, 'base64url');
  return out.length === 32 ? out : undefined;
}

function prfKek(prf: Buffer, salt: Buffer, tenantId: string, userId: string, credential: string) {
  const prk = extract(salt, prf);
  try {
    return expand(prk, Buffer.from(`mailrepo/v1/passkey-kek|${tenantId}|${userId}|${credential}`), 32); // prettier-ignore
  } finally {
    zeroize(prk);
  }
}

/** The columns that let passkey `credential` unlock `userPrivateKey`. */
export function passkeyWrapping(
  tenantId: string,
  userId: string,
  credential: string,
  prf: Buffer,
  userPrivateKey: Uint8Array,
) {
  const salt = randomBytes(32);
  const kek = prfKek(prf, salt, tenantId, userId, credential);
  try {
    return {
      prf_salt: salt,
      prf_wrapped_private_key: wrap(kek, bind.userKeyPasskey(tenantId, userId, credential), userPrivateKey), // prettier-ignore
    };
  } finally {
    zeroize(kek);
  }
}

export function unwrapWithPasskey(
  tenantId: string,
  userId: string,
  credential: string,
  prf: Buffer,
  stored: { prf_salt: Buffer; prf_wrapped_private_key: Buffer },
): Buffer {
  const kek = prfKek(prf, stored.prf_salt, tenantId, userId, credential);
  try {
    return unwrap(kek, bind.userKeyPasskey(tenantId, userId, credential), stored.prf_wrapped_private_key); // prettier-ignore
  } finally {
    zeroize(kek);
  }
}

/** A stored passkey as @simplewebauthn verifies against it. */
export const asCredential = (key: { id: string; public_key: Buffer; counter: number | string; transports: string[] }) => ({
  id: key.id,
  publicKey: new Uint8Array(key.public_key),
  counter: Number(key.counter),
  transports: key.transports as AuthenticatorTransportFuture[],
}); // prettier-ignore

/** The challenge a response answers (from its client data), bounded. */
function challengeOf(response: AuthenticationResponseJSON): string | undefined {
  const data = response?.response?.clientDataJSON;
  if (typeof data !== 'string' || data.length > 4096) return undefined;
  try {
    const c = (JSON.parse(Buffer.from(data, 'base64url').toString('utf8')) as { challenge?: unknown }).challenge; // prettier-ignore
    return typeof c === 'string' && c.length <= 256 ? c : undefined;
  } catch {
    return undefined;
  }
}

/**
 * After a passkey was registered with PRF support (or later, for one of the user's passkeys): an
 * assertion by that passkey, with the PRF output, wraps the signed-in user's private key for it.
 * The challenge is the session's (kept as for every ceremony of a session).
 */
export async function passkeyUnlockOptions(
  tx: TenantTx,
  rp: RelyingParty,
  session: SessionInfo,
  credential: string,
  keepChallenge: (challenge: string) => Promise<void>,
): Promise<PublicKeyCredentialRequestOptionsJSON | undefined> {
  const key = await tx
    .selectFrom('passkeys')
    .select(['id', 'transports'])
    .where('user_id', '=', session.userId)
    .where('id', '=', credential)
    .executeTakeFirst();
  if (!key) return undefined;
  const options = await generateAuthenticationOptions({
    rpID: rp.id,
    userVerification: 'required',
    allowCredentials: [
      { id: key.id, transports: key.transports as AuthenticatorTransportFuture[] },
    ],
    extensions: prfExtension,
  });
  await keepChallenge(options.challenge);
  return options;
}

export async function enablePasskeyUnlock(
  tx: TenantTx,
  rp: RelyingParty,
  session: SessionInfo,
  cookie: string,
  input: {
    response: AuthenticationResponseJSON;
    prf: unknown;
    expectedChallenge?: string;
  } & RequestMeta,
): Promise<boolean> {
  const prf = parsePrfOutput(input.prf);
  const key = await tx
    .selectFrom('passkeys')
    .selectAll()
    .where('user_id', '=', session.userId)
    .where('id', '=', String(input.response?.id))
    .executeTakeFirst();
  if (!prf || !key || !input.expectedChallenge) return false;
  const v = await verifyAuthenticationResponse({
    response: input.response,
    expectedChallenge: input.expectedChallenge,
    expectedOrigin: rp.origin,
    expectedRPID: rp.id,
    requireUserVerification: true,
    credential: asCredential(key),
  }).catch(() => undefined);
  if (!v?.verified) return false;
  const unlocked = await unlockedKeys(tx, session, cookie);
  try {
    await tx
      .updateTable('passkeys')
      .set({
        ...passkeyWrapping(session.tenantId, session.userId, key.id, prf, unlocked.userPrivateKey),
        counter: v.authenticationInfo.newCounter,
        last_used_at: new Date(),
      })
      .where('id', '=', key.id)
      .execute();
  } finally {
    lock(unlocked);
    zeroize(prf);
  }
  await recordAudit(tx, session.tenantId, {
    action: 'auth.passkey.unlock_enabled',
    actor: { type: 'user', id: session.userId },
    ip: input.ip,
    target: { type: 'passkey', id: key.id.slice(0, 32) },
  });
  return true;
}

/**
 * Options of a passwordless sign-in: no account named (discoverable credentials), user
 * verification required, the PRF input. The challenge is kept as a hash for two minutes.
 */
export async function passwordlessOptions(
  db: Db,
  rp: RelyingParty,
): Promise<PublicKeyCredentialRequestOptionsJSON | undefined> {
  const options = await generateAuthenticationOptions({
    rpID: rp.id,
    userVerification: 'required',
    allowCredentials: [],
    extensions: prfExtension,
  });
  const kept = await db.transaction().execute(async (tx) => {
    await tx.deleteFrom('passkey_challenges').where('expires_at', '<=', new Date()).execute();
    const open = await tx
      .selectFrom('passkey_challenges')
      .select((eb) => eb.fn.countAll<string>().as('n'))
      .executeTakeFirstOrThrow();
    if (Number(open.n) >= MAX_OPEN_CHALLENGES) return false;
    await tx
      .insertInto('passkey_challenges')
      .values({
        challenge_hash: tokenHash(options.challenge),
        expires_at: new Date(Date.now() + CHALLENGE_MS),
      }) // prettier-ignore
      .execute();
    return true;
  });
  return kept ? options : undefined;
}

export type PasswordlessResult =
  | { kind: 'throttled'; retryAfterS: number }
  | { kind: 'failed' }
  /** A genuine passkey that was registered without PRF: it is a second factor only. */
  | { kind: 'no-unlock' }
  /** The tenant insists on its OpenID provider first (then the passkey unlocks). */
  | { kind: 'sso-required' }
  | { kind: 'ok'; cookie: string };

/**
 * A passwordless sign-in: the challenge must be one we issued and not yet used; the credential's
 * tenant is looked up, the assertion verified (user verification required), the PRF output
 * unwraps the user's private key, and a session with both factors begins. Throttled per
 * credential and address like a password step; every failure after the lookup is audited.
 */
export async function passwordlessStep(
  db: Db,
  rp: RelyingParty,
  input: { response: AuthenticationResponseJSON; prf: unknown; ssoTicket?: string } & RequestMeta,
): Promise<PasswordlessResult> {
  const credential = String(input.response?.id ?? '');
  if (!/^[A-Za-z0-9_-]{1,1400}$/.test(credential)) return { kind: 'failed' };
  const subject = { step: 'password' as const, account: `passkey:${credential}`, ip: input.ip };
  const r = await reserveAttempt(db, subject);
  if (!('reservation' in r)) return { kind: 'throttled', retryAfterS: r.retryAfterS };
  const reservation = r.reservation;
  const result = await settle(reservation, () => attempt(db, rp, credential, input));
  if (result.kind === 'ok') await reservation.succeeded();
  else if (result.kind === 'failed') await reservation.failed();
  else await reservation.released();
  return result;
}

async function attempt(
  db: Db,
  rp: RelyingParty,
  credential: string,
  input: { response: AuthenticationResponseJSON; prf: unknown; ssoTicket?: string } & RequestMeta,
): Promise<PasswordlessResult> {
  const challenge = challengeOf(input.response);
  if (!challenge) return { kind: 'failed' };
  const spent = await db
    .deleteFrom('passkey_challenges')
    .where('challenge_hash', '=', tokenHash(challenge))
    .where('expires_at', '>', new Date())
    .returning('challenge_hash')
    .executeTakeFirst();
  if (!spent) return { kind: 'failed' };
  const found = await sql<{ t: string | null }>`SELECT passkey_tenant(${credential}) AS t`.execute(db); // prettier-ignore
  const tenantId = found.rows[0]?.t;
  if (!tenantId) return { kind: 'failed' };
  return withTenant(db, tenantId, async (tx) => {
    const key = await tx
      .selectFrom('passkeys')
      .innerJoin('users', 'users.id', 'passkeys.user_id')
      .selectAll('passkeys')
      .select(['users.role', 'users.disabled_at'])
      .where('passkeys.id', '=', credential)
      .executeTakeFirstOrThrow();
    const failed = async (reason: string) => {
      await recordAudit(tx, tenantId, {
        action: 'auth.login.failed',
        actor: { type: 'user', id: key.user_id },
        ip: input.ip,
        details: { method: 'passkey', reason },
      });
      return { kind: 'failed' } as const;
    };
    const v = await verifyAuthenticationResponse({
      response: input.response,
      expectedChallenge: challenge,
      expectedOrigin: rp.origin,
      expectedRPID: rp.id,
      requireUserVerification: true,
      credential: asCredential(key),
    }).catch(() => undefined);
    if (!v?.verified) return failed('assertion');
    if (key.disabled_at) return failed('disabled');
    await tx
      .updateTable('passkeys')
      .set({ counter: v.authenticationInfo.newCounter, last_used_at: new Date() })
      .where('id', '=', key.id)
      .execute();
    if (!key.prf_salt || !key.prf_wrapped_private_key) return { kind: 'no-unlock' } as const;
    const prf = parsePrfOutput(input.prf);
    if (!prf) return failed('prf');
    let userPrivateKey: Buffer;
    try {
      userPrivateKey = unwrapWithPasskey(tenantId, key.user_id, key.id, prf, {
        prf_salt: key.prf_salt,
        prf_wrapped_private_key: key.prf_wrapped_private_key,
      });
    } catch (e) {
      if (e instanceof CryptoError) return failed('prf');
      throw e;
    } finally {
      zeroize(prf);
    }
    if (await ssoRequired(tx, tenantId)) {
      const proven = await readSsoTicket({ db }, input.ssoTicket);
      if (proven?.userId !== key.user_id) {
        zeroize(userPrivateKey);
        return { kind: 'sso-required' } as const;
      }
      await spendSsoTicket(tx, input.ssoTicket!);
    }
    const unlocked = await unlockedWith(
      tx,
      tenantId,
      { id: key.user_id, role: key.role },
      userPrivateKey,
    );
    try {
      await recordAudit(tx, tenantId, {
        action: 'auth.login.succeeded',
        actor: { type: 'user', id: key.user_id },
        ip: input.ip,
        details: { method: 'passkey' },
      });
      await recordAudit(tx, tenantId, {
        action: 'session.created',
        actor: { type: 'user', id: key.user_id },
        ip: input.ip,
      });
      return { kind: 'ok', cookie: await createSession(tx, { unlocked, ...input, secondFactor: true }) } as const; // prettier-ignore
    } finally {
      lock(unlocked);
    }
  });
}
