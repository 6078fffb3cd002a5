import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import type { Argon2Params } from '../crypto/password';
import type { Db } from '../db';
import type { Role } from '../db/schema';
import { withTenant, type TenantTx } from '../db/tenant-scope';
import { recordAudit } from '../audit/record';
import { InputError } from '../input/input-error';
import { normalizeAddress } from '../input/address';
import { zeroize } from '../crypto/bytes';
import { deriveKeyPair } from '../crypto/hpke';
import { openSealed, sealTo } from '../crypto/sealed-box';
import { createTenant, lock, unlock } from '../vault';
import { bind } from '../crypto/bindings';
import { insertUser } from '../vault/users';
import { createSession, unlockedKeys, type SessionInfo } from './sessions';
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
  /** A reset link: the existing user it resets (else an invitation of a new user). */
  resetUserId: string | null;
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
    tx
      .selectFrom('invites')
      .leftJoin('tenants', 'tenants.id', 'invites.tenant_id')
      .selectAll('invites')
      .select('tenants.name as current_name')
      .where('token_hash', '=', hash)
      .executeTakeFirst(),
  );
  return row
    ? {
        id: row.id,
        tenantId: row.tenant_id,
        tenantName: row.tenant_name ?? row.current_name,
        email: row.email,
        role: row.role,
        expiresAt: row.expires_at,
        resetUserId: row.reset_user_id,
      }
    : undefined;
}

/**
 * Why an invitation or reset link no longer works, for its holder (issue 25 §3): used, withdrawn,
 * or expired and when; undefined for a token we never issued.
 */
export async function inviteState(
  db: Db,
  token: string,
): Promise<{ state: 'open' | 'used' | 'revoked' | 'expired'; expiresAt: Date } | undefined> {
  const r = await sql<{ state: 'open' | 'used' | 'revoked' | 'expired'; expires_at: Date }>`
    SELECT * FROM invite_state(${tokenHash(token)})`.execute(db);
  const row = r.rows[0];
  return row && { state: row.state, expiresAt: row.expires_at };
}

/** The new user's first session: unlocked with their password, second factor still to come. */
export async function newUserSession(db: Db, invite: Invite, input: AcceptInput): Promise<string> {
  const unlocked = await unlock(db, {
    tenantId: invite.tenantId,
    email: invite.email,
    password: input.password,
    argon2: input.argon2,
  });
  try {
    return await withTenant(db, invite.tenantId, (tx) =>
      createSession(tx, {
        unlocked,
        ip: input.ip,
        userAgent: input.userAgent,
        secondFactor: false,
      }),
    );
  } finally {
    lock(unlocked);
  }
}

export interface AcceptInput {
  token: string;
  password: string;
  ip?: string;
  userAgent?: string;
  argon2?: Argon2Params;
}

export class InviteError extends InputError {
  override name = 'InviteError';
}

/**
 * Accepts a tenant's owner invitation: the tenant and its keys come into being with `password`.
 * Returns the recovery key (to show once) and a session that has passed the password step only —
 * the owner must enrol a second factor before anything else.
 */
export async function acceptSetupInvite(
  db: Db,
  input: AcceptInput,
): Promise<{ recoveryKey: string; cookie: string; tenantId: string }> {
  const invite = await findInvite(db, input.token);
  if (!invite || invite.role !== 'owner' || !invite.tenantName || invite.resetUserId)
    throw new InviteError('invite.invalid');
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
  if (!claimed) throw new InviteError('invite.invalid');
  const created = await createTenant(db, {
    tenantId: invite.tenantId,
    name: invite.tenantName,
    admin: { email: invite.email, password: input.password },
    adminRole: 'owner',
    argon2: input.argon2,
    actor: { type: 'system', label: 'invitation' },
  });
  const cookie = await newUserSession(db, invite, input);
  return { recoveryKey: created.recoveryKey, cookie, tenantId: invite.tenantId };
}

/** The key pair an invitation token stands for (HPKE DeriveKeyPair of the token). */
export const inviteKeyPair = (token: string) =>
  deriveKeyPair(Buffer.concat([Buffer.from('mailrepo/v1/invite|'), Buffer.from(token, 'utf8')]));

export type InvitableRole = Exclude<Role, 'owner'>;
export const INVITABLE_ROLES: InvitableRole[] = ['admin', 'auditor', 'member'];

/**
 * An owner or admin invites a further user. Their unlocked session seals the tenant key for the
 * invitee (see migration 0010); returns the token for the one-time link.
 */
