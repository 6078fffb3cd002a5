import { CopyObjectCommand, DeleteObjectCommand, HeadObjectCommand } from '@aws-sdk/client-s3';
import { randomUUID } from 'node:crypto';
import { Readable } from 'node:stream';
import { WorkflowFailedError } from '@temporalio/client';
import {
  archiveWorkflowId,
  MAX_BATCH_MAILS,
  type ArchiveBatchResult,
  type ArchiveMailInput,
} from '../../contracts/archive';
import { MAIL_IDS } from '../../contracts/search-attributes';
import { withTenant } from '../../lib/db/tenant-scope';
import { ArchiveBatcher } from '../../lib/ingest/archive-batcher';
import { receiveMail } from '../../lib/ingest/receive';
import { countTenantJobs, failedArchiving, listTenantJobs } from '../../lib/jobs/list';
import { createLogger } from '../../lib/log';
import { startWorkflow } from '../../lib/temporal/start-workflow';
import {
  archived,
  archiveTenant,
  openArchiveContext,
  simpleMail,
  type ArchiveContext,
} from '../helpers/archive';
import { stackConfig } from '../helpers/stack-env';

/**
 * Archiving in batches (issue 19, decision 0020): the ingest edge starts one archiveBatch for the
 * mails that arrive together, and a mail that fails in a batch is retried and reported on its own
 * while the others are archived.
 */

const cfg = stackConfig();
let ctx: ArchiveContext & { close(): Promise<void> };
const log = createLogger('archive-batch-test', { level: 'silent' });

beforeAll(async () => {
  ctx = await openArchiveContext(cfg, 6);
});
afterAll(() => ctx.close());

/** Received as the LMTP server receives it; the archive start is left to the test. */
async function receive(tenant: { tenantId: string }, address: string, mail: Buffer) {
  const starts: ArchiveMailInput[] = [];
  const outcomes = await receiveMail(
    { ...ctx, log, archive: { submit: async (m) => void starts.push(m) } },
    Readable.from([mail]),
    { mailFrom: 'journal@mta.example', recipients: [{ address, tenantId: tenant.tenantId }] },
  );
  expect(outcomes.get(tenant.tenantId)).toMatchObject({ ok: true });
  expect(starts).toHaveLength(1);
  return starts[0]!;
}

it('mails arriving together share workflow starts; each batch lists its mails for ops', async () => {
  const tenantId = randomUUID();
  // A queue no worker serves: only the starts are looked at.
  const batcher = new ArchiveBatcher(ctx.temporal, `batch-starts-${randomUUID()}`);
  const mails = Array.from({ length: 60 }, () => ({
    tenantId,
    messageId: randomUUID(),
    sha256Hex: randomUUID().replace(/-/g, '').repeat(2),
  }));
  await Promise.all(mails.map((m) => batcher.submit(m)));

  const listed = new Map<string, string[]>();
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    listed.clear();
    for await (const wf of ctx.temporal.workflow.list({ query: `TenantId = '${tenantId}'` }))
      listed.set(wf.workflowId, wf.searchAttributes[MAIL_IDS.name] as string[]);
    if ([...listed.values()].flat().length >= mails.length) break;
    await new Promise((r) => setTimeout(r, 250));
  }
  const perBatch = [...listed.values()];
  // Every mail in exactly one batch, no batch over the cap, and far fewer starts than mails.
  expect(perBatch.flat().sort()).toEqual(mails.map((m) => m.messageId).sort());
  expect(Math.max(...perBatch.map((ids) => ids.length))).toBeLessThanOrEqual(MAX_BATCH_MAILS);
  expect(perBatch.length).toBeLessThanOrEqual(Math.ceil(mails.length / MAX_BATCH_MAILS) + 2);
  for (const [workflowId] of listed)
    await ctx.temporal.workflow.getHandle(workflowId).terminate('test done');
}, 60_000);

