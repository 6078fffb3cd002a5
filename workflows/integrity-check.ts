import { proxyActivities } from '@temporalio/workflow';
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
  const tenants = input.tenantId ? [input.tenantId] : await listTenantIds();
  const sum: IntegrityCheckSummary = {
    tenants: tenants.length,
    objectsChecked: 0,
    failures: 0,
    ledgerProblems: 0,
    auditProblems: 0,
  };
  for (const tenantId of tenants) {
    const r = await checkTenantIntegrity({ tenantId, trigger: input.trigger });
    sum.objectsChecked += r.objectsChecked;
    sum.failures += r.failures;
    sum.ledgerProblems += r.ledgerProblems.length;
    sum.auditProblems += r.auditProblems.length;
  }
  return sum;
}
