import { randomBytes } from 'node:crypto';
import { sql } from 'kysely';
import { recordAudit } from '../audit/record';
import { zeroize } from '../crypto/bytes';
import { unwrap, wrap } from '../crypto/sealed-box';
import type { Db } from '../db';
import type { Role } from '../db/schema';
import { withTenant, type TenantTx } from '../db/tenant-scope';
import { bind } from '../crypto/bindings';
import type { UnlockedSession } from '../vault/session';
import { tokenHash } from './tokens';

/**
 * Portal sessions (DESIGN §4, TOMs §4). The cookie carries `s1.<id>.<key>`: a 256-bit id, stored
 * only as its SHA-256, and a 256-bit key that wraps the session's unlocked user and tenant keys in
 * the row. A database dump lacks the key; a stolen cookie alone lacks the wrapped keys once the
 * session ended (the row's blob is deleted then). Idle and absolute limits come from the tenant.
 */

export const SESSION_COOKIE = 'mailrepo_session';
/** Re-authentication (password or second factor) is fresh for this long. */
export const REAUTH_WINDOW_MS = 10 * 60_000;
const LAST_SEEN_RESOLUTION_MS = 30_000;

export interface SessionInfo {
  idHash: Buffer;
  tenantId: string;
  userId: string;
  email: string;
  role: Role;
  /** Both factors done; false while only the password step has passed. */
  secondFactor: boolean;
  /** The user has a second factor enrolled (else the session may only enrol one). */
  enrolled: boolean;
  reauthAt: Date | null;
  createdAt: Date;
  /** Opened with the recovery key: a new password must be set before anything else. */
  mustSetPassword: boolean;
}

interface ParsedCookie {
  id: string;
  key: Buffer;
}

function parseCookie(value: string | undefined): ParsedCookie | undefined {
  const m = /^s1\.([A-Za-z0-9_-]{43})\.([A-Za-z0-9_-]{43})$/.exec(value ?? '');
  return m ? { id: m[1]!, key: Buffer.from(m[2]!, 'base64url') } : undefined;
}

function sealKeys(key: Buffer, tenantId: string, idHash: Buffer, s: UnlockedSession): Buffer {
  const plain = Buffer.alloc(4 + 64);
  plain.writeUInt32BE(s.tenantKeyVersion, 0);
  s.userPrivateKey.copy(plain, 4);
  s.tenantPrivateKey.copy(plain, 36);
  try {
    return wrap(key, bind.sessionKeys(tenantId, idHash.toString('hex')), plain);
  } finally {
    zeroize(plain);
  }
}

/** A new session row in `tx`; returns the cookie value (the only place its key exists). */
export async function createSession(
  tx: TenantTx,
  input: {
    unlocked: UnlockedSession;
    ip?: string;
    userAgent?: string;
    secondFactor: boolean;
    mustSetPassword?: boolean;
  },
): Promise<string> {
  const id = randomBytes(32).toString('base64url');
  const key = randomBytes(32);
  const idHash = tokenHash(id);
  const { tenantId, userId } = input.unlocked;
  await tx
    .insertInto('sessions')
    .values({
      id_hash: idHash,
      tenant_id: tenantId,
      user_id: userId,
      sealed_keys: sealKeys(key, tenantId, idHash, input.unlocked),
      ip: input.ip ?? null,
      user_agent: input.userAgent?.slice(0, 400) ?? null,
      second_factor_at: input.secondFactor ? new Date() : null,
      reauth_at: new Date(),
      must_set_password: input.mustSetPassword ?? false,
    })
    .execute();
  return `s1.${id}.${key.toString('base64url')}`;
}

export type SessionLookup =
  | { status: 'none' }
  | {
      status: 'expired';
      reason: 'idle-timeout' | 'absolute-limit';
      /** When it ran out, and the tenant's limit that ended it (minutes idle or hours in all). */
      at?: Date;
      limit?: number;
    }
  | { status: 'active'; session: SessionInfo; cookie: string };

/**
 * The session named by the cookie, if it is live. An idle or too old session is ended here (with
 * its audit event) and reported as expired, as is one the sweep already ended for that reason; an
 * active one has `last_seen_at` refreshed.
 */