export async function createMemberInvite(
  db: Db,
  session: SessionInfo,
  cookie: string,
  input: { email: string; role: InvitableRole; ip: string },
): Promise<{ token: string; expiresAt: Date }> {
  if (session.role !== 'owner' && session.role !== 'admin')
    throw new InviteError('users.error.notAllowed');
  if (!INVITABLE_ROLES.includes(input.role)) throw new InviteError('users.error.role', {}, 'role');
  const email = normalizeAddress(input.email);
  if (!email) throw new InviteError('users.error.email', {}, 'email');
  const token = newToken();
  const id = randomUUID();
  const expiresAt = new Date(Date.now() + INVITE_DAYS * 86_400_000);
  await withTenant(db, session.tenantId, async (tx) => {
    const existing = await tx
      .selectFrom('users')
      .select('id')
      .where(sql<string>`lower(email)`, '=', email)
      .executeTakeFirst();
    if (existing) throw new InviteError('users.error.exists', {}, 'email');
    const unlocked = await unlockedKeys(tx, session, cookie);
    const invitee = inviteKeyPair(token);
    try {
      await tx
        .insertInto('invites')
        .values({
          id,
          tenant_id: session.tenantId,
          tenant_name: null,
          email,
          role: input.role,
          token_hash: tokenHash(token),
          invited_by: session.userId,
          expires_at: expiresAt,
          sealed_tenant_key: sealTo(
            invitee.publicKey,
            bind.inviteGrant(session.tenantId, id, unlocked.tenantKeyVersion),
            unlocked.tenantPrivateKey,
          ),
          tenant_key_version: unlocked.tenantKeyVersion,
        })
        .execute();
      await recordAudit(tx, session.tenantId, {
        action: 'user.invited',
        actor: { type: 'user', id: session.userId },
        ip: input.ip,
        target: { type: 'invite', id },
        details: { email, role: input.role },
      });
    } finally {
      lock(unlocked);
      zeroize(invitee.privateKey);
    }
  });
  return { token, expiresAt };
}

/**
 * The tenant key an invitation or reset link holds, for its one use: the row locked, spent or
 * revoked links refused, and one from before a key rotation (its key is stale: the admin issues
 * another). The caller wipes the key.
 */
export async function openInviteGrant(tx: TenantTx, invite: Invite, token: string) {
  const row = await tx
    .selectFrom('invites')
    .select(['sealed_tenant_key', 'tenant_key_version', 'invited_by', 'remove_passkeys'])
    .where('id', '=', invite.id)
    .where('accepted_at', 'is', null)
    .where('revoked_at', 'is', null)
    .forUpdate()
    .executeTakeFirst();
  const tenant = await tx
    .selectFrom('tenants')
    .select(['key_version', 'recovery_public_key'])
    .where('id', '=', invite.tenantId)
    .executeTakeFirstOrThrow();
  if (!row?.sealed_tenant_key || row.tenant_key_version === null)
    throw new InviteError('invite.invalid');
  if (row.tenant_key_version !== tenant.key_version) throw new InviteError('invite.rotated');
  const holder = inviteKeyPair(token);
  try {
    return {
      tenantPrivateKey: openSealed(
        holder.privateKey,
        bind.inviteGrant(invite.tenantId, invite.id, row.tenant_key_version),
        row.sealed_tenant_key,
      ),
      keyVersion: tenant.key_version,
      recoveryPublicKey: tenant.recovery_public_key,
      invitedBy: row.invited_by,
      removePasskeys: row.remove_passkeys,
    };
  } finally {
    zeroize(holder.privateKey);
  }
}

/**
 * A further user accepts: their account and key pair are created with `password`, the tenant key
 * held for them is opened with the token and granted to their new key. Returns a session that has
 * passed the password step only (second-factor enrolment follows).
 */
export async function acceptMemberInvite(db: Db, input: AcceptInput): Promise<{ cookie: string }> {
  const invite = await findInvite(db, input.token);
  if (!invite || invite.role === 'owner' || invite.resetUserId)
    throw new InviteError('invite.invalid');
  await withTenant(db, invite.tenantId, async (tx) => {
    const grant = await openInviteGrant(tx, invite, input.token);
    const { tenantPrivateKey } = grant;
    try {
      const userId = await insertUser(
        tx,
        {
          tenantId: invite.tenantId,
          keyVersion: grant.keyVersion,
          tenantPrivateKey,
          recoveryPublicKey: grant.recoveryPublicKey,
        },
        { email: invite.email, password: input.password, role: invite.role },
        input.argon2,
      );
      await tx
        .updateTable('invites')
        .set({ accepted_at: new Date(), sealed_tenant_key: null })
        .where('id', '=', invite.id)
        .execute();
      await recordAudit(tx, invite.tenantId, {
        action: 'user.added',
        actor: { type: 'user', id: userId },
        ip: input.ip,
        target: { type: 'user', id: userId },
        details: { email: invite.email, role: invite.role, invitedBy: grant.invitedBy },
      });
    } finally {
      zeroize(tenantPrivateKey);
    }
  });
  return { cookie: await newUserSession(db, invite, input) };
}

/** The tenant's users and open invitations, for the users page of owners and admins. */
export async function listUsers(db: Db, session: SessionInfo) {
  return withTenant(db, session.tenantId, async (tx) => ({
    users: await tx
      .selectFrom('users')
      .select(['id', 'email', 'role', 'totp_enrolled_at', 'disabled_at', 'created_at'])
      .orderBy('created_at')
      .execute(),
    invites: await tx
      .selectFrom('invites')
      .select(['id', 'email', 'role', 'expires_at', 'reset_user_id'])
      .where('accepted_at', 'is', null)
      .where('revoked_at', 'is', null)
      .where('expires_at', '>', new Date())
      .orderBy('created_at')
      .execute(),
  }));
}
