import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { GetObjectCommand, HeadObjectCommand } from '@aws-sdk/client-s3';
import type { Db } from '../../lib/db';
import { withTenant } from '../../lib/db/tenant-scope';
import type { ExportInput } from '../../workflows/export-mailbox';
import { archiveTenant, sealedMessages, deliver, openArchiveContext } from '../helpers/archive';
import { exportUnderGrant } from '../helpers/export';
import { stackConfig } from '../helpers/stack-env';
import { startOwnWorker } from '../helpers/worker';

/**
 * Issue 9: the worker is killed (-9) in the middle of an export. After the restart the export
 * finishes, the parts written before the crash are not written again, and every part opens with
 * 7-Zip with every hash matching its manifest.
 */

const cfg = stackConfig();
const exec = promisify(execFile);
let db: Db;
let ctx: Awaited<ReturnType<typeof openArchiveContext>>;

beforeAll(async () => {
  ctx = await openArchiveContext(cfg);
  db = ctx.db;
});
afterAll(() => ctx.close());

it('resumes an export after the worker is killed, without rewriting finished parts', async () => {
  const t = await archiveTenant(ctx, 'Export Absturz GmbH', 'archiv@export-absturz.example');
  await deliver(cfg.LMTP_PORT, 'archiv@export-absturz.example', 20, 'Absturz');
  expect((await sealedMessages(ctx, t, 20)).length).toBe(20);

  const { exportId, grant } = await exportUnderGrant(db, t, true);

  // A task queue of its own, served only by the worker this test starts, kills and restarts.
  const taskQueue = `export-crash-${randomUUID()}`;
  const startWorker = () => startOwnWorker(taskQueue);
  let worker = startWorker();
  const input: ExportInput = {
    grant,
    exportId,
    query: '',
    password: 'Absturz-Passwort 2026',
    format: 'eml',
    includePdfs: true,
    expiresInDays: 1,
    mailsPerPart: 5,
  };
  const handle = await ctx.temporal.workflow.start('exportMailbox', {
    workflowId: `export-${exportId}`,
    taskQueue,
    args: [input],
  });
  const parts = () =>
    withTenant(db, t.tenantId, (tx) =>
      tx
        .selectFrom('exports')
        .select(['parts', 'status'])
        .where('id', '=', exportId)
        .executeTakeFirstOrThrow(),
    );
  try {
    const until = async (ok: (r: Awaited<ReturnType<typeof parts>>) => boolean, ms: number) => {
      const deadline = Date.now() + ms;
      for (;;) {
        const r = await parts();
        if (ok(r)) return r;
        if (Date.now() > deadline) throw new Error(`export stuck: ${JSON.stringify(r)}`);
        await new Promise((res) => setTimeout(res, 100));
      }
    };
    const before = await until((r) => r.parts.length >= 1, 60_000);
    const first = before.parts.find((p) => p.n === 0)!;
    const etag = (await ctx.s3.send(new HeadObjectCommand({ Bucket: ctx.bucket, Key: first.key })))
      .ETag;
    worker.kill('SIGKILL');
    await new Promise((r) => worker.once('exit', r));
    const atCrash = (await parts()).parts.length;
    expect(atCrash).toBeLessThan(4);
    worker = startWorker();

    const done = await until((r) => r.status === 'done', 150_000);
    expect(done.parts.map((p) => p.n).sort()).toEqual([0, 1, 2, 3]);
    // The part written before the crash is the same object: not written again.
    const after = await ctx.s3.send(new HeadObjectCommand({ Bucket: ctx.bucket, Key: first.key }));
    expect(after.ETag).toBe(etag);

    const dir = mkdtempSync(path.join(os.tmpdir(), 'mailrepo-export-crash-'));
    const emls = new Set<string>();
    for (const p of done.parts) {
      const obj = await ctx.s3.send(new GetObjectCommand({ Bucket: ctx.bucket, Key: p.key }));
      const file = path.join(dir, `part-${p.n}.zip`);
      writeFileSync(file, Buffer.from(await obj.Body!.transformToByteArray()));
      await exec('7z', ['x', `-p${input.password}`, `-o${dir}/p${p.n}`, file]);
      const manifest = JSON.parse(
        readFileSync(path.join(dir, `p${p.n}`, 'manifest.json'), 'utf8'),
      ) as {
        files: { file: string; sha256: string; archivedSha256: string }[];
      };
      for (const f of manifest.files) {
        const bytes = readFileSync(path.join(dir, `p${p.n}`, f.file));
        expect(require('node:crypto').createHash('sha256').update(bytes).digest('hex')).toBe(
          f.sha256,
        );
        if (f.file.endsWith('.eml')) {
          expect(f.sha256).toBe(f.archivedSha256);
          emls.add(f.sha256);
        }
      }
    }
    expect(emls.size).toBe(20);
    // Issue 17 §6: every mail the export decrypted is named in the audit log, once per part,
    // although the worker died in the middle.
    const audited = await withTenant(db, t.tenantId, (tx) =>
      tx
        .selectFrom('audit_events')
        .select('details')
        .where('action', '=', 'export.mails_decrypted')
        .where('target_id', '=', exportId)
        .execute(),
    );
    const ids = audited.flatMap((e) => (e.details as { messageIds: string[] }).messageIds);
    const archivedIds = await withTenant(db, t.tenantId, (tx) =>
      tx.selectFrom('messages').select('id').execute(),
    );
    expect(audited.map((e) => (e.details as { part: number }).part).sort()).toEqual([0, 1, 2, 3]);
    expect(ids.sort()).toEqual(archivedIds.map((m) => m.id).sort());
    console.log(
      `export worker kill -9: ${done.parts.length} parts, ${atCrash} written before the crash and kept, 20 mails, all hashes match`,
    );
  } finally {
    worker.kill('SIGKILL');
    await handle.terminate('test done').catch(() => undefined);
  }
}, 300_000);
