import { randomUUID } from 'node:crypto';
import { chmodSync } from 'node:fs';
import path from 'node:path';
import { temporal } from '@temporalio/proto';
import { sql } from 'kysely';
import { createImapImports } from '../../application/imap-imports';
import type { SessionInfo } from '../../lib/auth/sessions';
import { withTenant } from '../../lib/db/tenant-scope';
import { ArchiveBatcher } from '../../lib/ingest/archive-batcher';
import { connectImap, type ImapAccount } from '../../lib/import/imap-account';
import { syncImapAccount } from '../../lib/import/imap-sync';
import { createLogger } from '../../lib/log';
import { adminDb } from '../helpers/admin-db';
import {
  archiveTenant,
  crlf,
  openArchiveContext,
  readArchived,
  sha256,
  type ArchiveContext,
} from '../helpers/archive';
import { startDovecot, type DovecotInstance } from '../helpers/dovecot';
import { stackConfig } from '../helpers/stack-env';

/**
 * IMAP import (issue 22 §3/§5) from a private Dovecot over TLS with its certificate checked:
 * every folder (nested, UTF-8 names) with its path and INTERNALDATE, a 20 MB mail, byte for byte;
 * resume after an interruption without archiving anything twice; continuous mode picking up a new
 * mail; refusals for an unknown certificate and a wrong password; the password nowhere stored.
 */

const { History } = temporal.api.history.v1;
const cfg = stackConfig();
const dba = adminDb(cfg);
const PASSWORD = 'Dovecot-Passwort-äöü-123';
let ctx: ArchiveContext & { close(): Promise<void> };
let dovecot: DovecotInstance;

beforeAll(async () => {
  ctx = await openArchiveContext(cfg);
  dovecot = await startDovecot([
    { user: 'anna@imap-firma.example', password: PASSWORD },
    { user: 'bert@imap-firma.example', password: PASSWORD },
    { user: 'carl@imap-firma.example', password: PASSWORD },
  ]);
}, 60_000);
afterAll(async () => {
  await dovecot?.stop();
  await ctx.close();
  await dba.destroy();
});

const account = (user: string, over: Partial<ImapAccount> = {}): ImapAccount => ({
  host: '127.0.0.1',
  port: dovecot.imapsPort,
  security: 'tls',
  user,
  password: PASSWORD,
  ca: dovecot.ca,
  ...over,
});

const mail = (subject: string, body = 'Inhalt') =>
  crlf(
    `From: Partner <partner@extern.example>\nTo: anna@imap-firma.example\nSubject: ${subject}\n` +
      `Message-ID: <${randomUUID()}@extern.example>\nDate: Mon, 02 Mar 2020 10:00:00 +0100\n` +
      `Content-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: 8bit\n\n${body}\n`,
  );

/** Puts mails into a user's folders over IMAP (creating the folders), with their INTERNALDATE. */
async function fill(user: string, folders: Record<string, { bytes: Buffer; date: Date }[]>) {
  const c = await connectImap(account(user));
  try {
    for (const [folder, mails] of Object.entries(folders)) {
      if (folder !== 'INBOX') await c.mailboxCreate(folder);
      for (const m of mails) await c.append(folder, m.bytes, [], m.date);
    }
  } finally {
    await c.logout();
  }
}

const ownerOf = (t: { tenantId: string; adminUserId: string; email: string }): SessionInfo => ({
  idHash: Buffer.alloc(32),
  tenantId: t.tenantId,
  userId: t.adminUserId,
  email: t.email,
  role: 'owner',
  secondFactor: true,
  enrolled: true,
  reauthAt: new Date(),
  createdAt: new Date(),
  mustSetPassword: false,
});

const imports = () =>
  createImapImports({
    db: ctx.db,
    temporal: async () => ({ client: ctx.temporal, taskQueue: cfg.TEMPORAL_TASK_QUEUE }),
  });
const form = (user: string, over: Record<string, string> = {}) => ({
  host: '127.0.0.1',
  port: String(dovecot.imapsPort),
  security: 'tls',
  user,
  password: PASSWORD,
  ca: dovecot.ca,
  continuousMinutes: '',
  ...over,
});

async function until<T>(what: string, probe: () => Promise<T | undefined>, ms = 90_000) {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 500));
  }
}

const importRow = (importId: string) =>
  sql<{ status: string; error: string | null }>`SELECT status, error FROM imap_imports
    WHERE id = ${importId}`
    .execute(dba)
    .then((r) => r.rows[0]!);

