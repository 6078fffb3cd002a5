import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import * as oidc from 'openid-client';
import { recordAudit } from '../audit/record';
import { CryptoError } from '../crypto/errors';
import type { Argon2Params } from '../crypto/password';
import { withTenant, type TenantTx } from '../db/tenant-scope';
import { lock, unlock } from '../vault';
import { newUserKeys } from '../vault/users';
import type { RequestMeta } from './login';
import { passwordProblem, type PasswordProblem } from './password-policy';
import { createSession } from './sessions';
import { openClientSecret, readSsoSettings, type SsoDeps, type SsoSettings } from './sso-settings';
import { readSsoTicket, spendSsoTicket } from './sso-tickets';
import { underThrottle } from './throttle';
import { newToken, tokenHash } from './tokens';

/**
 * Sign-in through the tenant's OpenID provider (issue 21 §5): authorization code flow with PKCE,
 * state and nonce (openid-client checks the ID token's signature, issuer, audience, expiry and
 * nonce); we check `email_verified` and that the address's domain is one the tenant lets its
 * provider vouch for. The provider proves **identity only**: end-to-end keys open with the
 * archive password or a PRF passkey, so a successful callback yields a ticket (cookie, 10 minutes,
 * single use) for the unlock page. SSO plus the archive password counts as two factors (the
 * provider's sign-in is the one we do not see: require MFA there). Someone the provider vouches for
 * without an account asks for one with an archive password of their own; an owner or admin
 * approves (sso-requests.ts).
 */

const LOGIN_MS = 10 * 60_000;
const MAX_OPEN_SIGN_INS = 1000;
const redirectUri = (deps: SsoDeps) => `${deps.publicUrl.replace(/\/+$/, '')}/login/sso/callback`;

/**
 * The provider's configuration (its discovery document and our client), kept for five minutes
 * per tenant and settings: an anonymous sign-in page must not make us fetch the provider's
 * metadata for every request. Failures are not kept.
 */
const CONFIG_MS = 5 * 60_000;
const MAX_CONFIGS = 1000;
const configs = new Map<string, { at: number; config: Promise<oidc.Configuration> }>();

function providerConfig(deps: SsoDeps, tenantId: string, settings: SsoSettings, wrapped: Buffer) {
  const key = `${tenantId}|${settings.issuer}|${settings.clientId}|${tokenHash(wrapped.toString('base64')).toString('hex')}`;
  const kept = configs.get(key);
  if (kept && Date.now() - kept.at < CONFIG_MS) return kept.config;
  const secret = openClientSecret(deps, tenantId, wrapped);
  const config = oidc.discovery(
    new URL(settings.issuer),
    settings.clientId,
    secret,
    oidc.ClientSecretBasic(secret),
    deps.allowHttp ? { execute: [oidc.allowInsecureRequests], timeout: 10 } : { timeout: 10 },
  );
  if (configs.size >= MAX_CONFIGS) configs.delete(configs.keys().next().value!);
  configs.set(key, { at: Date.now(), config });
  config.catch(() => configs.get(key)?.config === config && configs.delete(key));
  return config;
} // prettier-ignore

export type SsoStart =
  { kind: 'redirect'; url: string } | { kind: 'not-configured' } | { kind: 'unavailable' };

/** The provider's authorization URL for an address of a domain some tenant's provider vouches for. */
export async function startSso(
  deps: SsoDeps,
  input: { email: string } & RequestMeta,
): Promise<SsoStart> {
  const domain = input.email.trim().toLowerCase().split('@')[1] ?? '';
  if (!domain) return { kind: 'not-configured' };
  const found = await sql<{ t: string | null }>`SELECT sso_domain_tenant(${domain}) AS t`.execute(deps.db); // prettier-ignore
  const tenantId = found.rows[0]?.t;
  if (!tenantId) return { kind: 'not-configured' };
  return withTenant(deps.db, tenantId, async (tx) => {
    const stored = await readSsoSettings(tx, tenantId);
    if (!stored) return { kind: 'not-configured' } as const;
    let config: oidc.Configuration;
    try {
      config = await providerConfig(deps, tenantId, stored.settings, stored.wrappedSecret);
    } catch (e) {
      await ssoFailed(tx, tenantId, input.ip, 'discovery', e);
      return { kind: 'unavailable' } as const;
    }
    const verifier = oidc.randomPKCECodeVerifier();
    const state = oidc.randomState();
    const nonce = oidc.randomNonce();
    await tx.deleteFrom('sso_logins').where('expires_at', '<=', new Date()).execute();
    // Started but unfinished sign-ins are bounded per tenant (the page is anonymous).
    const open = await tx
      .selectFrom('sso_logins')
      .select((eb) => eb.fn.countAll<string>().as('n'))
      .where('ticket_hash', 'is', null)
      .executeTakeFirstOrThrow();
    if (Number(open.n) >= MAX_OPEN_SIGN_INS) return { kind: 'unavailable' } as const;
    await tx
      .insertInto('sso_logins')
      .values({
        state_hash: tokenHash(state),
        tenant_id: tenantId,
        nonce,
        code_verifier: verifier,
        expires_at: new Date(Date.now() + LOGIN_MS),
      }) // prettier-ignore
      .execute();
    const url = oidc.buildAuthorizationUrl(config, {
      redirect_uri: redirectUri(deps),
      scope: 'openid email profile',
      code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
      state,
      nonce,
      login_hint: input.email.trim(),
    });
    return { kind: 'redirect', url: url.href } as const;
  });
}

