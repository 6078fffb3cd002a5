import { randomUUID } from 'node:crypto';
import { enrolTotp, passwordStep } from '../../lib/auth/login';
import { findInvite, inviteState } from '../../lib/auth/invites';
import { tokenHash } from '../../lib/auth/tokens';
import { acceptResetLink, issueResetLink } from '../../lib/auth/reset-links';
import { createSession, readSession, type SessionInfo } from '../../lib/auth/sessions';
import { newTotpSecret, totpCodeAt } from '../../lib/auth/totp';
import { createDb, type Db } from '../../lib/db';
import { withTenant } from '../../lib/db/tenant-scope';
import { createTenant, lock, unlock } from '../../lib/vault';
import { insertUser } from '../../lib/vault/users';
import { adminDb } from '../helpers/admin-db';
import { FAST_ARGON2 } from '../helpers/ledger';
import { stackConfig } from '../helpers/stack-env';
import { PASSWORD_COLUMNS, tenantSnapshot } from '../helpers/tenant-snapshot';

/**
 * Issue 21 §3: an owner or admin issues a reset link for a user who forgot the password or lost
 * the second factor. Who may reset whom follows docs/permissions.md; the user's sessions end at
 * once; opening the link gives the user a new password and key pair, destroys the old wrappings,
 * grant, TOTP secret, recovery codes and (if chosen) passkeys, and changes nothing else of the
 * tenant; the new key opens the same tenant key; a link works once, a newer one revokes an older
 * one, and a rotation under way makes the user wait without spending the link.
 */
const cfg = stackConfig();
const dba = adminDb(cfg);
let db: Db;
beforeAll(() => {
  db = createDb(cfg.DATABASE_URL, 2);
});
afterAll(async () => {
  await db.destroy();
  await dba.destroy();
});

const PASSWORD = 'Das alte Passwort des Mitglieds';
const NEW = 'Ein neues Passwort nach dem Zurücksetzen';
const ip = '203.0.113.7';
const argon2 = FAST_ARGON2;

/** A signed-in (both factors) session of `email`, as the users page would hold it. */
async function fullSession(tenantId: string, email: string) {
  const unlocked = await unlock(db, { tenantId, email, password: PASSWORD, argon2 });
  const cookie = await withTenant(db, tenantId, (tx) =>
    createSession(tx, { unlocked, ip, secondFactor: true }),
  );
  lock(unlocked);
  const r = await readSession(db, cookie);
  if (r.status !== 'active') throw new Error('no session');
  return { session: r.session, cookie };
}

async function tenantWithStaff() {
  const name = `ruecksetzen-${randomUUID().slice(0, 8)}`;
  const owner = `inhaber@${name}.example`;
  const t = await createTenant(db, {
    name,
    admin: { email: owner, password: PASSWORD },
    adminRole: 'owner',
    argon2,
  });
  const unlocked = await unlock(db, { tenantId: t.tenantId, email: owner, password: PASSWORD, argon2 }); // prettier-ignore
  const tenantKey = Buffer.from(unlocked.tenantPrivateKey);
  const ids: Record<string, string> = {};
  await withTenant(db, t.tenantId, async (tx) => {
    const k = await tx.selectFrom('tenants').select(['key_version', 'recovery_public_key']).executeTakeFirstOrThrow(); // prettier-ignore
    for (const [who, role] of [
      ['admin', 'admin'],
      ['mitglied', 'member'],
      ['zweite', 'owner'],
    ] as const)
      // prettier-ignore
      ids[who] = await insertUser(
        tx,
        { tenantId: t.tenantId, keyVersion: k.key_version, tenantPrivateKey: unlocked.tenantPrivateKey, recoveryPublicKey: k.recovery_public_key }, // prettier-ignore
        { email: `${who}@${name}.example`, password: PASSWORD, role },
        argon2,
      );
  });
  lock(unlocked);
  const member = `mitglied@${name}.example`;
  // The member enrols a TOTP app (and so gets recovery codes) and registers a passkey.
  const first = await passwordStep(db, { email: member, password: PASSWORD, ip, argon2 });
  if (first.kind !== 'ok') throw new Error('login failed');
  const pending = await readSession(db, first.cookie);
  if (pending.status !== 'active') throw new Error('no session');
  const secret = newTotpSecret();
  const enrolled = await enrolTotp(db, pending.session, first.cookie, { secret, code: totpCodeAt(secret, Date.now()), ip }); // prettier-ignore
  if (enrolled.kind !== 'ok') throw new Error('enrolment failed');
  await dba
    .insertInto('passkeys')
    .values({
      id: `pk-${randomUUID()}`,
      tenant_id: t.tenantId,
      user_id: ids.mitglied!,
      public_key: Buffer.from('not a real key'),
      counter: 0,
      transports: [],
      name: 'Laptop',
    }) // prettier-ignore
    .execute();
  return {
    ...t,
    name,
    ids,
    tenantKey,
    memberEmail: member,
    memberCookie: enrolled.cookie,
    owner: await fullSession(t.tenantId, owner),
    admin: await fullSession(t.tenantId, `admin@${name}.example`),
  };
}

