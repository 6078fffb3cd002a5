import { randomBytes, randomUUID } from 'node:crypto';
import { ArchiveBatcher } from '../../lib/ingest/archive-batcher';
import { Readable } from 'node:stream';
import { strToU8, zipSync } from 'fflate';
import type { SessionInfo } from '../../lib/auth/sessions';
import { withTenant } from '../../lib/db/tenant-scope';
import { createImports, importWorkflowId, storeImport } from '../../application/imports';
import { runImport, type ImportSummary } from '../../lib/import/run';
import { createLogger } from '../../lib/log';
import {
  archiveTenant,
  crlf,
  openArchiveContext,
  sealedMessages,
  sha256,
} from '../helpers/archive';
import { stackConfig } from '../helpers/stack-env';

/**
 * Issue 9 §5 through the real worker: an MBOX and a ZIP of .eml files uploaded (as the portal's
 * form would send them), each mail archived through the ingest path with its original receipt
 * time, duplicates recognised, malformed entries reported and skipped; and an import interrupted
 * mid-way resumes after its last finished entry without archiving anything twice.
 */

const cfg = stackConfig();

const eml = (subject: string, date = 'Tue, 18 Mar 2025 10:00:00 +0100') =>
  crlf(
    `From: Alt <alt@historie.example>\nTo: Chefin <chefin@historie.example>\nSubject: ${subject}\n` +
      `Message-ID: <${randomUUID()}@historie.example>\nDate: ${date}\n\nAlter Inhalt ${randomUUID()}\n`,
  );

const mboxOf = (mails: { sep: string; bytes: Buffer }[]) =>
  Buffer.concat(mails.flatMap((m) => [Buffer.from(`From ${m.sep}\n`), m.bytes, Buffer.from('\n')]));

async function form(file: Buffer, name: string) {
  const f = new FormData();
  f.append('file', new Blob([new Uint8Array(file)]), name);
  const r = new Request('http://portal.invalid/imports', { method: 'POST', body: f });
  return { contentType: r.headers.get('content-type')!, body: r.body! };
}

