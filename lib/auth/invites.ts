import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import type { Argon2Params } from '../crypto/password';
import type { Db } from '../db';
import type { Role } from '../db/schema';
import { withTenant } from '../db/tenant-scope';
import { createTenant, lock, unlock } from '../vault';
import { createSession } from './sessions';
import { newToken, tokenHash } from './tokens';

/**
 * Invitations. A tenant starts as an owner invitation made by an operator (`mailrepo tenant
 * create`); accepting it creates the tenant's keys with the owner's password and shows the recovery
 * key once. The link carries a 256-bit token, stored only as its hash, usable once, for 7 days;
 * the portal swaps it for a cookie at once, so it stays out of later URLs and Referer headers.
 */

export const INVITE_DAYS = 7;

export interface Invite {
  id: string;
  tenantId: string;
  tenantName: string | null;
  email: string;
  role: Role;
  expiresAt: Date;
}

export async function createSetupInvite(
  db: Db,
  input: { tenantName: string; email: string; invitedBy: string },
): Promise<{ tenantId: string; token: string; expiresAt: Date }> {
  const tenantId = randomUUID();
  const token = newToken();
  const expiresAt = new Date(Date.now() + INVITE_DAYS * 86_400_000);
  await withTenant(db, tenantId, (tx) =>
    tx
      .insertInto('invites')
      .values({
        id: randomUUID(),
        tenant_id: tenantId,
        tenant_name: input.tenantName,
        email: input.email.trim().toLowerCase(),
        role: 'owner',
        token_hash: tokenHash(token),
        invited_by: input.invitedBy,
        expires_at: expiresAt,
      })
      .execute(),
  );
  return { tenantId, token, expiresAt };
}

/** The live invitation behind a token, if any. */
export async function findInvite(db: Db, token: string): Promise<Invite | undefined> {
  const hash = tokenHash(token);
  const r = await sql<{ t: string | null }>`SELECT invite_tenant(${hash}) AS t`.execute(db);
  const tenantId = r.rows[0]?.t;
  if (!tenantId) return undefined;
  const row = await withTenant(db, tenantId, (tx) =>
    tx.selectFrom('invites').selectAll().where('token_hash', '=', hash).executeTakeFirst(),
  );
  return row
    ? {
        id: row.id,
        tenantId: row.tenant_id,
        tenantName: row.tenant_name,
        email: row.email,
        role: row.role,
        expiresAt: row.expires_at,
      }
    : undefined;
}

export class InviteError extends Error {
  override name = 'InviteError';
}

/**
 * Accepts a tenant's owner invitation: the tenant and its keys come into being with `password`.
 * Returns the recovery key (to show once) and a session that has passed the password step only —
 * the owner must enrol a second factor before anything else.
 */
export async function acceptSetupInvite(
  db: Db,
  input: {
    token: string;
    password: string;
    ip?: string;
    userAgent?: string;
    argon2?: Argon2Params;
  },
): Promise<{ recoveryKey: string; cookie: string; tenantId: string }> {
  const invite = await findInvite(db, input.token);
  if (!invite || invite.role !== 'owner' || !invite.tenantName)
    throw new InviteError('invitation unknown, used or expired');
  // Claim it first: of two simultaneous acceptances only one proceeds.
  const claimed = await withTenant(db, invite.tenantId, (tx) =>
    tx
      .updateTable('invites')
      .set({ accepted_at: new Date() })
      .where('id', '=', invite.id)
      .where('accepted_at', 'is', null)
      .returning('id')
      .executeTakeFirst(),
  );
  if (!claimed) throw new InviteError('invitation unknown, used or expired');
  const created = await createTenant(db, {
    tenantId: invite.tenantId,
    name: invite.tenantName,
    admin: { email: invite.email, password: input.password },
    adminRole: 'owner',
    argon2: input.argon2,
    actor: { type: 'system', label: 'invitation' },
  });
  const unlocked = await unlock(db, {
    tenantId: invite.tenantId,
    email: invite.email,
    password: input.password,
    argon2: input.argon2,
  });
  try {
    const cookie = await withTenant(db, invite.tenantId, (tx) =>
      createSession(tx, {
        unlocked,
        ip: input.ip,
        userAgent: input.userAgent,
        secondFactor: false,
      }),
    );
    return { recoveryKey: created.recoveryKey, cookie, tenantId: invite.tenantId };
  } finally {
    lock(unlocked);
  }
}
