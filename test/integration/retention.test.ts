import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { GetObjectCommand, HeadObjectCommand } from '@aws-sdk/client-s3';
import { LmtpClient } from '../../infra/lmtp-client';
import { tsaRootsPem } from '../../lib/config';
import { createDb, type Db } from '../../lib/db';
import { dropDatabase, ensureDatabase } from '../../lib/db/migrate';
import { adminDatabaseUrl } from '../helpers/admin-db';
import { withTenant } from '../../lib/db/tenant-scope';
import { buildProofBundle } from '../../lib/proof/build-bundle';
import { verifyBundle } from '../../lib/proof/verify-bundle';
import { addRule, saveClass } from '../../lib/retention/classes';
import { releaseHold, setHold } from '../../lib/retention/holds';
import { defaultVaultUrl } from '../../lib/db/shred-keys';
import type { RetentionProgress } from '../../workflows/retention-sweep';
import { createLedgerActivities, ledgerSettings } from '../../activities/ledger';
import { createRetentionActivities } from '../../activities/retention';
import { MovableClock } from '../helpers/clock';
import {
  archiveTenant,
  crlf,
  decryptStored,
  openArchiveContext,
  readArchived,
  sealedMessages,
  sha256,
} from '../helpers/archive';
import { stackConfig } from '../helpers/stack-env';
import { runTestWorker } from '../helpers/worker';

/**
 * Issue 9 §2 through the real worker, LMTP, MinIO and vault: a one-minute retention class, a
 * legal hold that covers a mail set by search and one arriving later, a run that deletes only the
 * unheld mail, a release and a run that shreds the epoch — after which a copy of the database
 * and the object store taken before the shred, with the admin's password, opens nothing.
 */

const cfg = stackConfig();
const ADDRESS = 'journal@kurzlebig.example';

const mail = (from: string, subject: string) =>
  crlf(
    `From: <${from}>\nTo: <chefin@kurzlebig.example>\nSubject: ${subject}\n` +
      `Message-ID: <${randomUUID()}@kurzlebig.example>\nDate: Fri, 27 Nov 2026 08:00:00 +0100\n\n` +
      `Vertraulicher Inhalt ${randomUUID()}\n`,
  );

async function send(mails: Buffer[]) {
  const lmtp = await LmtpClient.connect(cfg.LMTP_PORT);
  try {
    for (const m of mails) {
      const d = await lmtp.send(m, 'journal@mta.example', [ADDRESS]);
      expect(d.data[ADDRESS]).toMatch(/^250/);
    }
  } finally {
    lmtp.close();
  }
}

const decrypt = async (
  db: Db,
  tenant: { tenantId: string; email: string },
  row: { id: string; epoch_id: string; sealed_dek: Buffer | null; body_epoch_id: string | null },
  ciphertext: Buffer,
) => (await decryptStored(db, tenant, row, ciphertext)).plaintext;

