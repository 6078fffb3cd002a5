import { randomUUID } from 'node:crypto';
import { HeadObjectCommand } from '@aws-sdk/client-s3';
import type { ExportInput } from '../../contracts/export';
import { withTenant } from '../../lib/db/tenant-scope';
import { startWorkflow } from '../../lib/temporal/start-workflow';
import { createTenant, currentEpochPublicKey } from '../../lib/vault';
import { openArchiveContext, PASSWORD } from '../helpers/archive';
import { exportUnderGrant } from '../helpers/export';
import { FAST_ARGON2 } from '../helpers/ledger';
import { queueMails } from '../helpers/search-corpus';
import { stackConfig } from '../helpers/stack-env';

/**
 * Issue 18 §4: an export's history grows with its parts, not its mails. 20,000 synthetic mails
 * (encrypted bodies in object storage, rows and index entries in the database: what ingest leaves,
 * without the ingest) are exported by the real workflow on the stack's worker; its history must
 * stay under 2,000 events. Signalling progress every 5 mails, as before, made ~4,000 signals here.
 * That run takes ~6 minutes on 2 cores (`npm run check:export-history`); `npm test` runs the same
 * check with 1,000 mails in parts of 100, the same ten parts, and the same bound per part.
 */
const MAILS = Number(process.env.EXPORT_HISTORY_MAILS ?? 1_000);
/** The production part size at the figure; smaller parts for the quick run. */
const PER_PART = MAILS >= 20_000 ? undefined : Math.ceil(MAILS / 10);
const cfg = stackConfig();
let ctx: Awaited<ReturnType<typeof openArchiveContext>>;

beforeAll(async () => {
  ctx = await openArchiveContext(cfg, 8);
});
afterAll(() => ctx.close());

/** A tenant with `mails` synthetic mails, an export row and its workflow started. */
async function startExport(mails: number, options: Partial<ExportInput>) {
  const email = `admin-${randomUUID().slice(0, 8)}@export-gross.example`;
  const t = await createTenant(ctx.db, {
    name: 'Export Groß GmbH',
    admin: { email, password: PASSWORD },
    argon2: FAST_ARGON2,
  });
  const epoch = await currentEpochPublicKey(ctx.db, {
    tenantId: t.tenantId,
    retentionClass: 'default',
  });
  const seeded = Date.now();
  for (let i = 0; i < mails; i += 250)
    await queueMails(
      ctx.db,
      t.tenantId,
      epoch,
      Array.from({ length: Math.min(250, mails - i) }, (_, k) => ({
        subject: `Rechnung ${i + k}`,
        from: 'buchhaltung@lieferant.example',
        to: 'einkauf@export-gross.example',
        text: `Rechnung Nummer ${i + k}, fällig in 30 Tagen.`,
        receivedAt: new Date(Date.UTC(2026, 0, 1) + (i + k) * 60_000),
      })),
      { s3: ctx.s3, bucket: ctx.bucket },
    );
  const seedS = (Date.now() - seeded) / 1000;

  const { exportId, grant } = await exportUnderGrant(
    ctx.db,
    { tenantId: t.tenantId, email },
    false,
  );
  const handle = await startWorkflow(ctx.temporal, 'exportMailbox', {
    workflowId: `export-${exportId}`,
    taskQueue: cfg.TEMPORAL_TASK_QUEUE,
    args: [
      {
        grant,
        exportId,
        query: '',
        password: 'Groß-Export 2026',
        format: 'eml',
        includePdfs: false,
        expiresInDays: 1,
        ...options,
      },
    ],
  });
  const row = () =>
    withTenant(ctx.db, t.tenantId, (tx) =>
      tx
        .selectFrom('exports')
        .select(['status', 'parts', 'total', 'error'])
        .where('id', '=', exportId)
        .executeTakeFirstOrThrow(),
    );
  return { tenantId: t.tenantId, exportId, handle, row, seedS };
}

it(`an export of ${MAILS} mails keeps its history under 2,000 events`, async () => {
  const started = Date.now();
  const { handle, row, seedS } = await startExport(
    MAILS,
    PER_PART ? { mailsPerPart: PER_PART } : {},
  );
  try {
    // Done means the files are written; the workflow then sleeps until they expire.
    let r = await row();
    while (r.status === 'running') {
      await new Promise((res) => setTimeout(res, 500));
      r = await row();
    }
    const exportS = (Date.now() - started) / 1000 - seedS;
    expect(r.error).toBeNull();
    expect(r.status).toBe('done');
    expect(r.total).toBe(MAILS);
    expect(r.parts.reduce((n, p) => n + p.mails, 0)).toBe(MAILS);
    for (const p of r.parts)
      await ctx.s3.send(new HeadObjectCommand({ Bucket: ctx.bucket, Key: p.key }));

    const events = (await handle.fetchHistory()).events!.length;
    console.log(
      `export of ${MAILS} mails: ${r.parts.length} parts, ${events} history events ` +
        `(seeded in ${seedS.toFixed(0)} s, exported in ${exportS.toFixed(0)} s)`,
    );
    expect(events).toBeLessThan(2_000);
    // A handful of events per part: the history does not grow with the mails.
    expect(events).toBeLessThan(40 + 12 * r.parts.length);
  } finally {
    await handle.terminate('test over');
  }
}, 900_000);

it('at expiry the workflow deletes the files itself (its durable timer, not a sweep)', async () => {
  // Three seconds instead of days: the timer is Temporal's either way. (The time-skipping test
  // server cannot be fetched on this machine, so the real server counts them.)
  const { tenantId, exportId, handle, row } = await startExport(12, {
    mailsPerPart: 5,
    expiresInDays: 3 / 86_400,
  });
  const result = await handle.result();
  expect(result).toMatchObject({ phase: 'expired', total: 12, done: 12, parts: 3 });
  const r = await row();
  expect(r.status).toBe('expired');
  expect(r.parts).toHaveLength(3);
  for (const p of r.parts)
    await expect(
      ctx.s3.send(new HeadObjectCommand({ Bucket: ctx.bucket, Key: p.key })),
    ).rejects.toMatchObject({ name: 'NotFound' });
  const audited = await withTenant(ctx.db, tenantId, (tx) =>
    tx.selectFrom('audit_events').select('action').where('target_id', '=', exportId).execute(),
  );
  expect(audited.map((a) => a.action)).toContain('export.expired');
}, 60_000);