/** openid-client wraps the check that failed ("aud", "nonce" …) as the cause: both are named. */
function describe(e: unknown): string {
  const message = String((e as Error)?.message ?? e);
  const cause = (e as { cause?: { message?: unknown } })?.cause?.message;
  return (typeof cause === 'string' ? `${message}: ${cause}` : message).slice(0, 300);
}

async function ssoFailed(tx: TenantTx, tenantId: string, ip: string, reason: string, e?: unknown) {
  await recordAudit(tx, tenantId, {
    action: 'auth.sso.failed',
    actor: { type: 'system', label: 'sso' },
    ip,
    details: { reason, ...(e ? { error: describe(e) } : {}) },
  });
}

export type SsoFinish =
  { kind: 'failed'; reason: string } | { kind: 'ok'; ticket: string; existing: boolean };

/**
 * The provider's redirect back. The state is claimed once (a replayed or unknown state fails);
 * the code is exchanged and the ID token checked; the proven address becomes a ticket.
 */
export async function finishSso(
  deps: SsoDeps,
  input: { query: string } & RequestMeta,
): Promise<SsoFinish> {
  const params = new URLSearchParams(input.query);
  const state = params.get('state') ?? '';
  if (!state || state.length > 200) return { kind: 'failed', reason: 'state' };
  const found = await sql<{ t: string | null }>`SELECT sso_login_tenant(${tokenHash(state)}) AS t`.execute(deps.db); // prettier-ignore
  const tenantId = found.rows[0]?.t;
  if (!tenantId) return { kind: 'failed', reason: 'state' };
  const ticket = newToken();
  return withTenant(deps.db, tenantId, async (tx) => {
    // Claimed at once: a second use of this state finds it spent.
    const login = await tx
      .updateTable('sso_logins')
      .set({ ticket_hash: tokenHash(ticket), expires_at: new Date(Date.now() + LOGIN_MS) })
      .where('state_hash', '=', tokenHash(state))
      .where('ticket_hash', 'is', null)
      .where('expires_at', '>', new Date())
      .returning(['nonce', 'code_verifier'])
      .executeTakeFirst();
    const fail = async (reason: string, e?: unknown) => {
      await tx.deleteFrom('sso_logins').where('state_hash', '=', tokenHash(state)).execute();
      await ssoFailed(tx, tenantId, input.ip, reason, e);
      return { kind: 'failed', reason } as const;
    };
    if (!login) return fail('state');
    const stored = await readSsoSettings(tx, tenantId);
    if (!stored) return fail('not-configured');
    let claims: oidc.IDToken;
    try {
      const config = await providerConfig(deps, tenantId, stored.settings, stored.wrappedSecret);
      const current = new URL(redirectUri(deps));
      current.search = params.toString();
      const tokens = await oidc.authorizationCodeGrant(config, current, {
        pkceCodeVerifier: login.code_verifier,
        expectedState: state,
        expectedNonce: login.nonce,
        idTokenExpected: true,
      });
      claims = tokens.claims()!;
    } catch (e) {
      return fail('token', e);
    }
    const email = typeof claims.email === 'string' ? claims.email.trim().toLowerCase() : '';
    if (!email || claims.email_verified !== true) return fail('email-unverified');
    const domain = email.split('@')[1] ?? '';
    if (!stored.settings.allowedDomains.includes(domain)) return fail('domain');
    const groups = claims[stored.settings.groupClaim];
    const groupList = Array.isArray(groups) ? groups.filter((g) => typeof g === 'string') : [];
    const role = stored.settings.roleMap.find((m) => groupList.includes(m.group))?.role ?? 'member';
    const user = await tx
      .selectFrom('users')
      .select(['id', 'disabled_at'])
      .where(sql<string>`lower(email)`, '=', email)
      .executeTakeFirst();
    if (user?.disabled_at) return fail('disabled');
    await tx
      .updateTable('sso_logins')
      .set({ email, user_id: user?.id ?? null, role })
      .where('state_hash', '=', tokenHash(state))
      .execute();
    await recordAudit(tx, tenantId, {
      action: 'auth.sso.succeeded',
      actor: user ? { type: 'user', id: user.id } : { type: 'system', label: 'sso' },
      ip: input.ip,
      details: { email, ...(user ? {} : { newUser: true, role }) },
    });
    return { kind: 'ok', ticket, existing: !!user } as const;
  });
}

