import type { Client } from '@temporalio/client';
import { TENANT_ID } from '../../contracts/search-attributes';

/**
 * Starts a workflow on behalf of a tenant: tagged with the `TenantId` search attribute, so the
 * tenant's jobs page lists it (lib/jobs/list.ts). Every job the portal starts goes through here.
 */
export function startTenantWorkflow(
  t: { client: Client; taskQueue: string },
  workflowType: string,
  o: { tenantId: string; workflowId: string; args: unknown[] },
) {
  return t.client.workflow.start(workflowType, {
    workflowId: o.workflowId,
    taskQueue: t.taskQueue,
    args: o.args,
    typedSearchAttributes: [{ key: TENANT_ID, value: o.tenantId }],
  });
}
