import { randomUUID } from 'node:crypto';
import { Context } from '@temporalio/activity';
import { connectTemporal } from '../../lib/temporal/client';
import type { Client } from '@temporalio/client';
import { stackConfig } from '../helpers/stack-env';
import { runTestWorker } from '../helpers/worker';

/**
 * Issue 18 §4: a cancelled job still cleans up — its decryption grant is destroyed and its failure
 * recorded — because the cleanups run in non-cancellable scopes (a cancelled scope schedules no
 * activity at all). The workflows are the real ones on the real Temporal server; the activities
 * are recorders, and the long one runs until it is cancelled.
 */
const cfg = stackConfig();
let client: Client;
let worker: { stop(): Promise<void> };
const taskQueue = `cleanups-${randomUUID()}`;
const calls: { name: string; input: unknown }[] = [];

/** Heartbeats until the workflow's cancellation reaches it. */
async function untilCancelled(): Promise<never> {
  for (;;) {
    Context.current().heartbeat();
    await Context.current().sleep(100);
  }
}
const record =
  (name: string, result?: unknown) =>
  async (input: unknown): Promise<unknown> => {
    calls.push({ name, input });
    return result;
  };

beforeAll(async () => {
  client = await connectTemporal(cfg);
  worker = await runTestWorker(cfg, taskQueue, {
    prepareExport: record('prepareExport', 10),
    writeExportPart: untilCancelled,
    finishExport: record('finishExport'),
    deleteExportFiles: record('deleteExportFiles'),
    beginKeyRotation: record('beginKeyRotation', { epochsTotal: 3 }),
    resealKeyBatch: untilCancelled,
    failKeyRotation: record('failKeyRotation'),
    destroyDecryptionGrant: record('destroyDecryptionGrant'),
  });
}, 120_000);

afterAll(async () => {
  await worker?.stop();
  await client?.connection.close();
});

/** The recorded calls whose input names `id`. */
const callsFor = (id: string) => calls.filter((c) => JSON.stringify(c.input).includes(id));

/** Starts the workflow, cancels it once its long activity is under way, expects it to end. */
async function cancelWhileRunning(workflowType: string, args: unknown[], longActivity: string) {
  const handle = await client.workflow.start(workflowType, {
    taskQueue,
    workflowId: `${workflowType}-${randomUUID()}`,
    args,
  });
  let underWay = false;
  for (let i = 0; i < 200 && !underWay; i++) {
    const { pendingActivities } = await handle.describe().then((d) => d.raw);
    underWay = !!pendingActivities?.some((a) => a.activityType?.name === longActivity);
    if (!underWay) await new Promise((r) => setTimeout(r, 50));
  }
  // Cancelled in the middle of the work, or the test proves nothing about cleanups.
  expect(underWay).toBe(true);
  await handle.cancel();
  await expect(handle.result()).rejects.toThrow();
}

const grant = () => ({ tenantId: randomUUID(), grantId: randomUUID(), grantKey: 'k' });

it('a cancelled export destroys its grant and records its failure', async () => {
  const g = grant();
  const exportId = randomUUID();
  await cancelWhileRunning(
    'exportMailbox',
    [
      {
        grant: g,
        exportId,
        query: '',
        password: 'x',
        format: 'eml',
        includePdfs: false,
        expiresInDays: 7,
      },
    ],
    'writeExportPart',
  );
  expect(callsFor(g.grantId).map((c) => c.name)).toContain('destroyDecryptionGrant');
  const forExport = callsFor(exportId);
  expect(forExport.map((c) => c.name)).toEqual(
    expect.arrayContaining(['finishExport', 'deleteExportFiles']),
  );
  expect(forExport.find((c) => c.name === 'finishExport')!.input).toMatchObject({
    failed: expect.stringMatching(/cancel/i),
  });
}, 60_000);

it('a cancelled key rotation destroys its grant and records its failure', async () => {
  const g = grant();
  const rotationId = randomUUID();
  await cancelWhileRunning(
    'rotateKeys',
    [{ grant: g, rotationId, requestedBy: randomUUID(), trigger: 'manual', removeUserIds: [] }],
    'resealKeyBatch',
  );
  expect(callsFor(g.grantId).map((c) => c.name)).toContain('destroyDecryptionGrant');
  expect(callsFor(rotationId).map((c) => c.name)).toContain('failKeyRotation');
}, 60_000);