export async function readSession(
  db: Db,
  cookie: string | undefined,
  now = new Date(),
): Promise<SessionLookup> {
  const parsed = parseCookie(cookie);
  if (!parsed) return { status: 'none' };
  const idHash = tokenHash(parsed.id);
  const tenant = await sql<{ t: string | null }>`SELECT session_tenant(${idHash}) AS t`.execute(db);
  const tenantId = tenant.rows[0]?.t;
  if (!tenantId) {
    // The scheduled sweep may have ended it before the cookie came back: the user still learns
    // why they have to sign in again.
    const ended = await sql<{
      reason: string;
      expired_at: Date;
      idle_minutes: number;
      absolute_hours: number;
    }>`SELECT * FROM timed_out_session_facts(${idHash})`.execute(db);
    const e = ended.rows[0];
    if (e?.reason === 'idle-timeout')
      return { status: 'expired', reason: e.reason, at: e.expired_at, limit: e.idle_minutes };
    if (e?.reason === 'absolute-limit')
      return { status: 'expired', reason: e.reason, at: e.expired_at, limit: e.absolute_hours };
    return { status: 'none' };
  }
  return withTenant(db, tenantId, async (tx) => {
    const row = await tx
      .selectFrom('sessions')
      .innerJoin('users', 'users.id', 'sessions.user_id')
      .innerJoin('tenants', 'tenants.id', 'sessions.tenant_id')
      .select([
        'sessions.user_id',
        'sessions.created_at',
        'sessions.last_seen_at',
        'sessions.second_factor_at',
        'sessions.reauth_at',
        'sessions.must_set_password',
        'users.email',
        'users.role',
        'users.disabled_at',
        'users.totp_enrolled_at',
        (eb) =>
          eb
            .exists(
              eb.selectFrom('passkeys').select('id').whereRef('passkeys.user_id', '=', 'users.id'),
            )
            .as('has_passkey'),
        'tenants.session_idle_minutes',
        'tenants.session_absolute_hours',
      ])
      .where('sessions.id_hash', '=', idHash)
      .where('sessions.ended_at', 'is', null)
      .executeTakeFirst();
    if (!row) return { status: 'none' } as const;
    const idle = now.getTime() - row.last_seen_at.getTime() > row.session_idle_minutes * 60_000;
    const old = now.getTime() - row.created_at.getTime() > row.session_absolute_hours * 3_600_000;
    if (idle || old || row.disabled_at) {
      const reason = idle ? 'idle-timeout' : old ? 'absolute-limit' : 'user-disabled';
      await endSessionTx(tx, tenantId, idHash, reason, { type: 'system' });
      if (row.disabled_at) return { status: 'none' } as const;
      return idle
        ? ({
            status: 'expired',
            reason: 'idle-timeout',
            at: new Date(row.last_seen_at.getTime() + row.session_idle_minutes * 60_000),
            limit: row.session_idle_minutes,
          } as const)
        : ({
            status: 'expired',
            reason: 'absolute-limit',
            at: new Date(row.created_at.getTime() + row.session_absolute_hours * 3_600_000),
            limit: row.session_absolute_hours,
          } as const);
    }
    // At most one write per 30 s per session: the idle limit is counted in minutes.
    if (now.getTime() - row.last_seen_at.getTime() > LAST_SEEN_RESOLUTION_MS)
      await tx
        .updateTable('sessions')
        .set({ last_seen_at: now })
        .where('id_hash', '=', idHash)
        .execute();
    return {
      status: 'active',
      cookie: cookie!,
      session: {
        idHash,
        tenantId,
        userId: row.user_id,
        email: row.email,
        role: row.role,
        secondFactor: row.second_factor_at !== null,
        // Enrolled: a TOTP app or a passkey (a user may start with either).
        enrolled: row.totp_enrolled_at !== null || !!row.has_passkey,
        reauthAt: row.reauth_at,
        createdAt: row.created_at,
        mustSetPassword: row.must_set_password,
      },
    } as const;
  });
}

/**
 * Ends every session past its idle or absolute limit, in every tenant, destroying its sealed keys
 * (issue 17 §5): run by the scheduled `sessionSweep`, so keys do not outlive their session just
 * because its cookie never returns. Each end is audited like one noticed at a request.
 */
export async function sweepExpiredSessions(db: Db, now = new Date(), batch = 500): Promise<number> {
  let ended = 0;
  for (;;) {
    const due = await sql<{ tenant_id: string; id_hash: Buffer; reason: EndReason }>`
      SELECT * FROM expired_sessions(${now}, ${batch})`.execute(db);
    for (const s of due.rows)
      if (
        await withTenant(db, s.tenant_id, (tx) =>
          endSessionTx(tx, s.tenant_id, s.id_hash, s.reason, { type: 'system' }),
        )
      )
        ended++;
    if (due.rows.length < batch) return ended;
  }
}

/** The session's unlocked keys (caller zeroizes with `lock`). */
export async function unlockedKeys(
  tx: TenantTx,
  session: SessionInfo,
  cookie: string,
): Promise<UnlockedSession> {
  const parsed = parseCookie(cookie);
  if (!parsed) throw new Error('not a session cookie');
  const row = await tx
    .selectFrom('sessions')
    .select('sealed_keys')
    .where('id_hash', '=', session.idHash)
    .where('ended_at', 'is', null)
    .executeTakeFirstOrThrow();
  const plain = unwrap(
    parsed.key,
    bind.sessionKeys(session.tenantId, session.idHash.toString('hex')),
    row.sealed_keys,
  );
  try {
    return {
      tenantId: session.tenantId,
      userId: session.userId,
      role: session.role,
      tenantKeyVersion: plain.readUInt32BE(0),
      userPrivateKey: Buffer.from(plain.subarray(4, 36)),
      tenantPrivateKey: Buffer.from(plain.subarray(36, 68)),
    };
  } finally {
    zeroize(plain);
  }
}

