import { continueAsNew, patched, proxyActivities } from '@temporalio/workflow';
import { PAGED_TENANT_SWEEPS, TENANTS_PER_SWEEP_RUN } from './patches';
import type { IntegrityActivities } from '../activities/integrity';
import type { IntegrityCheckInput, IntegrityCheckSummary } from '../contracts/integrity';

const { checkTenantIntegrity } = proxyActivities<IntegrityActivities>({
  startToCloseTimeout: '12 hours',
  heartbeatTimeout: '2 minutes',
  retry: { maximumAttempts: 3, initialInterval: '1 minute' },
});
const { listTenantIds } = proxyActivities<IntegrityActivities>({
  startToCloseTimeout: '1 minute',
});

export type { IntegrityCheckInput, IntegrityCheckSummary };

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
