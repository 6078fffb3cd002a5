import { rmSync } from 'node:fs';
import path from 'node:path';
import { DeleteObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import type { Client } from '@temporalio/client';
import { startEphemeralStack, type EphemeralStack } from '../../infra/ephemeral-stack';
import type { Db } from '../../lib/db';
import { withTenant } from '../../lib/db/tenant-scope';
import { recentIntegrityRuns } from '../../lib/integrity/check';
import type { IntegrityCheckSummary } from '../../workflows/integrity-check';
import {
  archiveTenant,
  readArchived,
  sealedMessages,
  deliver,
  openArchiveContext,
} from '../helpers/archive';
import { stackConfig } from '../helpers/stack-env';

/**
 * Issue 9's integrity check through the real worker: a corrupted and a deleted object are
 * reported by message id, the rest passes with the ledger and audit chain; and with one of
 * MinIO's four drive directories gone (a stack of its own), every mail still reads and the check
 * finds nothing wrong.
 */

async function check(temporal: Client, taskQueue: string, tenantId: string) {
  return (await temporal.workflow.execute('integrityCheck', {
    workflowId: `integrity-test-${tenantId}-${Date.now()}`,
    taskQueue,
    args: [{ tenantId, trigger: 'manual' }],
  })) as IntegrityCheckSummary;
}

describe('integrity check', () => {
  const cfg = stackConfig();
  let ctx: Awaited<ReturnType<typeof openArchiveContext>>;
  let db: Db;
  beforeAll(async () => {
    ctx = await openArchiveContext(cfg);
    db = ctx.db;
  });
  afterAll(() => ctx.close());

  it('reports a corrupted and a deleted object by message id; the rest passes', async () => {
    const t = await archiveTenant(ctx, 'Pruefung GmbH', 'archiv@pruefung.example');
    await deliver(cfg.LMTP_PORT, 'archiv@pruefung.example', 4, 'Integrität');
    const mails = await sealedMessages(ctx, t, 4);
    expect(mails.length).toBe(4);

    const clean = await check(ctx.temporal, cfg.TEMPORAL_TASK_QUEUE, t.tenantId);
    expect(clean).toMatchObject({
      objectsChecked: 4,
      failures: 0,
      ledgerProblems: 0,
      auditProblems: 0,
    });

    const [corrupted, deleted] = mails.map((m) => m.row);
    await ctx.s3.send(
      new PutObjectCommand({
        Bucket: ctx.bucket,
        Key: corrupted!.object_key!,
        Body: Buffer.alloc(Number(corrupted!.ciphertext_size), 7),
      }),
    );
    await ctx.s3.send(new DeleteObjectCommand({ Bucket: ctx.bucket, Key: deleted!.object_key! }));

    const dirty = await check(ctx.temporal, cfg.TEMPORAL_TASK_QUEUE, t.tenantId);
    expect(dirty).toMatchObject({ objectsChecked: 4, failures: 2, ledgerProblems: 0 });
    const [latest] = await recentIntegrityRuns(db, t.tenantId, 1);
    expect(latest!.finished_at).not.toBeNull();
    expect(
      latest!.failures.map((f) => [f.messageId, f.kind]).sort(([a], [b]) => (a! < b! ? -1 : 1)),
    ).toEqual(
      [
        [corrupted!.id, 'hash-mismatch'],
        [deleted!.id, 'missing'],
      ].sort(([a], [b]) => (a! < b! ? -1 : 1)),
    );
    // Another tenant sees none of these runs.
    const other = await archiveTenant(
      ctx,
      'Andere Pruefung GmbH',
      'archiv@andere-pruefung.example',
    );
    expect(
      await withTenant(db, other.tenantId, (tx) =>
        tx.selectFrom('integrity_runs').select('id').where('tenant_id', '=', t.tenantId).execute(),
      ),
    ).toEqual([]);
  }, 120_000);
});

describe('with one of four MinIO drives gone', () => {
  let running: EphemeralStack;
  let ctx: Awaited<ReturnType<typeof openArchiveContext>>;
  beforeAll(async () => {
    running = await startEphemeralStack({
      prefix: 'mailrepo_drive',
      apps: ['worker', 'lmtp'],
      checkpointIntervalS: 2,
    });
    ctx = await openArchiveContext(stackConfig(running.env));
  }, 180_000);
  afterAll(async () => {
    await ctx?.close();
    await running?.dispose();
  }, 60_000);

  it('reads every mail and finds nothing wrong', async () => {
    const cfg = stackConfig(running.env);
    const t = await archiveTenant(ctx, 'Laufwerk GmbH', 'archiv@laufwerk.example');
    await deliver(cfg.LMTP_PORT, 'archiv@laufwerk.example', 6, 'Laufwerk');
    const before = await sealedMessages(ctx, t, 6);
    expect(before.length).toBe(6);

    rmSync(path.join(running.env.DATA_DIR!, 'minio', 'drive2'), { recursive: true, force: true });
    for (const m of before) {
      const again = await readArchived(ctx, t, m.row.id);
      expect(again.plaintext.equals(m.plaintext)).toBe(true);
    }
    const r = await check(ctx.temporal, cfg.TEMPORAL_TASK_QUEUE, t.tenantId);
    expect(r).toMatchObject({
      objectsChecked: 6,
      failures: 0,
      ledgerProblems: 0,
      auditProblems: 0,
    });
  }, 120_000);
});
