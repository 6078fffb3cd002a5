import { recordAudit } from '../audit/record';
import { unwrap, wrap } from '../crypto/sealed-box';
import type { Db } from '../db';
import type { Role } from '../db/schema';
import { withTenant, type TenantTx } from '../db/tenant-scope';
import { InputError } from '../input/input-error';
import type { SessionInfo } from './sessions';

/**
 * A tenant's single sign-on settings (issue 21 §5): only owners change them (fresh
 * re-authentication, audited `setting.changed`, never the secret). The client secret is wrapped
 * under the server's vault wrap key: the portal needs it at every sign-in, before anyone's keys
 * are unlocked. Each e-mail domain is vouched for by one tenant's provider only.
 */

export class SsoError extends InputError {
  override name = 'SsoError';
}

export interface SsoDeps {
  db: Db;
  /** VAULT_KEY_WRAP_KEY: wraps the client secrets. */
  wrapKey: Buffer;
  publicUrl: string;
  /** Development and tests: a provider on http://localhost. Production insists on https. */
  allowHttp: boolean;
}

/** Roles the provider's groups may grant: never owner (owners are made by owners). */
export const SSO_ROLES = ['admin', 'auditor', 'member'] as const satisfies readonly Role[];
export type SsoRole = (typeof SSO_ROLES)[number];

export interface SsoSettings {
  issuer: string;
  clientId: string;
  allowedDomains: string[];
  groupClaim: string;
  roleMap: { group: string; role: SsoRole }[];
  required: boolean;
}

const secretBinding = (tenant: string) => ({ tenant, purpose: 'sso-client-secret' as const });

export async function readSsoSettings(tx: TenantTx, tenantId: string) {
  const row = await tx
    .selectFrom('tenant_sso')
    .selectAll()
    .where('tenant_id', '=', tenantId)
    .executeTakeFirst();
  if (!row) return undefined;
  const settings: SsoSettings = {
    issuer: row.issuer,
    clientId: row.client_id,
    allowedDomains: row.allowed_domains,
    groupClaim: row.group_claim,
    roleMap: row.role_map as SsoSettings['roleMap'],
    required: row.required,
  };
  return { settings, wrappedSecret: row.client_secret_wrapped };
}

export const openClientSecret = (deps: SsoDeps, tenantId: string, wrapped: Buffer) =>
  unwrap(deps.wrapKey, secretBinding(tenantId), wrapped).toString('utf8');

const DOMAIN = /^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/;

/** The settings form's text, checked: each problem names its field. */
export function parseSsoForm(
  input: {
    issuer: string;
    clientId: string;
    domains: string;
    groupClaim: string;
    roleMap: string;
    required: boolean;
  },
  allowHttp: boolean,
): SsoSettings {
  let issuer: URL;
  try {
    issuer = new URL(input.issuer.trim());
  } catch {
    throw new SsoError('sso.error.issuer', {}, 'issuer');
  }
  const local = ['localhost', '127.0.0.1', '[::1]'].includes(issuer.hostname);
  if (issuer.protocol !== 'https:' && !(allowHttp && issuer.protocol === 'http:' && local))
    throw new SsoError('sso.error.issuer', {}, 'issuer');
  if (issuer.search || issuer.hash || issuer.username)
    throw new SsoError('sso.error.issuer', {}, 'issuer');
  const clientId = input.clientId.trim();
  if (!clientId || clientId.length > 200) throw new SsoError('sso.error.clientId', {}, 'clientId');
  const domains = [
    ...new Set(
      input.domains
        .split(/[\s,;]+/)
        .map((d) => d.trim().toLowerCase().replace(/^@/, ''))
        .filter(Boolean),
    ),
  ];
  if (!domains.length || domains.length > 20 || !domains.every((d) => DOMAIN.test(d)))
    throw new SsoError('sso.error.domains', {}, 'domains');
  const groupClaim = input.groupClaim.trim() || 'groups';
  if (!/^[A-Za-z0-9_.:/-]{1,100}$/.test(groupClaim))
    throw new SsoError('sso.error.groupClaim', {}, 'groupClaim');
  const roleMap: SsoSettings['roleMap'] = [];
  for (const line of input.roleMap
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean)) {
    const m = /^(.{1,200}?)\s*=\s*(admin|auditor|member)$/.exec(line);
    if (!m || roleMap.length >= 50) throw new SsoError('sso.error.roleMap', { line: line.slice(0, 80) }, 'roleMap'); // prettier-ignore
    roleMap.push({ group: m[1]!, role: m[2] as SsoRole });
  }
  return {
    issuer: issuer.href.replace(/\/$/, ''),
    clientId,
    allowedDomains: domains,
    groupClaim,
    roleMap,
    required: input.required,
  };
}

/**
 * Stores the settings (an empty `clientSecret` keeps the stored one); claims the domains for this
 * tenant. Owners only; audited without the secret.
 */
export async function saveSsoSettings(
  deps: SsoDeps,
  session: SessionInfo,
  input: { settings: SsoSettings; clientSecret: string; ip: string },
): Promise<void> {
  if (session.role !== 'owner') throw new SsoError('users.error.notAllowed');
  const s = input.settings;
  const tenantId = session.tenantId;
  await withTenant(deps.db, tenantId, async (tx) => {
    const before = await readSsoSettings(tx, tenantId);
    if (!before && !input.clientSecret) throw new SsoError('sso.error.secret', {}, 'clientSecret');
    if (input.clientSecret.length > 1000)
      throw new SsoError('sso.error.secret', {}, 'clientSecret');
    const wrapped = input.clientSecret
      ? wrap(deps.wrapKey, secretBinding(tenantId), Buffer.from(input.clientSecret, 'utf8'))
      : before!.wrappedSecret;
    const columns = {
      issuer: s.issuer,
      client_id: s.clientId,
      client_secret_wrapped: wrapped,
      allowed_domains: s.allowedDomains,
      group_claim: s.groupClaim,
      role_map: JSON.stringify(s.roleMap),
      required: s.required,
      updated_at: new Date(),
    };
    await tx
      .insertInto('tenant_sso')
      .values({ tenant_id: tenantId, ...columns })
      .onConflict((oc) => oc.column('tenant_id').doUpdateSet(columns))
      .execute();
    await tx.deleteFrom('sso_domains').where('tenant_id', '=', tenantId).execute();
    for (const domain of s.allowedDomains) {
      // Another tenant's domain is invisible here (RLS) but its key still collides.
      const taken = await tx
        .insertInto('sso_domains')
        .values({ domain, tenant_id: tenantId })
        .onConflict((oc) => oc.column('domain').doNothing())
        .returning('domain')
        .executeTakeFirst();
      if (!taken) throw new SsoError('sso.error.domainTaken', { domain }, 'domains');
    }
    await recordAudit(tx, tenantId, {
      action: 'setting.changed',
      actor: { type: 'user', id: session.userId },
      ip: input.ip,
      details: {
        setting: 'sso',
        from: before ? { ...before.settings } : null,
        to: { ...s },
        clientSecretChanged: !!input.clientSecret,
      },
    });
  });
}