it('a mail that fails in a batch is retried and reported alone; the others are archived', async () => {
  const address = `archiv-${randomUUID().slice(0, 8)}@stapel.example`;
  const tenant = await archiveTenant(ctx, `Stapel ${randomUUID().slice(0, 6)}`, address);
  const mails = [0, 1, 2].map((i) => simpleMail(`Stapel ${i}`, `Inhalt ${randomUUID()}`));
  const inputs: ArchiveMailInput[] = [];
  for (const m of mails) inputs.push(await receive(tenant, address, m));
  // Mail 1 came in as mail did before decision 0020 — to a staging object, to be promoted — and
  // that object was lost before its batch ran (an operator's mistake, say), with no copy anywhere.
  const { object_key } = await withTenant(ctx.db, tenant.tenantId, (tx) =>
    tx
      .selectFrom('messages')
      .select('object_key')
      .where('id', '=', inputs[1]!.messageId)
      .executeTakeFirstOrThrow(),
  );
  await ctx.s3.send(new DeleteObjectCommand({ Bucket: ctx.bucket, Key: object_key! }));
  await withTenant(ctx.db, tenant.tenantId, (tx) =>
    tx
      .updateTable('messages')
      .set({
        state: 'staged',
        object_key: null,
        staging_key: `staging/${tenant.tenantId}/${inputs[1]!.messageId}`,
      })
      .where('id', '=', inputs[1]!.messageId)
      .execute(),
  );
  // Mail 2 came in the same way, and its staging object is there: the batch promotes it.
  const row2 = await withTenant(ctx.db, tenant.tenantId, (tx) =>
    tx
      .selectFrom('messages')
      .select('object_key')
      .where('id', '=', inputs[2]!.messageId)
      .executeTakeFirstOrThrow(),
  );
  const staging2 = `staging/${tenant.tenantId}/${inputs[2]!.messageId}`;
  await ctx.s3.send(
    new CopyObjectCommand({
      Bucket: ctx.bucket,
      Key: staging2,
      CopySource: `${ctx.bucket}/${row2.object_key!}`,
    }),
  );
  await ctx.s3.send(new DeleteObjectCommand({ Bucket: ctx.bucket, Key: row2.object_key! }));
  await withTenant(ctx.db, tenant.tenantId, (tx) =>
    tx
      .updateTable('messages')
      .set({ state: 'staged', object_key: null, staging_key: staging2 })
      .where('id', '=', inputs[2]!.messageId)
      .execute(),
  );

  const handle = await startWorkflow(ctx.temporal, 'archiveBatch', {
    taskQueue: cfg.TEMPORAL_TASK_QUEUE,
    workflowId: `archive-batch-test-${randomUUID()}`,
    args: [{ tenantId: tenant.tenantId, mails: inputs.map(({ tenantId: _, ...m }) => m) }],
  });
  const result = (await handle.result()) as ArchiveBatchResult;
  expect(result.ledgered.map((l) => l.messageId).sort()).toEqual(
    [inputs[0]!.messageId, inputs[2]!.messageId].sort(),
  );
  const aloneId = archiveWorkflowId(tenant.tenantId, inputs[1]!.sha256Hex);
  expect(result.retriedAlone).toEqual([
    { messageId: inputs[1]!.messageId, workflowId: aloneId, reason: expect.any(String) },
  ]);

  // The lost mail's own workflow fails for its own reason, visible to ops and on the jobs page.
  const alone = ctx.temporal.workflow.getHandle(aloneId);
  const failure = await alone.result().then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(failure).toBeInstanceOf(WorkflowFailedError);
  const jobs = await listTenantJobs(ctx.temporal, tenant.tenantId);
  // The failed job comes first, however many others there are (issue 25 §2).
  expect(jobs[0]).toMatchObject({ workflowId: aloneId, status: 'FAILED' });
  expect((await countTenantJobs(ctx.temporal, tenant.tenantId, {})).failed).toBe(1);
  expect(await failedArchiving(ctx.temporal, tenant.tenantId)).toBe(1);
  expect(jobs).toContainEqual(
    expect.objectContaining({
      workflowId: aloneId,
      type: 'archiveMail',
      status: 'FAILED',
      failure: expect.stringMatching(/staging object is gone/),
    }),
  );
  // The two others are archived and sealed, byte-exact; the promoted one's staging copy is gone.
  for (const i of [0, 2]) {
    const a = await archived(ctx, tenant, mails[i]!);
    expect(a.plaintext.equals(mails[i]!)).toBe(true);
  }
  await expect(
    ctx.s3.send(new HeadObjectCommand({ Bucket: ctx.bucket, Key: staging2 })),
  ).rejects.toMatchObject({ name: 'NotFound' });
}, 120_000);
