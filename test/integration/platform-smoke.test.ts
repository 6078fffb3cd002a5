import { createHash } from 'node:crypto';
import { Connection } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import { createDb, type Db } from '../../lib/db';
import { createS3, getObjectBytes } from '../../lib/storage/s3';
import { connectTemporal } from '../../lib/temporal/client';
import { ENCODING, EncryptionCodec, parseCodecKeys } from '../../lib/temporal/codec';
import { stackConfig } from '../helpers/stack-env';

/**
 * The platform end to end: a workflow started through the real Temporal server runs on the real
 * worker process; its activities write to MinIO and PostgreSQL; we read both back ourselves.
 */
describe('platformSmoke workflow on the real stack', () => {
  const cfg = stackConfig();
  let db: Db;
  beforeAll(() => {
    db = createDb(cfg.DATABASE_URL, 2);
  });
  afterAll(async () => {
    await db.destroy();
  });

  it('stores an object in MinIO and a row in PostgreSQL, with encrypted Temporal history', async () => {
    const client = await connectTemporal(cfg);
    const workflowId = `platform-smoke-test-${Date.now()}`;
    try {
      const result = await client.workflow.execute('platformSmoke', {
        taskQueue: cfg.TEMPORAL_TASK_QUEUE,
        workflowId,
        workflowExecutionTimeout: '60 seconds',
      });
      const { objectKey, sha256, size } = result as {
        objectKey: string;
        sha256: string;
        size: number;
      };

      const row = await db
        .selectFrom('smoke_checks')
        .selectAll()
        .where('id', '=', workflowId)
        .executeTakeFirstOrThrow();
      expect(row).toMatchObject({
        workflow_id: workflowId,
        object_key: objectKey,
        object_sha256: sha256,
        object_size: 4096,
      });

      const s3 = createS3(cfg);
      const bytes = await getObjectBytes(s3, cfg.S3_BUCKET, objectKey);
      s3.destroy();
      expect(bytes.byteLength).toBe(size);
      expect(createHash('sha256').update(bytes).digest('hex')).toBe(sha256);

      // What Temporal stores: every payload encrypted, the object key nowhere in clear.
      const conn = await Connection.connect({ address: cfg.TEMPORAL_ADDRESS });
      const history = await conn.workflowService.getWorkflowExecutionHistory({
        namespace: cfg.TEMPORAL_NAMESPACE,
        execution: { workflowId },
      });
      await conn.close();
      const raw = Buffer.from(
        temporal.api.history.v1.History.encode({ events: history.history!.events! }).finish(),
      );
      expect(raw.includes(Buffer.from(objectKey))).toBe(false);
      expect(raw.includes(Buffer.from(sha256))).toBe(false);
      const completed = history.history!.events!.find(
        (e) => e.workflowExecutionCompletedEventAttributes,
      );
      const payload = completed!.workflowExecutionCompletedEventAttributes!.result!.payloads![0]!;
      expect(Buffer.from(payload.metadata!.encoding!).toString()).toBe(ENCODING);

      // The search attribute the workflow sets is registered and queryable.
      const listed = [];
      for await (const wf of client.workflow.list({
        query: `WorkflowId = '${workflowId}' AND MailStage = 'recorded'`,
      }))
        listed.push(wf);
      expect(listed).toHaveLength(1);
    } finally {
      await client.connection.close();
    }
  });

  it('encrypts failure messages the worker writes into history', async () => {
    const client = await connectTemporal(cfg);
    const workflowId = `platform-smoke-missing-${Date.now()}`;
    const conn = await Connection.connect({ address: cfg.TEMPORAL_ADDRESS });
    try {
      // A workflow type the worker does not have: its workflow task fails with an explanation.
      const handle = await client.workflow.start('noSuchWorkflowType', {
        taskQueue: cfg.TEMPORAL_TASK_QUEUE,
        workflowId,
      });
      const deadline = Date.now() + 20_000;
      let events: temporal.api.history.v1.IHistoryEvent[] = [];
      while (Date.now() < deadline) {
        const h = await conn.workflowService.getWorkflowExecutionHistory({
          namespace: cfg.TEMPORAL_NAMESPACE,
          execution: { workflowId },
        });
        events = h.history?.events ?? [];
        if (events.some((e) => e.workflowTaskFailedEventAttributes)) break;
        await new Promise((r) => setTimeout(r, 200));
      }
      await handle.terminate('test done');
      const failed = events.find(
        (e) => e.workflowTaskFailedEventAttributes,
      )!.workflowTaskFailedEventAttributes!;
      expect(failed.failure!.message).toBe('Encoded failure');
      const encoded = failed.failure!.encodedAttributes!;
      expect(Buffer.from(encoded.metadata!.encoding!).toString()).toBe(ENCODING);
      // Decoded through our codec, the real explanation is there.
      const [decoded] = await new EncryptionCodec(parseCodecKeys(cfg.TEMPORAL_CODEC_KEYS)).decode([
        encoded,
      ]);
      expect(Buffer.from(decoded!.data!).toString()).toContain('noSuchWorkflowType');
    } finally {
      await conn.close();
      await client.connection.close();
    }
  }, 30_000);
});
