import { continueAsNew, patched, proxyActivities } from '@temporalio/workflow';
import { PAGED_TENANT_SWEEPS, TENANTS_PER_SWEEP_RUN } from './patches';
import type { IntegrityActivities } from '../activities/integrity';

const { checkTenantIntegrity } = proxyActivities<IntegrityActivities>({
  startToCloseTimeout: '12 hours',
  heartbeatTimeout: '2 minutes',
  retry: { maximumAttempts: 3, initialInterval: '1 minute' },
});
const { listTenantIds } = proxyActivities<IntegrityActivities>({
  startToCloseTimeout: '1 minute',
});

export interface IntegrityCheckInput {
  /** One tenant (started from the portal); all tenants when absent (the daily schedule). */
  tenantId?: string;
  trigger: 'schedule' | 'manual';
  /** A sweep continued as new: the last tenant done and the totals so far. */
  after?: string;
  sum?: IntegrityCheckSummary;
}

export interface IntegrityCheckSummary {
  tenants: number;
  objectsChecked: number;
  failures: number;
  ledgerProblems: number;
  auditProblems: number;
}

/**
 * Re-reads every stored ciphertext, verifies the ledger and the audit chain, tenant by tenant
 * (one after another: the check must not crowd out ingest). Results per tenant in integrity_runs.
 */
export async function integrityCheck(input: IntegrityCheckInput): Promise<IntegrityCheckSummary> {
  const sum: IntegrityCheckSummary = input.sum ?? {
    tenants: 0,
    objectsChecked: 0,
    failures: 0,
    ledgerProblems: 0,
    auditProblems: 0,
  };
  const paged = !input.tenantId && patched(PAGED_TENANT_SWEEPS);
  const tenants = input.tenantId
    ? [input.tenantId]
    : paged
      ? await listTenantIds({ after: input.after, limit: TENANTS_PER_SWEEP_RUN })
      : await listTenantIds();
  for (const tenantId of tenants) {
    const r = await checkTenantIntegrity({ tenantId, trigger: input.trigger });
    sum.tenants++;
    sum.objectsChecked += r.objectsChecked;
    sum.failures += r.failures;
    sum.ledgerProblems += r.ledgerProblems.length;
    sum.auditProblems += r.auditProblems.length;
  }
  if (paged && tenants.length === TENANTS_PER_SWEEP_RUN)
    await continueAsNew<typeof integrityCheck>({ ...input, after: tenants.at(-1), sum });
  return sum;
}
