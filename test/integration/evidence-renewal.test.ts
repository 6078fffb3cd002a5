import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import { tsaRootsPem, tsaUrls } from '../../lib/config';
import { listTenantJobs } from '../../lib/jobs/list';
import { OID } from '../../lib/pki/oids';
import { verifyEvidenceRecord } from '../../lib/evidence/verify-evidence';
import { startWorkflow } from '../../lib/temporal/start-workflow';
import { archiveTenant, deliver, openArchiveContext, sealedMessages } from '../helpers/archive';
import { bouncyCastleVerdict } from '../helpers/bouncycastle';
import { stackConfig } from '../helpers/stack-env';

/**
 * Issue 23 §1–§3 through the stack: both dev TSAs (own roots) timestamp every anchor checkpoint,
 * and the renewEvidence workflow, run by the worker against the real TSAs, moves every evidence
 * record to SHA-512 by hash-tree renewal when an operator asks; BouncyCastle validates the result.
 */
const cfg = stackConfig();
let ctx: Awaited<ReturnType<typeof openArchiveContext>>;
let tenantId: string;

beforeAll(async () => {
  ctx = await openArchiveContext(cfg);
  const t = await archiveTenant(ctx, 'Nachweis GmbH', 'archiv@nachweis.example');
  tenantId = t.tenantId;
  await deliver(cfg.LMTP_PORT, 'archiv@nachweis.example', 3, 'Nachweis');
  await sealedMessages(ctx, t, 3);
}, 120_000);
afterAll(() => ctx.close());

const records = () =>
  sql<{
    log_id: string;
    size: string;
    tsa_url: string;
    record: Buffer;
    chain_alg: string;
    renewals: number;
    note: string;
    first_gen_time: Date;
  }>`SELECT e.*, c.note FROM anchor_evidence e
       JOIN ledger_checkpoints c ON c.log_id = e.log_id AND c.size = e.size
      ORDER BY e.size DESC, e.tsa_url`.execute(ctx.db);

const renew = async (args: { trigger: 'operator' | 'schedule'; hashTo?: 'sha512' }) =>
  (
    await startWorkflow(ctx.temporal, 'renewEvidence', {
      taskQueue: cfg.TEMPORAL_TASK_QUEUE,
      workflowId: `evidence-test-${randomUUID()}`,
      args: [args],
    })
  ).result();

describe('evidence renewal through the worker', () => {
  it('both configured TSAs timestamp the newest anchor checkpoint', async () => {
    const { rows } = await records();
    const newest = rows.filter((r) => r.size === rows[0]!.size);
    expect(newest.map((r) => r.tsa_url).sort()).toEqual(tsaUrls(cfg).sort());
  });

  it('an operator hash-tree renewal moves every record to SHA-512; a scheduled run then finds none due', async () => {
    const startedAt = new Date();
    const p = await renew({ trigger: 'operator', hashTo: 'sha512' });
    expect(p.failed).toBe(0);
    expect(p.renewed).toBeGreaterThanOrEqual(2);
    const before = (await records()).rows.filter((r) => r.first_gen_time < startedAt);
    expect(before.length).toBeGreaterThanOrEqual(2);
    for (const r of before) expect([r.chain_alg, r.renewals]).toEqual([OID.sha512, 1]);
    const one = before[0]!;
    const steps = await verifyEvidenceRecord(one.record, Buffer.from(one.note), {
      caPem: tsaRootsPem(cfg),
      at: new Date(),
    });
    expect(steps.map((s) => s.kind)).toEqual(['initial', 'hash-tree renewal']);
    expect(bouncyCastleVerdict(one.record, Buffer.from(one.note), new Date())).toBe('VALID 2');

    // Every tenant's jobs page shows the run with its counts (visibility catches up shortly).
    const deadline = Date.now() + 20_000;
    let shown: Awaited<ReturnType<typeof listTenantJobs>>[number] | undefined;
    while (!shown?.evidence && Date.now() < deadline) {
      shown = (await listTenantJobs(ctx.temporal, tenantId)).find(
        (j) => j.type === 'renewEvidence' && j.evidence?.renewed === p.renewed,
      );
      if (!shown) await new Promise((r) => setTimeout(r, 500));
    }
    expect(shown?.evidence).toEqual(p);

    // Nothing is due within the renewal window (the dev TSAs' certificates last ten years).
    expect(await renew({ trigger: 'schedule' })).toMatchObject({ renewed: 0, failed: 0 });
  }, 120_000);
});