describe('import', () => {
  let ctx: Awaited<ReturnType<typeof openArchiveContext>>;
  beforeAll(async () => {
    ctx = await openArchiveContext(cfg);
  });
  afterAll(() => ctx.close());

  const imports = () =>
    createImports({
      db: ctx.db,
      s3: ctx.s3,
      bucket: ctx.bucket,
      temporal: async () => ({ client: ctx.temporal, taskQueue: cfg.TEMPORAL_TASK_QUEUE }),
    });
  const sessionOf = (t: { tenantId: string; adminUserId: string; email: string }) =>
    ({ tenantId: t.tenantId, userId: t.adminUserId, email: t.email, role: 'owner' }) as SessionInfo;
  const importRow = (tenantId: string, id: string) =>
    withTenant(ctx.db, tenantId, (tx) =>
      tx.selectFrom('imports').selectAll().where('id', '=', id).executeTakeFirstOrThrow(),
    );

  it('imports an MBOX and a ZIP: archived with receipt time, duplicates, malformed skipped', async () => {
    const t = await archiveTenant(ctx, 'Historie GmbH', 'archiv@historie.example');
    const a = eml('Angebot 2019');
    const b = eml('Rechnung 2019');
    const mbox = Buffer.concat([
      mboxOf([
        { sep: 'alt@historie.example Tue Mar 18 10:00:00 2025', bytes: a },
        {
          sep: 'alt@historie.example Wed Mar 19 11:30:00 2025',
          bytes: Buffer.from('kein Mail-Kopf\n'),
        },
        { sep: 'alt@historie.example Thu Mar 20 12:00:00 2025', bytes: b },
        { sep: 'alt@historie.example Thu Mar 20 12:00:00 2025', bytes: a }, // the same mail again
      ]),
    ]);
    const svc = imports();
    const id = await svc.upload(sessionOf(t), {
      ip: '127.0.0.1',
      ...(await form(mbox, 'alt.mbox')),
    });
    const summary = (await ctx.temporal.workflow
      .getHandle(importWorkflowId(id))
      .result()) as ImportSummary;
    expect(summary).toEqual({ entries: 4, archived: 2, duplicates: 1, malformed: 1 });
    const row = await importRow(t.tenantId, id);
    expect(row).toMatchObject({ status: 'done', format: 'mbox', size: mbox.length });
    expect(row.problems).toEqual([{ entry: 1, reason: 'import.skip.noHeader' }]);

    const archived = await sealedMessages(ctx, t, 2);
    const got = archived.find((m) => m.row.sha256.equals(sha256(a)))!;
    expect(got.plaintext.equals(a)).toBe(true);
    expect(got.metadata.envelope).toMatchObject({
      imported: { importId: id, entry: 0, originalReceivedAt: '2025-03-18T10:00:00.000Z' },
    });

    // A ZIP: one new mail, one already imported, a non-mail file.
    const c = eml('Vertrag 2018', 'Mon, 5 Feb 2018 09:00:00 +0100');
    const zip = Buffer.from(
      zipSync({
        'postfach/vertrag.eml': c,
        'postfach/rechnung.eml': b,
        'postfach/liesmich.txt': strToU8('Export aus dem alten System'),
      }),
    );
    const zipId = await svc.upload(sessionOf(t), {
      ip: '127.0.0.1',
      ...(await form(zip, 'postfach.zip')),
    });
    expect(await ctx.temporal.workflow.getHandle(importWorkflowId(zipId)).result()).toEqual({
      entries: 3,
      archived: 1,
      duplicates: 1,
      malformed: 1,
    });
    expect((await importRow(t.tenantId, zipId)).problems).toEqual([
      { entry: 2, name: 'postfach/liesmich.txt', reason: 'import.skip.notEml' },
    ]);
    const vertrag = (await sealedMessages(ctx, t, 3)).find((m) => m.row.sha256.equals(sha256(c)))!;
    expect(vertrag.metadata.envelope).toMatchObject({
      imported: { name: 'postfach/vertrag.eml', originalReceivedAt: '2018-02-05T08:00:00.000Z' },
    });

    const audit = await withTenant(ctx.db, t.tenantId, (tx) =>
      tx.selectFrom('audit_events').select('action').execute(),
    );
    expect(audit.filter((e) => e.action === 'import.created')).toHaveLength(2);
    expect(audit.filter((e) => e.action === 'import.finished')).toHaveLength(2);

    // Not a mail container at all: refused at upload, nothing stored.
    await expect(
      svc.upload(sessionOf(t), { ip: '127.0.0.1', ...(await form(randomBytes(2000), 'x.pdf')) }),
    ).rejects.toThrow('imports.error.format');
  }, 120_000);

  it('resumes after the last finished entry when interrupted', async () => {
    const t = await archiveTenant(ctx, 'Wiederaufnahme KG', 'archiv@wiederaufnahme.example');
    // Far more entries than run at once (8), so the interrupted run leaves some for the retry
    // even when a loaded machine finishes a whole window of them before the kill takes effect.
    const N = 60;
    const mails = Array.from({ length: N }, (_, i) => eml(`Brief ${i}`));
    const mbox = mboxOf(mails.map((bytes) => ({ sep: 'x@y Tue Mar 18 10:00:00 2025', bytes })));
    const importId = randomUUID();
    const who = { tenantId: t.tenantId, userId: t.adminUserId, ip: '127.0.0.1' };
    const key = await storeImport(ctx, who, importId, Readable.from([mbox]), 'briefe.mbox');
    const deps = {
      ...ctx,
      archive: new ArchiveBatcher(ctx.temporal, cfg.TEMPORAL_TASK_QUEUE),
      log: createLogger('import-test', { level: 'silent' }),
      maxMessageBytes: 1024 * 1024,
    };
    const input = { tenantId: t.tenantId, importId, key };
    let finished = 0;
    await expect(
      runImport(deps, input, () => {
        if (++finished === 2) throw new Error('worker killed');
      }),
    ).rejects.toThrow('worker killed');
    // Entries run side by side: what was under way when the heartbeat failed still finished and
    // was saved — no gap, every saved entry archived, and the import still running.
    const stopped = await importRow(t.tenantId, importId);
    expect(stopped).toMatchObject({ status: 'running' });
    expect(stopped.entries_done).toBeGreaterThanOrEqual(2);
    expect(stopped.entries_done).toBeLessThan(N);
    expect(stopped.archived).toBe(stopped.entries_done);
    expect(await runImport(deps, input)).toEqual({
      entries: N,
      archived: N,
      duplicates: 0,
      malformed: 0,
    });
    const archived = await sealedMessages(ctx, t, N);
    expect(archived.map((m) => m.plaintext.toString()).sort()).toEqual(
      mails.map((m) => m.toString()).sort(),
    );
    // A finished import run again does nothing.
    expect(await runImport(deps, input)).toEqual({
      entries: N,
      archived: N,
      duplicates: 0,
      malformed: 0,
    });
  }, 120_000);
});
