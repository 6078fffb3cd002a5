import {
  continueAsNew,
  executeChild,
  patched,
  proxyActivities,
  setHandler,
  workflowInfo,
} from '@temporalio/workflow';
import { PAGED_TENANT_SWEEPS, TENANTS_PER_SWEEP_RUN } from './patches';
import type { IntegrityActivities } from '../activities/integrity';
import type { LedgerActivities } from '../activities/ledger';
import type { RetentionActivities } from '../activities/retention';
import { TENANT_ID } from '../contracts/search-attributes';
import {
  retentionProgressQuery,
  type RetentionProgress,
  type RetentionRunInput,
  type RetentionSweepProgress,
} from '../contracts/retention';

const { findExpiredEpochs, shredExpiredEpoch, deleteExpiredMails, unfinishedShreds } =
  proxyActivities<RetentionActivities>({
    startToCloseTimeout: '10 minutes',
    retry: { initialInterval: '5 seconds', maximumInterval: '5 minutes' },
  });
const { finishShred } = proxyActivities<RetentionActivities>({
  startToCloseTimeout: '2 hours',
  heartbeatTimeout: '2 minutes',
  retry: { initialInterval: '5 seconds', maximumInterval: '5 minutes' },
});
const { ledgerAppend } = proxyActivities<LedgerActivities>({
  startToCloseTimeout: '1 minute',
  retry: { initialInterval: '1 second', maximumInterval: '1 minute' },
});
const { listTenantIds } = proxyActivities<IntegrityActivities>({ startToCloseTimeout: '1 minute' });

export type { RetentionRunInput, RetentionSweepProgress };

export { retentionProgressQuery, type RetentionProgress };

/**
 * One tenant's retention run: shreds every expired epoch (or, where a legal hold covers some of
 * its mail, deletes the rest), then puts each tombstone into the ledger and deletes the objects.
 * A crash anywhere resumes here: shreds already recorded are finished by the second loop.
 */
export async function retentionRun(input: RetentionRunInput): Promise<RetentionProgress> {
  const p: RetentionProgress = {
    epochsFound: 0,
    epochsDone: 0,
    epochsShredded: 0,
    mailsDeleted: 0,
    epochsHeld: 0,
    tombstones: 0,
  };
  setHandler(retentionProgressQuery, () => p);
  const { tenantId } = input;
  const expired = await findExpiredEpochs({ tenantId });
  p.epochsFound = expired.length;
  for (const e of expired) {
    const r = e.held
      ? await deleteExpiredMails({ tenantId, epochId: e.epochId })
      : await shredExpiredEpoch({ tenantId, epochId: e.epochId });
    if (e.held) p.epochsHeld++;
    if (r) {
      p.mailsDeleted += r.messageCount;
      if (r.kind === 'epoch') p.epochsShredded++;
    }
    p.epochsDone++;
  }
  for (const s of await unfinishedShreds({ tenantId })) {
    const { index } = await ledgerAppend({
      tenantId,
      entryHashHex: s.entryHashHex,
      kind: 'tombstone',
    });
    await finishShred({ tenantId, shredId: s.shredId, ledgerIndex: index });
    p.tombstones++;
  }
  return p;
}

/**
 * The daily schedule's run: one retentionRun per tenant, each listed on its tenant's jobs page;
 * a page of tenants per run, then continued as new with the totals.
 */
export async function retentionSweep(
  from?: RetentionSweepProgress,
): Promise<{ tenants: number; mailsDeleted: number }> {
  const sum = { tenants: from?.tenants ?? 0, mailsDeleted: from?.mailsDeleted ?? 0 };
  const paged = patched(PAGED_TENANT_SWEEPS);
  const tenants = paged
    ? await listTenantIds({ after: from?.after, limit: TENANTS_PER_SWEEP_RUN })
    : await listTenantIds();
  // The first run's id names the children of all its continuations (the workflow id stays).
  for (const tenantId of tenants) {
    const r = await executeChild(retentionRun, {
      workflowId: `retention-${tenantId}-${workflowInfo().workflowId}`,
      args: [{ tenantId, trigger: 'schedule' }],
      typedSearchAttributes: [{ key: TENANT_ID, value: tenantId }],
    });
    sum.tenants++;
    sum.mailsDeleted += r.mailsDeleted;
  }
  if (paged && tenants.length === TENANTS_PER_SWEEP_RUN)
    await continueAsNew<typeof retentionSweep>({ ...sum, after: tenants.at(-1) });
  return sum;
}
