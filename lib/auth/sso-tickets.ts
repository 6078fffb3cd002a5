import { sql } from 'kysely';
import { withTenant, type TenantTx } from '../db/tenant-scope';
import type { SsoDeps, SsoSettings } from './sso-settings';
import { tokenHash } from './tokens';

/**
 * What a single sign-on proved, kept for ten minutes under the hash of a ticket cookie
 * (sso-login.ts), and whether a tenant insists on it. Apart from sso-login so that the password
 * and passkey steps can ask without loading the OpenID client.
 */

export interface SsoTicket {
  tenantId: string;
  email: string;
  userId: string | null;
  role: SsoSettings['roleMap'][number]['role'];
}

/** Who a live ticket proved (the unlock and access-request pages show it). */
export async function readSsoTicket(
  deps: Pick<SsoDeps, 'db'>,
  ticket: string | undefined,
): Promise<SsoTicket | undefined> {
  if (!ticket || !/^[A-Za-z0-9_-]{43}$/.test(ticket)) return undefined;
  const found = await sql<{ t: string | null }>`SELECT sso_login_tenant(${tokenHash(ticket)}) AS t`.execute(deps.db); // prettier-ignore
  const tenantId = found.rows[0]?.t;
  if (!tenantId) return undefined;
  const row = await withTenant(deps.db, tenantId, (tx) =>
    tx
      .selectFrom('sso_logins')
      .select(['email', 'user_id', 'role'])
      .where('ticket_hash', '=', tokenHash(ticket))
      .where('expires_at', '>', new Date())
      .executeTakeFirst(),
  );
  if (!row?.email || !row.role || row.role === 'owner') return undefined;
  return { tenantId, email: row.email, userId: row.user_id, role: row.role };
}

/** Whether the tenant refuses sign-in without its provider (password or passkey alone). */
export async function ssoRequired(tx: TenantTx, tenantId: string): Promise<boolean> {
  const row = await tx.selectFrom('tenant_sso').select('required').where('tenant_id', '=', tenantId).executeTakeFirst(); // prettier-ignore
  return row?.required ?? false;
}

/** Spends a ticket (its one use): true when it was still there. */
export const spendSsoTicket = async (tx: TenantTx, ticket: string) =>
  !!(await tx
    .deleteFrom('sso_logins')
    .where('ticket_hash', '=', tokenHash(ticket))
    .returning('tenant_id')
    .executeTakeFirst());