export type SsoUnlock =
  { kind: 'ok'; cookie: string } | { kind: 'failed' } | { kind: 'throttled'; retryAfterS: number };

/**
 * After SSO: the archive password unlocks the keys. Both factors — the provider's sign-in and
 * the password — so the session is complete. Throttled like every password step.
 */
export async function unlockAfterSso(
  deps: SsoDeps,
  ticket: string,
  input: { password: string; argon2?: Argon2Params } & RequestMeta,
): Promise<SsoUnlock> {
  const proven = await readSsoTicket(deps, ticket);
  if (!proven?.userId) return { kind: 'failed' };
  const { tenantId, email, userId } = proven;
  return underThrottle(deps.db, { step: 'password', account: email, ip: input.ip }, async () => {
    let unlocked;
    try {
      unlocked = await unlock(deps.db, {
        tenantId,
        email,
        password: input.password,
        argon2: input.argon2,
      });
    } catch (e) {
      if (!(e instanceof CryptoError)) throw e;
      await withTenant(deps.db, tenantId, (tx) =>
        recordAudit(tx, tenantId, { action: 'auth.login.failed', actor: { type: 'user', id: userId }, ip: input.ip, details: { email, method: 'sso+password' } }),
      ); // prettier-ignore
      return { kind: 'failed' } as const;
    }
    try {
      return await withTenant(deps.db, tenantId, async (tx) => {
        if (!(await spendSsoTicket(tx, ticket))) return { kind: 'failed' } as const;
        await recordAudit(tx, tenantId, { action: 'auth.login.succeeded', actor: { type: 'user', id: userId }, ip: input.ip, details: { method: 'sso+password' } }); // prettier-ignore
        await recordAudit(tx, tenantId, { action: 'session.created', actor: { type: 'user', id: userId }, ip: input.ip }); // prettier-ignore
        return { kind: 'ok', cookie: await createSession(tx, { unlocked, ...input, secondFactor: true }) } as const; // prettier-ignore
      });
    } finally {
      lock(unlocked);
    }
  });
}

export type AccessRequest =
  { kind: 'ok' } | { kind: 'failed' } | { kind: 'invalid'; problem: PasswordProblem | 'mismatch' };

/**
 * Someone the provider vouches for, without an account: a key pair under the archive password
 * they choose (sealed to the recovery key too, like every user's), waiting for an owner's or
 * admin's approval, which grants the tenant key. Nothing of the archive is reachable before.
 */
export async function requestAccess(
  deps: SsoDeps,
  ticket: string,
  input: { password: string; repeat: string; argon2?: Argon2Params } & RequestMeta,
): Promise<AccessRequest> {
  const proven = await readSsoTicket(deps, ticket);
  if (!proven || proven.userId) return { kind: 'failed' };
  if (input.password !== input.repeat) return { kind: 'invalid', problem: 'mismatch' };
  const problem = passwordProblem(input.password, proven.email);
  if (problem) return { kind: 'invalid', problem };
  const { tenantId } = proven;
  const id = randomUUID();
  return withTenant(deps.db, tenantId, async (tx) => {
    if (!(await spendSsoTicket(tx, ticket))) return { kind: 'failed' } as const;
    const tenant = await tx.selectFrom('tenants').select('recovery_public_key').where('id', '=', tenantId).executeTakeFirstOrThrow(); // prettier-ignore
    await tx.deleteFrom('sso_requests').where('email', '=', proven.email).execute();
    await tx
      .insertInto('sso_requests')
      .values({
        id,
        tenant_id: tenantId,
        email: proven.email,
        role: proven.role,
        ...(await newUserKeys(tenantId, id, input.password, tenant.recovery_public_key, input.argon2)), // prettier-ignore
      })
      .execute();
    await recordAudit(tx, tenantId, {
      action: 'user.access_requested',
      actor: { type: 'system', label: 'sso' },
      ip: input.ip,
      target: { type: 'sso-request', id },
      details: { email: proven.email, role: proven.role },
    });
    return { kind: 'ok' } as const;
  });
}
