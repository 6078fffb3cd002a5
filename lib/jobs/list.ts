import type { Client, WorkflowExecutionStatusName } from '@temporalio/client';
import { MAIL_IDS } from '../../contracts/search-attributes';
import {
  evidenceRenewalProgressQuery,
  type EvidenceRenewalProgress,
} from '../../contracts/evidence';

/**
 * The tenant's workflows for the jobs page (issue 9): every workflow started for a tenant carries
 * the `TenantId` search attribute, so Temporal's visibility lists them; running ones are described
 * for their current attempt, failed ones for the failure. Identifiers and states only — the
 * payloads stay encrypted by the codec.
 */

export interface JobRow {
  workflowId: string;
  runId: string;
  type: string;
  status: WorkflowExecutionStatusName;
  startedAt: string;
  closedAt: string | null;
  /** Of a running workflow's pending activity, when it is being retried. */
  attempt?: number;
  failure?: string;
  /** Of an archiveBatch: how many mails it carries. */
  mails?: number;
  /** Of an evidence renewal: records renewed and failed so far. */
  evidence?: EvidenceRenewalProgress;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export async function listTenantJobs(client: Client, tenantId: string, limit = 50) {
  if (!UUID.test(tenantId)) throw new Error('tenant id must be a UUID');
  const rows: JobRow[] = [];
  // Evidence renewal works for every tenant at once (the anchor log's records): each tenant's
  // page shows it with its counts, which say nothing of any one tenant.
  for await (const w of client.workflow.list({
    query: `TenantId = '${tenantId}' OR WorkflowType = 'renewEvidence'`,
  })) {
    const row: JobRow = {
      workflowId: w.workflowId,
      runId: w.runId,
      type: w.type,
      status: w.status.name,
      startedAt: w.startTime.toISOString(),
      closedAt: w.closeTime?.toISOString() ?? null,
    };
    const mails = w.typedSearchAttributes.get(MAIL_IDS);
    if (mails) row.mails = mails.length;
    if (w.type === 'renewEvidence' && (row.status === 'RUNNING' || row.status === 'COMPLETED')) {
      const handle = client.workflow.getHandle<(i: unknown) => Promise<EvidenceRenewalProgress>>(
        w.workflowId,
        w.runId,
      );
      row.evidence = await (
        row.status === 'RUNNING' ? handle.query(evidenceRenewalProgressQuery) : handle.result()
      ).catch(() => undefined);
    }
    if (row.status === 'RUNNING' || row.status === 'FAILED' || row.status === 'TIMED_OUT') {
      const handle = client.workflow.getHandle(w.workflowId, w.runId);
      if (row.status === 'RUNNING') {
        const d = await handle.describe().catch(() => undefined);
        const pending = d?.raw.pendingActivities?.find((a) => (a.attempt ?? 0) > 1);
        if (pending) {
          row.attempt = pending.attempt ?? undefined;
          row.failure = pending.lastFailure?.message ?? undefined;
        }
      } else {
        row.failure = await handle.result().then(
          () => undefined,
          (e: unknown) => rootCause(e).slice(0, 300),
        );
      }
    }
    rows.push(row);
    if (rows.length >= limit) break;
  }
  return rows;
}

/**
 * The innermost failure's message: "Activity task failed" says nothing, the application failure
 * it wraps says why (a lost staging object, say).
 */
function rootCause(e: unknown): string {
  let at = e as { message?: string; cause?: unknown } | undefined;
  while (at?.cause) at = at.cause as typeof at;
  return at?.message ?? '';
}

/** A workflow's page in the Temporal UI. */
export const temporalUiLink = (
  base: string,
  namespace: string,
  w: { workflowId: string; runId: string },
) =>
  `${base.replace(/\/+$/, '')}/namespaces/${encodeURIComponent(namespace)}/workflows/${encodeURIComponent(w.workflowId)}/${encodeURIComponent(w.runId)}/history`;