const issue = (
  by: { session: SessionInfo; cookie: string },
  userId: string,
  removePasskeys = true,
) => issueResetLink(db, by.session, by.cookie, { userId, removePasskeys, ip });

const count = async (table: 'passkeys' | 'recovery_codes' | 'tenant_key_grants', userId: string) =>
  (await dba.selectFrom(table).select('user_id').where('user_id', '=', userId).execute()).length;

describe('reset links', () => {
  it('follow the rules of who may reset whom', async () => {
    const t = await tenantWithStaff();
    await expect(issue(t.admin, t.ids.zweite!)).rejects.toThrow('users.error.ownersOnly');
    await expect(issue(t.admin, t.admin.session.userId)).rejects.toThrow('users.error.self');
    await expect(issue(t.owner, t.owner.session.userId)).rejects.toThrow('users.error.self');
    // Another tenant's user is not found (row-level security, not only the check above).
    const other = await tenantWithStaff();
    await expect(issue(t.admin, other.ids.mitglied!)).rejects.toThrow('users.error.noSuchUser');
    // An owner resets another owner.
    expect((await issue(t.owner, t.ids.zweite!)).token).toMatch(/^[A-Za-z0-9_-]{43}$/);
  }, 60_000);

  it('give the user new keys and destroy the old factors, changing nothing else', async () => {
    const t = await tenantWithStaff();
    const userId = t.ids.mitglied!;
    expect(await count('passkeys', userId)).toBe(1);
    expect(await count('recovery_codes', userId)).toBe(10);

    const first = await issue(t.admin, userId);
    // The member's session ended at once; a second link revokes the first.
    expect((await readSession(db, t.memberCookie)).status).toBe('none');
    const link = await issue(t.admin, userId);
    expect(await findInvite(db, first.token)).toBeUndefined();
    expect((await findInvite(db, link.token))?.resetUserId).toBe(userId);
    // Its holder is told why the first no longer works (issue 25 §3).
    expect((await inviteState(db, first.token))?.state).toBe('revoked');
    expect((await inviteState(db, link.token))?.state).toBe('open');
    expect(await inviteState(db, 'A'.repeat(43))).toBeUndefined();

    // What the user's reset may change: their key columns, grant, factors and the spent link.
    const userColumns = [...PASSWORD_COLUMNS, 'public_key', 'recovery_sealed_private_key', 'totp_sealed_secret', 'totp_last_step', 'totp_enrolled_at']; // prettier-ignore
    const snapshot = async () => {
      const s = await tenantSnapshot(dba, t.tenantId, userColumns);
      for (const table of ['tenant_key_grants', 'recovery_codes', 'passkeys', 'invites'])
        s.set(table, s.get(table)!.filter((row) => !row.includes(userId) && !row.includes('"reset_user_id"')) ); // prettier-ignore
      return s;
    };
    const before = await snapshot();
    const keyBefore = await dba.selectFrom('users').select('public_key').where('id', '=', userId).executeTakeFirstOrThrow(); // prettier-ignore

    // A rotation under way (its next grant sealed to the old key): wait, the link stays good.
    const k = await dba.selectFrom('tenants').select('key_version').where('id', '=', t.tenantId).executeTakeFirstOrThrow(); // prettier-ignore
    await dba.insertInto('tenant_key_grants').values({ tenant_id: t.tenantId, user_id: userId, key_version: k.key_version + 1, sealed_private_key: Buffer.alloc(80) }).execute(); // prettier-ignore
    await expect(acceptResetLink(db, { token: link.token, password: NEW, ip, argon2 })).rejects.toThrow('invite.rotationRunning'); // prettier-ignore
    await dba.deleteFrom('tenant_key_grants').where('user_id', '=', userId).where('key_version', '>', k.key_version).execute(); // prettier-ignore

    const { cookie } = await acceptResetLink(db, { token: link.token, password: NEW, ip, argon2 });
    const s = await readSession(db, cookie);
    expect(s.status === 'active' && s.session).toMatchObject({ secondFactor: false, enrolled: false }); // prettier-ignore
    await expect(acceptResetLink(db, { token: link.token, password: NEW, ip, argon2 })).rejects.toThrow('invite.invalid'); // prettier-ignore
    expect((await inviteState(db, link.token))?.state).toBe('used');
    await dba.updateTable('invites').set({ accepted_at: null, expires_at: new Date(Date.now() - 60_000) }).where('token_hash', '=', tokenHash(link.token)).execute(); // prettier-ignore
    expect(await inviteState(db, link.token)).toEqual({ state: 'expired', expiresAt: expect.any(Date) }); // prettier-ignore
    await dba.updateTable('invites').set({ accepted_at: new Date() }).where('token_hash', '=', tokenHash(link.token)).execute(); // prettier-ignore

    expect(await snapshot()).toEqual(before);
    const after = await dba.selectFrom('users').selectAll().where('id', '=', userId).executeTakeFirstOrThrow(); // prettier-ignore
    expect(after.public_key.equals(keyBefore.public_key)).toBe(false);
    expect(after).toMatchObject({ totp_sealed_secret: null, totp_enrolled_at: null, totp_last_step: null }); // prettier-ignore
    expect(await count('passkeys', userId)).toBe(0);
    expect(await count('recovery_codes', userId)).toBe(0);
    expect(await count('tenant_key_grants', userId)).toBe(1);

    // The new password opens the same tenant key through the new grant; the old one nothing.
    const withNew = await unlock(db, { tenantId: t.tenantId, email: t.memberEmail, password: NEW, argon2 }); // prettier-ignore
    expect(withNew.tenantPrivateKey.equals(t.tenantKey)).toBe(true);
    lock(withNew);
    await expect(unlock(db, { tenantId: t.tenantId, email: t.memberEmail, password: PASSWORD, argon2 })).rejects.toThrow(); // prettier-ignore

    const events = await dba
      .selectFrom('audit_events')
      .select(['action', 'actor_id', 'target_id'])
      .where('tenant_id', '=', t.tenantId)
      .where('action', 'in', ['user.reset_issued', 'user.reset_completed'])
      .orderBy('seq')
      .execute();
    expect(events).toEqual([
      { action: 'user.reset_issued', actor_id: t.admin.session.userId, target_id: userId },
      { action: 'user.reset_issued', actor_id: t.admin.session.userId, target_id: userId },
      { action: 'user.reset_completed', actor_id: userId, target_id: userId },
    ]);
  }, 60_000);

  it('keep the passkeys when the issuer says so: they serve as the second factor', async () => {
    const t = await tenantWithStaff();
    const userId = t.ids.mitglied!;
    const link = await issue(t.owner, userId, false);
    const { cookie } = await acceptResetLink(db, { token: link.token, password: NEW, ip, argon2 });
    const s = await readSession(db, cookie);
    expect(s.status === 'active' && s.session).toMatchObject({ secondFactor: false, enrolled: true }); // prettier-ignore
    expect(await count('passkeys', userId)).toBe(1);
    expect(await count('recovery_codes', userId)).toBe(0);
  }, 60_000);
});