describe('retention and legal holds', () => {
  let ctx: Awaited<ReturnType<typeof openArchiveContext>>;
  // The copy is an administrator's (pg_dump reads behind row-level security).
  const copyUrl = (() => {
    const u = new URL(adminDatabaseUrl(cfg));
    u.pathname = `${u.pathname}_preshred`;
    return u.toString();
  })();
  // Retention runs on a worker of this test whose clock the test moves forward, instead of
  // sleeping until a one-minute class expires; workflows, database and storage are the real ones.
  const clock = new MovableClock();
  const taskQueue = `retention-${randomUUID()}`;
  let worker: { stop(): Promise<void> };
  beforeAll(async () => {
    ctx = await openArchiveContext(cfg);
    worker = await runTestWorker(cfg, taskQueue, {
      ...createRetentionActivities({ db: ctx.db, s3: ctx.s3, bucket: cfg.S3_BUCKET, clock }),
      ...createLedgerActivities({ db: ctx.db, ...ledgerSettings(cfg) }),
    });
  }, 120_000);
  afterAll(async () => {
    await worker?.stop();
    await ctx.close();
    await dropDatabase(copyUrl);
  });

  const run = (tenantId: string) =>
    ctx.temporal.workflow.execute('retentionRun', {
      workflowId: `retention-test-${tenantId}-${randomUUID()}`,
      taskQueue,
      args: [{ tenantId, trigger: 'manual' }],
    }) as Promise<RetentionProgress>;

  const rowsOf = (tenantId: string) =>
    withTenant(ctx.db, tenantId, (tx) =>
      tx
        .selectFrom('messages as m')
        .innerJoin('epochs as e', 'e.id', 'm.epoch_id')
        .select([
          'm.id',
          'm.sha256',
          'm.epoch_id',
          'm.body_epoch_id',
          'm.sealed_dek',
          'm.object_key',
          'm.deleted_at',
          'e.retention_class',
        ])
        .execute(),
    );

  const objectExists = (key: string) =>
    ctx.s3.send(new HeadObjectCommand({ Bucket: ctx.bucket, Key: key })).then(
      () => true,
      (e: { name?: string }) => (e.name === 'NotFound' ? false : Promise.reject(e)),
    );

  const objectBytes = async (key: string) => {
    const o = await ctx.s3.send(new GetObjectCommand({ Bucket: ctx.bucket, Key: key }));
    return Buffer.from(await o.Body!.transformToByteArray());
  };

  it('deletes unheld mail at the end of its class, keeps held mail, shreds the epoch on release', async () => {
    const t = await archiveTenant(ctx, 'Kurzlebig GmbH', ADDRESS);
    const actor = { tenantId: t.tenantId, userId: t.adminUserId };
    await saveClass(ctx.db, actor, { name: 'kurz', amount: 1, unit: 'minutes' });
    await addRule(ctx.db, actor, { pattern: '@kurz.example', className: 'kurz' });

    const gone1 = mail('a@kurz.example', 'Kurz eins');
    const held = mail('b@kurz.example', 'Kurz gehalten');
    const gone2 = mail('a@kurz.example', 'Kurz zwei');
    const normal = mail('c@lang.example', 'Zehn Jahre');
    await send([gone1, held, gone2, normal]);
    await sealedMessages(ctx, t, 4);
    let rows = await rowsOf(t.tenantId);
    const byHash = (m: Buffer) => rows.find((r) => r.sha256.equals(sha256(m)))!;
    expect(byHash(gone1).retention_class).toBe('kurz');
    expect(byHash(normal).retention_class).toBe('default');
    // The body was begun under the default epoch; the DEK is sealed to the class's epoch.
    expect(byHash(gone1).body_epoch_id).toBe(byHash(normal).epoch_id);
    expect((await readArchived(ctx, t, byHash(gone1).id)).plaintext.equals(gone1)).toBe(true);

    // A hold set now (resolved by the portal's search; here the result is given) …
    const hold = await setHold(
      ctx.db,
      actor,
      { query: 'mailbox:b@kurz.example', reason: 'Rechtsstreit B ./. Kurzlebig' },
      [byHash(held).id],
    );
    expect(hold.matched).toBe(1);
    // … also holds matching mail that arrives later, judged at ingest.
    const heldLater = mail('b@kurz.example', 'Kurz später');
    await send([heldLater]);
    await sealedMessages(ctx, t, 5);
    rows = await rowsOf(t.tenantId);
    const heldIds = await withTenant(ctx.db, t.tenantId, (tx) =>
      tx.selectFrom('legal_hold_messages').select('message_id').execute(),
    );
    expect(heldIds.map((r) => r.message_id).sort()).toEqual(
      [byHash(held).id, byHash(heldLater).id].sort(),
    );

    // Not yet expired: nothing happens.
    expect(await run(t.tenantId)).toMatchObject({ epochsFound: 0, mailsDeleted: 0 });
    clock.advance(62_000);

    const first = await run(t.tenantId);
    expect(first).toMatchObject({
      epochsFound: 1,
      epochsHeld: 1,
      epochsShredded: 0,
      mailsDeleted: 2,
    });
    rows = await rowsOf(t.tenantId);
    for (const m of [gone1, gone2]) {
      expect(byHash(m).deleted_at).not.toBeNull();
      expect(byHash(m).sealed_dek).toBeNull();
      expect(await objectExists(byHash(m).object_key!)).toBe(false);
    }
    for (const m of [held, heldLater, normal]) {
      expect(byHash(m).deleted_at).toBeNull();
      expect((await readArchived(ctx, t, byHash(m).id)).plaintext.equals(m)).toBe(true);
    }

    // Before the shred: a copy of the database (pg_dump) and of the held mail's object.
    await ensureDatabase(copyUrl);
    execFileSync('sh', [
      '-c',
      `pg_dump "${adminDatabaseUrl(cfg)}" | psql -q "${copyUrl}" >/dev/null`,
    ]);
    const heldRow = byHash(held);
    const heldCiphertext = await objectBytes(heldRow.object_key!);
    // The copy works with the live vault while the shred key exists: the test can fail.
    const copy = createDb(copyUrl, 2, { url: defaultVaultUrl(cfg.DATABASE_URL) });
    try {
      expect((await decrypt(copy, t, heldRow, heldCiphertext)).equals(held)).toBe(true);

      expect(await releaseHold(ctx.db, actor, hold.holdId, 'Verfahren beendet')).toBe(true);
      const second = await run(t.tenantId);
      expect(second).toMatchObject({ epochsShredded: 1, mailsDeleted: 2 });

      // Shredded: the live vault has no key, so neither the live database nor the copy opens it.
      expect(await ctx.db.shredKeys.get(t.tenantId, heldRow.epoch_id)).toBeUndefined();
      await expect(decrypt(copy, t, heldRow, heldCiphertext)).rejects.toThrow(/shredded/);
      await expect(decrypt(ctx.db, t, heldRow, heldCiphertext)).rejects.toThrow(/shredded/);
    } finally {
      await copy.destroy();
    }
    rows = await rowsOf(t.tenantId);
    expect(await objectExists(heldRow.object_key!)).toBe(false);
    expect(byHash(normal).deleted_at).toBeNull();

    // Tombstones are in the ledger; the deleted mails' own entries still verify.
    const shreds = await withTenant(ctx.db, t.tenantId, (tx) =>
      tx.selectFrom('shreds').select(['kind', 'message_count', 'ledger_index']).execute(),
    );
    expect(shreds.map((s) => [s.kind, s.message_count]).sort()).toEqual([
      ['epoch', 2],
      ['mails', 2],
    ]);
    expect(shreds.every((s) => s.ledger_index !== null)).toBe(true);
    const caPem = tsaRootsPem(cfg);
    const bundle = await buildProofBundle(ctx.db, {
      tenantId: t.tenantId,
      entrySha256: sha256(gone1),
      tsaCaPem: caPem,
    });
    await expect(verifyBundle(bundle.zip, gone1)).resolves.toBeTruthy();

    const audit = await withTenant(ctx.db, t.tenantId, (tx) =>
      tx.selectFrom('audit_events').select('action').execute(),
    );
    const actions = audit.map((a) => a.action);
    for (const a of ['legal_hold.set', 'legal_hold.released', 'mail.deleted', 'retention.shredded'])
      expect(actions).toContain(a);
  }, 240_000);
});
