import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { ListObjectsV2Command } from '@aws-sdk/client-s3';
import { sql } from 'kysely';
import { CryptoError } from '../../lib/crypto/errors';
import { generateKeyPair } from '../../lib/crypto/x25519';
import { createDb, type Db } from '../../lib/db';
import { adminDatabaseUrl } from '../helpers/admin-db';
import { withTenant } from '../../lib/db/tenant-scope';
import { createS3, getObjectBytes, putObject } from '../../lib/storage/s3';
import {
  addMember,
  changePassword,
  createTenant,
  currentEpochPublicKey,
  lock,
  recoverAccess,
  rotateTenantKey,
  unlock,
  unlockEpoch,
  VaultError,
  type UnlockedSession,
} from '../../lib/vault';
import { decryptMail, encryptMail } from '../../lib/vault/mail-envelope';
import { stackConfig } from '../helpers/stack-env';

const FAST = { memoryKiB: 8 * 1024, iterations: 1, parallelism: 1 };
const cfg = stackConfig();
const s3 = createS3(cfg);
let db: Db;

beforeAll(() => {
  db = createDb(cfg.DATABASE_URL, 4);
});
afterAll(async () => {
  await db.destroy();
  s3.destroy();
});

async function failure(p: Promise<unknown>): Promise<unknown> {
  return p.then(
    () => undefined,
    (e: unknown) => e,
  );
}

/** What ingest does: no session, no private key; ciphertext and sealed DEK land in MinIO. */
async function ingest(tenantId: string, text: string) {
  const messageId = randomUUID();
  const epoch = await currentEpochPublicKey(db, { tenantId, retentionClass: 'default' });
  const { sealedDek, body } = encryptMail(epoch, tenantId, messageId);
  const out: Buffer[] = [];
  await pipeline(
    Readable.from([Buffer.from(text)]),
    body,
    new Writable({
      write(c: Buffer, _e, cb) {
        out.push(c);
        cb();
      },
    }),
  );
  const prefix = `tenants/${tenantId}/mail/${messageId}`;
  await putObject(s3, cfg.S3_BUCKET, `${prefix}/body`, Buffer.concat(out));
  await putObject(s3, cfg.S3_BUCKET, `${prefix}/dek`, sealedDek);
  return { messageId, epochId: epoch.epochId, prefix };
}

async function read(
  session: UnlockedSession,
  mail: { messageId: string; epochId: string; prefix: string },
): Promise<string> {
  const epoch = await unlockEpoch(db, session, mail.epochId);
  const body = await getObjectBytes(s3, cfg.S3_BUCKET, `${mail.prefix}/body`);
  const dek = await getObjectBytes(s3, cfg.S3_BUCKET, `${mail.prefix}/dek`);
  const out: Buffer[] = [];
  await pipeline(
    Readable.from([Buffer.from(body)]),
    decryptMail(epoch, session.tenantId, mail.messageId, dek),
    new Writable({
      write(c: Buffer, _e, cb) {
        out.push(c);
        cb();
      },
    }),
  );
  epoch.privateKey.fill(0);
  return Buffer.concat(out).toString();
}

