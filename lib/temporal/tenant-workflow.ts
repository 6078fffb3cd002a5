import type { Client } from '@temporalio/client';
import { TENANT_ID } from '../../contracts/search-attributes';
import type { WorkflowArgs, WorkflowName } from '../../contracts/workflows';
import { startWorkflow } from './start-workflow';

/**
 * Starts a workflow on behalf of a tenant: tagged with the `TenantId` search attribute, so the
 * tenant's jobs page lists it (lib/jobs/list.ts). Every job the portal starts goes through here.
 */
export function startTenantWorkflow<N extends WorkflowName>(
  t: { client: Client; taskQueue: string },
  workflowType: N,
  o: { tenantId: string; workflowId: string; args: WorkflowArgs[N] },
) {
  return startWorkflow(t.client, workflowType, {
    workflowId: o.workflowId,
    taskQueue: t.taskQueue,
    args: o.args,
    typedSearchAttributes: [{ key: TENANT_ID, value: o.tenantId }],
  });
}