async function archivedOf(t: { tenantId: string; email: string }) {
  const rows = await withTenant(ctx.db, t.tenantId, (tx) =>
    tx.selectFrom('messages').select('id').execute(),
  );
  return Promise.all(rows.map((r) => readArchived(ctx, t, r.id)));
}

describe('IMAP import from Dovecot', () => {
  it('imports every folder byte for byte with its path and INTERNALDATE, a 20 MB mail too', async () => {
    const t = await archiveTenant(ctx, 'IMAP Eins GmbH', 'archiv@imap-eins.example');
    const big = mail(
      'Große Präsentation',
      `${'Zeile mit Inhalt und Umlauten äöü.\n'.repeat(560_000)}`,
    );
    expect(big.length).toBeGreaterThan(20 * 1024 * 1024);
    const d = (s: string) => new Date(s);
    const content = {
      INBOX: [
        { bytes: mail('Angebot'), date: d('2019-05-01T08:00:00Z') },
        { bytes: big, date: d('2019-05-02T08:00:00Z') },
      ],
      Geschäftlich: [{ bytes: mail('Vertrag'), date: d('2018-01-01T12:00:00Z') }],
      'Geschäftlich/Übersicht 2019 – Ü': [
        { bytes: mail('Übersicht'), date: d('2019-12-31T23:00:00Z') },
      ],
      日本語: [{ bytes: mail('Japan', 'こんにちは'), date: d('2020-02-02T02:02:02Z') }],
    };
    await fill('anna@imap-firma.example', content);
    const importId = await imports().start(
      ownerOf(t),
      form('anna@imap-firma.example'),
      '192.0.2.1',
    );
    const handle = ctx.temporal.workflow.getHandle(`imap-import-${importId}`);
    await handle.result();
    expect(await importRow(importId)).toEqual({ status: 'done', error: null });
    // The password travels in the workflow input only as ciphertext (the payload codec).
    const history = History.encode(await handle.fetchHistory()).finish();
    expect(Buffer.from(history).includes(Buffer.from(PASSWORD))).toBe(false);

    const got = await archivedOf(t);
    const expected = Object.entries(content).flatMap(([folder, ms]) =>
      ms.map((m) => ({ folder, ...m })),
    );
    expect(got).toHaveLength(expected.length);
    for (const e of expected) {
      const one = got.find((g) => g.row.sha256.equals(sha256(e.bytes)));
      expect(one).toBeDefined();
      expect(one!.plaintext.equals(e.bytes)).toBe(true);
      const imported = (one!.metadata.envelope as { imported: Record<string, unknown> }).imported;
      expect(imported).toMatchObject({
        importId,
        folder: e.folder,
        originalReceivedAt: e.date.toISOString(),
      });
    }
    const folders = await sql<{ path: string; archived: number; error: string | null }>`
      SELECT path, archived, error FROM imap_import_folders WHERE import_id = ${importId} ORDER BY path`.execute(
      dba,
    );
    expect(folders.rows).toEqual(
      Object.entries(content)
        .map(([path, ms]) => ({ path, archived: ms.length, error: null }))
        .sort((a, b) => (a.path < b.path ? -1 : 1)),
    );
    // The password is in no table: not the import, not its folders, not the audit log.
    const leaks = await sql<{ n: string }>`
      SELECT (SELECT count(*) FROM imap_imports WHERE row_to_json(imap_imports)::text LIKE ${`%${PASSWORD}%`})
           + (SELECT count(*) FROM audit_events WHERE details::text LIKE ${`%${PASSWORD}%`}) AS n`.execute(
      dba,
    );
    expect(Number(leaks.rows[0]!.n)).toBe(0);
  }, 300_000);

  it('an interrupted pass resumes after its checkpoint: nothing twice, nothing lost', async () => {
    const t = await archiveTenant(ctx, 'IMAP Zwei GmbH', 'archiv@imap-zwei.example');
    const many = Array.from({ length: 60 }, (_, i) => ({
      bytes: mail(`Viele ${i}`, `Nummer ${i} ${randomUUID()}`),
      date: new Date(Date.UTC(2021, 0, 1 + i)),
    }));
    await fill('bert@imap-firma.example', {
      INBOX: [],
      Viele: many,
      Gesperrt: [{ bytes: mail('Unlesbar'), date: new Date() }],
    });
    // A folder the server cannot open (its storage unreadable): listed as the folder's error.
    chmodSync(path.join(dovecot.maildir('bert@imap-firma.example'), '.Gesperrt'), 0);
    const importId = randomUUID();
    await sql`INSERT INTO imap_imports (id, tenant_id, host, port, security, username)
              VALUES (${importId}, ${t.tenantId}, '127.0.0.1', ${dovecot.imapsPort}, 'tls',
                      'bert@imap-firma.example')`.execute(dba);
    const deps = {
      db: ctx.db,
      s3: ctx.s3,
      bucket: ctx.bucket,
      archive: new ArchiveBatcher(ctx.temporal, cfg.TEMPORAL_TASK_QUEUE),
      log: createLogger('imap-test', { level: 'silent' }),
      maxMessageBytes: 50 * 1024 * 1024,
    };
    const input = { tenantId: t.tenantId, importId, account: account('bert@imap-firma.example') };
    // The worker dies after the first batch (a failed heartbeat ends the activity).
    await expect(
      syncImapAccount(deps, input, () => {
        throw new Error('worker lost');
      }),
    ).rejects.toThrow('worker lost');
    const half = await sql<{ archived: number; last_uid: string }>`SELECT archived, last_uid
      FROM imap_import_folders WHERE import_id = ${importId} AND path = 'Viele'`.execute(dba);
    expect(half.rows[0]!.archived).toBeGreaterThan(0);
    expect(half.rows[0]!.archived).toBeLessThan(60);
    const summary = await syncImapAccount(deps, input);
    expect(summary.failedFolders).toBe(1);
    const blocked = await sql<{ error: string | null }>`SELECT error FROM imap_import_folders
      WHERE import_id = ${importId} AND path = 'Gesperrt'`.execute(dba);
    expect(blocked.rows[0]!.error).toBeTruthy();
    expect(summary.duplicates).toBe(0);
    expect(summary.archived).toBe(60 - half.rows[0]!.archived);
    const got = await archivedOf(t);
    expect(got.map((g) => g.row.sha256.toString('hex')).sort()).toEqual(
      many.map((m) => sha256(m.bytes).toString('hex')).sort(),
    );
    // A third pass finds nothing new and fetches nothing.
    expect(await syncImapAccount(deps, input)).toMatchObject({
      archived: 0,
      duplicates: 0,
      failedFolders: 1,
    });
  }, 180_000);

  it('continuous mode picks up a new mail; stopping ends it', async () => {
    const t = await archiveTenant(ctx, 'IMAP Drei GmbH', 'archiv@imap-drei.example');
    const first = mail('Vor dem Start');
    await fill('carl@imap-firma.example', {
      INBOX: [{ bytes: first, date: new Date('2022-03-03T03:03:03Z') }],
    });
    const imap = imports();
    const importId = await imap.start(
      ownerOf(t),
      form('carl@imap-firma.example', {
        security: 'starttls',
        port: String(dovecot.imapPort),
        continuousMinutes: '60',
      }),
      '192.0.2.1',
    );
    await until('the first pass', async () =>
      (await importRow(importId)).status === 'watching' ? true : undefined,
    );
    expect((await archivedOf(t)).map((g) => g.plaintext.equals(first))).toEqual([true]);
    const second = mail('Nach dem Start');
    await fill('carl@imap-firma.example', { INBOX: [{ bytes: second, date: new Date() }] });
    await imap.syncNow(ownerOf(t), importId);
    await until('the new mail', async () =>
      (await archivedOf(t)).length === 2 ? true : undefined,
    );
    await imap.stop(ownerOf(t), importId);
    await ctx.temporal.workflow.getHandle(`imap-import-${importId}`).result();
    expect((await importRow(importId)).status).toBe('done');
  }, 180_000);

  it('refuses a server certificate it cannot check, and a wrong password, as failed imports', async () => {
    const t = await archiveTenant(ctx, 'IMAP Vier GmbH', 'archiv@imap-vier.example');
    const imap = imports();
    const untrusted = await imap.start(
      ownerOf(t),
      form('anna@imap-firma.example', { ca: '' }),
      '192.0.2.1',
    );
    const wrong = await imap.start(
      ownerOf(t),
      form('anna@imap-firma.example', { password: 'falsch' }),
      '192.0.2.1',
    );
    const failed = async (id: string) =>
      until(
        'the failure',
        async () => {
          const r = await importRow(id);
          return r.status === 'failed' ? r : undefined;
        },
        150_000,
      );
    expect((await failed(wrong)).error).toMatch(/refused the login/);
    expect((await failed(untrusted)).error).toMatch(/certificate/);
    expect(await archivedOf(t)).toEqual([]);
  }, 200_000);
});