describe('key vault on PostgreSQL and MinIO', () => {
  const MAIL = `Subject: Jahresabschluss\r\n\r\nStreng vertraulich ${randomUUID()}`;
  const admin = { email: 'chefin@kunde.example', password: 'erstes Passwort 2026!' };

  it('keeps mail unreadable with everything but the password and the recovery key', async () => {
    const t = await createTenant(db, { name: 'Kunde GmbH', admin, argon2: FAST });
    expect(t.recoveryKey).toMatch(/^([0-9A-Z]{5}-){10}[0-9A-Z]{5}$/);
    const mail = await ingest(t.tenantId, MAIL);

    // What an operator has: a full database dump and every object of the tenant.
    const dump = execFileSync('pg_dump', ['--data-only', adminDatabaseUrl(cfg)], {
      maxBuffer: 256 * 1024 * 1024,
    });
    const listed = await s3.send(
      new ListObjectsV2Command({ Bucket: cfg.S3_BUCKET, Prefix: `tenants/${t.tenantId}/` }),
    );
    const objects = await Promise.all(
      (listed.Contents ?? []).map((o) => getObjectBytes(s3, cfg.S3_BUCKET, o.Key!)),
    );
    expect(objects).toHaveLength(2);
    const atRest = Buffer.concat([dump, ...objects.map((o) => Buffer.from(o))]);

    // With the password, the keys the dump would need are recovered in memory only...
    const session = await unlock(db, { tenantId: t.tenantId, ...admin, argon2: FAST });
    const epoch = await unlockEpoch(db, session, mail.epochId);
    const secrets = [
      session.userPrivateKey,
      session.tenantPrivateKey,
      epoch.privateKey,
      epoch.indexKey,
    ];
    // ...and none of them, nor the mail or the password, appears at rest in any encoding.
    for (const needle of [
      Buffer.from(MAIL.slice(-36)),
      Buffer.from('Jahresabschluss'),
      Buffer.from(admin.password),
    ]) {
      expect(atRest.includes(needle)).toBe(false);
    }
    for (const key of secrets) {
      for (const enc of [
        key,
        Buffer.from(key.toString('hex')),
        Buffer.from(key.toString('base64')),
      ]) {
        expect(atRest.includes(enc)).toBe(false);
      }
    }
    expect(atRest.includes(Buffer.from(t.recoveryKey))).toBe(false);
    expect(await read(session, mail)).toBe(MAIL);
    lock(session);
    expect(session.tenantPrivateKey.every((b) => b === 0)).toBe(true);
  });

  it('changes the password by re-wrapping only, and recovers access with the recovery key', async () => {
    const t = await createTenant(db, { name: 'Wechsel AG', admin, argon2: FAST });
    const mail = await ingest(t.tenantId, MAIL);
    const before = await withTenant(db, t.tenantId, (tx) =>
      tx.selectFrom('users').selectAll().executeTakeFirstOrThrow(),
    );
    const grantsBefore = await withTenant(db, t.tenantId, (tx) =>
      tx.selectFrom('tenant_key_grants').selectAll().execute(),
    );

    await changePassword(db, {
      tenantId: t.tenantId,
      email: admin.email,
      currentPassword: admin.password,
      newPassword: 'zweites Passwort 2026!',
      argon2: FAST,
    });
    expect(
      await failure(unlock(db, { tenantId: t.tenantId, ...admin, argon2: FAST })),
    ).toMatchObject({ failure: 'wrong-password' });
    const s2 = await unlock(db, {
      tenantId: t.tenantId,
      email: admin.email,
      password: 'zweites Passwort 2026!',
      argon2: FAST,
    });
    expect(await read(s2, mail)).toBe(MAIL);

    const after = await withTenant(db, t.tenantId, (tx) =>
      tx.selectFrom('users').selectAll().executeTakeFirstOrThrow(),
    );
    expect(after.public_key.equals(before.public_key)).toBe(true);
    expect(after.recovery_sealed_private_key.equals(before.recovery_sealed_private_key)).toBe(true);
    expect(after.wrapped_private_key.equals(before.wrapped_private_key)).toBe(false);
    expect(after.password_salt.equals(before.password_salt)).toBe(false);
    expect(
      await withTenant(db, t.tenantId, (tx) =>
        tx.selectFrom('tenant_key_grants').selectAll().execute(),
      ),
    ).toEqual(grantsBefore);

    // Forgot it: the recovery key (typed sloppily) restores access under a third password.
    const sloppy = t.recoveryKey.toLowerCase().replace(/-/g, ' ');
    await recoverAccess(db, {
      tenantId: t.tenantId,
      email: admin.email,
      recoveryKey: sloppy,
      newPassword: 'drittes Passwort 2026!',
      argon2: FAST,
    });
    const s3rd = await unlock(db, {
      tenantId: t.tenantId,
      email: admin.email,
      password: 'drittes Passwort 2026!',
      argon2: FAST,
    });
    expect(await read(s3rd, mail)).toBe(MAIL);

    const other = await createTenant(db, { name: 'Andere KG', admin, argon2: FAST });
    expect(
      await failure(
        recoverAccess(db, {
          tenantId: t.tenantId,
          email: admin.email,
          recoveryKey: other.recoveryKey,
          newPassword: 'viertes Passwort 2026!',
          argon2: FAST,
        }),
      ),
    ).toMatchObject({ failure: 'bad-recovery-key' });
  });

  it('fails a wrong password and an unknown address alike', async () => {
    const t = await createTenant(db, { name: 'Login GmbH', admin, argon2: FAST });
    const wrong = await failure(
      unlock(db, {
        tenantId: t.tenantId,
        email: admin.email,
        password: 'falsches Passwort!!',
        argon2: FAST,
      }),
    );
    const unknown = await failure(
      unlock(db, {
        tenantId: t.tenantId,
        email: 'niemand@kunde.example',
        password: 'x',
        argon2: FAST,
      }),
    );
    expect(wrong).toBeInstanceOf(CryptoError);
    expect(unknown).toBeInstanceOf(CryptoError);
    expect((wrong as Error).message).toBe((unknown as Error).message);
  });

  it('upgrades Argon2 parameters at login when the configured ones grow', async () => {
    const t = await createTenant(db, { name: 'Upgrade GmbH', admin, argon2: FAST });
    const stronger = { memoryKiB: 16 * 1024, iterations: 2, parallelism: 1 };
    await unlock(db, { tenantId: t.tenantId, ...admin, argon2: stronger });
    const row = await withTenant(db, t.tenantId, (tx) =>
      tx.selectFrom('users').selectAll().executeTakeFirstOrThrow(),
    );
    expect([row.argon2_memory_kib, row.argon2_iterations]).toEqual([16 * 1024, 2]);
    await expect(
      unlock(db, { tenantId: t.tenantId, ...admin, argon2: stronger }),
    ).resolves.toMatchObject({ userId: t.adminUserId });
  });

  it('adds members only through an unlocked admin, and rotation removes a former member', async () => {
    const t = await createTenant(db, { name: 'Team GmbH', admin, argon2: FAST });
    const mail = await ingest(t.tenantId, MAIL);
    const adminSession = await unlock(db, { tenantId: t.tenantId, ...admin, argon2: FAST });
    const bob = {
      email: 'bob@kunde.example',
      password: 'Bobs Passwort 2026!',
      role: 'member' as const,
    };
    const eve = {
      email: 'eve@kunde.example',
      password: 'Eves Passwort 2026!',
      role: 'member' as const,
    };
    const bobId = await addMember(db, adminSession, bob, FAST);
    const eveId = await addMember(db, adminSession, eve, FAST);
    const bobSession = await unlock(db, { tenantId: t.tenantId, ...bob, argon2: FAST });
    expect(await read(bobSession, mail)).toBe(MAIL);
    expect(
      await failure(
        addMember(db, bobSession, {
          email: 'x@kunde.example',
          password: 'irgendein Passwort!',
          role: 'member',
        }),
      ),
    ).toBeInstanceOf(VaultError);

    const rotated = await rotateTenantKey(db, adminSession, { removeUserIds: [eveId] });
    expect(rotated.tenantKeyVersion).toBe(2);
    expect(await read(rotated, mail)).toBe(MAIL);
    const bobAgain = await unlock(db, { tenantId: t.tenantId, ...bob, argon2: FAST });
    expect(await read(bobAgain, mail)).toBe(MAIL);
    expect(
      await failure(unlock(db, { tenantId: t.tenantId, ...eve, argon2: FAST })),
    ).toBeInstanceOf(CryptoError);
    // Eve's old session holds the version-1 tenant key, which opens nothing any more.
    const eveOld = { ...bobSession, userId: eveId };
    expect(await failure(unlockEpoch(db, eveOld, mail.epochId))).toBeInstanceOf(Error);
    const grants = await withTenant(db, t.tenantId, (tx) =>
      tx.selectFrom('tenant_key_grants').select(['user_id', 'key_version']).execute(),
    );
    expect(grants.map((g) => g.key_version)).toEqual([2, 2]);
    expect(grants.map((g) => g.user_id).sort()).toEqual([t.adminUserId, bobId].sort());
    // New mail after rotation is sealed under the new tenant key too.
    const later = await ingest(t.tenantId, 'nach der Rotation');
    expect(await read(bobAgain, later)).toBe('nach der Rotation');
  });

  it('detects a substituted epoch public key at unlock', async () => {
    const t = await createTenant(db, { name: 'Angriff GmbH', admin, argon2: FAST });
    const { epochId } = await currentEpochPublicKey(db, {
      tenantId: t.tenantId,
      retentionClass: 'default',
    });
    // An attacker with database access swaps in their own public key, so ingest would encrypt to them.
    const attacker = createDb(adminDatabaseUrl(cfg), 1);
    await attacker
      .updateTable('epochs')
      .set({ public_key: generateKeyPair().publicKey })
      .where('id', '=', epochId)
      .execute();
    await attacker.destroy();
    const session = await unlock(db, { tenantId: t.tenantId, ...admin, argon2: FAST });
    expect(await failure(unlockEpoch(db, session, epochId))).toMatchObject({
      failure: 'key-mismatch',
    });
  });

  it('creates one epoch per tenant, retention class and month, even under concurrency', async () => {
    const t = await createTenant(db, { name: 'Parallel GmbH', admin, argon2: FAST });
    const now = new Date('2026-11-15T12:00:00Z');
    const keys = await Promise.all(
      Array.from({ length: 6 }, () =>
        currentEpochPublicKey(db, { tenantId: t.tenantId, retentionClass: 'default', now }),
      ),
    );
    expect(new Set(keys.map((k) => k.epochId)).size).toBe(1);
    const dec = await currentEpochPublicKey(db, {
      tenantId: t.tenantId,
      retentionClass: 'default',
      now: new Date('2026-12-01T00:00:00Z'),
    });
    const tenYears = await currentEpochPublicKey(db, {
      tenantId: t.tenantId,
      retentionClass: 'hgb-10y',
      now,
    });
    expect(new Set([keys[0]!.epochId, dec.epochId, tenYears.epochId]).size).toBe(3);
  });

  it('keeps tenants apart in the application and in PostgreSQL row-level security', async () => {
    const a = await createTenant(db, { name: 'A GmbH', admin, argon2: FAST });
    const b = await createTenant(db, { name: 'B GmbH', admin, argon2: FAST });
    const mailB = await ingest(b.tenantId, MAIL);
    const sessionA = await unlock(db, { tenantId: a.tenantId, ...admin, argon2: FAST });
    // A's session asking for B's epoch finds nothing.
    expect(await failure(unlockEpoch(db, sessionA, mailB.epochId))).toBeInstanceOf(VaultError);
    // Even a query without any WHERE sees only the scoped tenant's rows...
    const users = await withTenant(db, a.tenantId, (tx) =>
      sql<{ tenant_id: string }>`SELECT tenant_id FROM users`.execute(tx),
    );
    expect(new Set(users.rows.map((r) => r.tenant_id))).toEqual(new Set([a.tenantId]));
    // ...cannot write into another tenant...
    expect(
      await failure(
        withTenant(db, a.tenantId, (tx) =>
          tx
            .updateTable('epochs')
            .set({ shredded_at: new Date() })
            .where('id', '=', mailB.epochId)
            .execute()
            .then((r) => {
              if (Number(r[0]?.numUpdatedRows) !== 0) throw new Error('updated another tenant');
              return sql`INSERT INTO tenant_key_grants (tenant_id, user_id, key_version, sealed_private_key) VALUES (${b.tenantId}, ${b.adminUserId}, 99, '\\x00')`.execute(
                tx,
              );
            }),
        ),
      ),
    ).toMatchObject({ message: expect.stringMatching(/row-level security/) });
    // ...and without a tenant set, the application role sees nothing at all.
    const none = await db.transaction().execute(async (tx) => {
      await sql`SET LOCAL ROLE mailrepo_app`.execute(tx);
      return sql`SELECT id FROM tenants`.execute(tx);
    });
    expect(none.rows).toEqual([]);
    // A's session cannot open B's sealed DEK either: its keys are different keys.
    const epochA = await unlockEpoch(
      db,
      sessionA,
      (await currentEpochPublicKey(db, { tenantId: a.tenantId, retentionClass: 'default' }))
        .epochId,
    );
    const dekB = await getObjectBytes(s3, cfg.S3_BUCKET, `${mailB.prefix}/dek`);
    expect(() =>
      decryptMail({ ...epochA, epochId: mailB.epochId }, b.tenantId, mailB.messageId, dekB),
    ).toThrow(CryptoError);
  });
});