export type EndReason =
  'logout' | 'revoked' | 'idle-timeout' | 'absolute-limit' | 'user-disabled' | 'replaced';

/** Ends a session and destroys its wrapped keys; audited as revoked or expired. */
export async function endSessionTx(
  tx: TenantTx,
  tenantId: string,
  idHash: Buffer,
  reason: EndReason,
  actor: { type: 'user'; id: string } | { type: 'system' },
  ip?: string,
): Promise<boolean> {
  const ended = await tx
    .updateTable('sessions')
    .set({ ended_at: new Date(), end_reason: reason, sealed_keys: Buffer.alloc(0) })
    .where('id_hash', '=', idHash)
    .where('ended_at', 'is', null)
    .returning('user_id')
    .executeTakeFirst();
  if (!ended) return false;
  // A login's half-finished session replaced by the full one is not an event of its own.
  if (reason === 'replaced') return true;
  const timedOut = reason === 'idle-timeout' || reason === 'absolute-limit';
  const event = timedOut
    ? ({ action: 'session.expired' } as const)
    : ({ action: 'session.revoked' } as const);
  await recordAudit(tx, tenantId, {
    ...event,
    actor,
    ip,
    target: { type: 'session', id: idHash.toString('hex').slice(0, 16) },
    details: { reason, user: ended.user_id },
  });
  return true;
}

export interface SessionListing {
  /** The id's SHA-256 (hex): names the session in forms; grants nothing. */
  ref: string;
  current: boolean;
  /** Signed in with the password only: the second factor was never given (a half-done login). */
  passwordOnly: boolean;
  ip: string | null;
  userAgent: string | null;
  createdAt: Date;
  lastSeenAt: Date;
}

/**
 * The user's live sessions, newest activity first — half-finished logins (password given, second
 * factor not) too (issue 17 §4): someone who knows the password shows up here and can be ended.
 */
export async function listSessions(db: Db, session: SessionInfo): Promise<SessionListing[]> {
  const rows = await withTenant(db, session.tenantId, (tx) =>
    tx
      .selectFrom('sessions')
      .select(['id_hash', 'ip', 'user_agent', 'created_at', 'last_seen_at', 'second_factor_at'])
      .where('user_id', '=', session.userId)
      .where('ended_at', 'is', null)
      .orderBy('last_seen_at', 'desc')
      .execute(),
  );
  return rows.map((r) => ({
    ref: r.id_hash.toString('hex'),
    current: r.id_hash.equals(session.idHash),
    passwordOnly: !r.second_factor_at,
    ip: r.ip,
    userAgent: r.user_agent,
    createdAt: r.created_at,
    lastSeenAt: r.last_seen_at,
  }));
}

/**
 * Ends the user's own sessions: the one named by `ref`, or with `ref` 'others' every one but the
 * current. Sessions of another user (or tenant) are not found: RLS and the user filter.
 */
export async function revokeSessions(
  db: Db,
  session: SessionInfo,
  ref: string,
  ip: string,
): Promise<number> {
  const actor = { type: 'user' as const, id: session.userId };
  if (ref === 'others')
    return withTenant(db, session.tenantId, (tx) =>
      endUserSessionsTx(tx, session.tenantId, session.userId, actor, ip, session.idHash),
    );
  if (!/^[0-9a-f]{64}$/.test(ref)) return 0;
  return withTenant(db, session.tenantId, async (tx) => {
    const own = await tx
      .selectFrom('sessions')
      .select('id_hash')
      .where('user_id', '=', session.userId)
      .where('id_hash', '=', Buffer.from(ref, 'hex'))
      .executeTakeFirst();
    return own && (await endSessionTx(tx, session.tenantId, own.id_hash, 'revoked', actor, ip))
      ? 1
      : 0;
  });
}

/** Ends every live session of `userId` (but `except`), each audited as revoked; returns how many. */
export async function endUserSessionsTx(
  tx: TenantTx,
  tenantId: string,
  userId: string,
  actor: { type: 'user'; id: string },
  ip: string,
  except?: Buffer,
): Promise<number> {
  let q = tx
    .selectFrom('sessions')
    .select('id_hash')
    .where('user_id', '=', userId)
    .where('ended_at', 'is', null);
  if (except) q = q.where('id_hash', '!=', except);
  let n = 0;
  for (const r of await q.execute())
    if (await endSessionTx(tx, tenantId, r.id_hash, 'revoked', actor, ip)) n++;
  return n;
}

/** The tenant's session limits (shown on the sessions page). */
export async function sessionLimits(db: Db, session: SessionInfo) {
  const t = await withTenant(db, session.tenantId, (tx) =>
    tx
      .selectFrom('tenants')
      .select(['session_idle_minutes', 'session_absolute_hours'])
      .where('id', '=', session.tenantId)
      .executeTakeFirstOrThrow(),
  );
  return { idleMinutes: t.session_idle_minutes, absoluteHours: t.session_absolute_hours };
}
