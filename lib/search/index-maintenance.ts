import { WorkflowExecutionAlreadyStartedError, type Client } from '@temporalio/client';
import { TENANT_ID } from '../../contracts/search-attributes';
import type { Db } from '../db';
import { startWorkflow } from '../temporal/start-workflow';
import { destroyGrant, issueGrant } from '../vault/grants';
import type { UnlockedSession } from '../vault/session';

/**
 * Starts the tenant's index maintenance workflow with a fresh decryption grant from `session`,
 * unless one is already running (one per tenant, by workflow id) — then the new grant is
 * destroyed at once. The grant outlives the job by at most its time to live.
 */

export const GRANT_TTL_MS = 15 * 60_000;

export const indexWorkflowId = (tenantId: string) => `search-index-${tenantId}`;

export async function startIndexMaintenance(
  deps: { db: Db; temporal: Client; taskQueue: string },
  session: UnlockedSession,
): Promise<'started' | 'running'> {
  const grant = await issueGrant(deps.db, session, {
    purpose: 'search-index',
    ttlMs: GRANT_TTL_MS,
  });
  try {
    await startWorkflow(deps.temporal, 'maintainSearchIndex', {
      workflowId: indexWorkflowId(session.tenantId),
      taskQueue: deps.taskQueue,
      args: [{ tenantId: session.tenantId, grantId: grant.grantId, grantKey: grant.grantKey }],
      workflowExecutionTimeout: '1 hour',
      typedSearchAttributes: [{ key: TENANT_ID, value: session.tenantId }],
    });
    return 'started';
  } catch (e) {
    await destroyGrant(deps.db, session.tenantId, grant.grantId);
    if (e instanceof WorkflowExecutionAlreadyStartedError) return 'running';
    throw e;
  }
}
