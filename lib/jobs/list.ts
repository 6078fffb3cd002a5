import type {
  Client,
  WorkflowExecutionInfo,
  WorkflowExecutionStatusName,
} from '@temporalio/client';
import { MAIL_IDS } from '../../contracts/search-attributes';
import {
  evidenceRenewalProgressQuery,
  type EvidenceRenewalProgress,
} from '../../contracts/evidence';

/**
 * The tenant's workflows for the jobs page (issue 9, issue 25 §2): every workflow started for a
 * tenant carries the `TenantId` search attribute, so Temporal's visibility lists them; running
 * ones are described for their current attempt, failed ones for the failure. Identifiers and
 * states only — the payloads stay encrypted by the codec.
 *
 * An admin looking for the one failed job among thousands finds it first: failed jobs are
 * fetched first, then running ones (those being retried before the rest), then the others.
 * Finished archiving jobs — one per few mails — are not listed one by one but counted; a failed
 * one is listed like any failure.
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
  /** Of an archiving job: how many mails it carries, and the first of them. */
  mails?: number;
  firstMailId?: string;
  /** Of an evidence renewal: records renewed and failed so far. */
  evidence?: EvidenceRenewalProgress;
}

/** What the page filters by: a state group, a workflow type, a start time. */
export interface JobFilter {
  state?: 'failed' | 'running' | 'completed';
  type?: string;
  since?: Date;
}

/** How many jobs of the filter are in each state group. */
export interface JobCounts {
  failed: number;
  running: number;
  completed: number;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const TYPE = /^[A-Za-z]{1,64}$/;
const ARCHIVING = ['archiveBatch', 'archiveMail'];

const STATES: Record<NonNullable<JobFilter['state']>, string> = {
  failed: `ExecutionStatus IN ('Failed', 'TimedOut', 'Terminated', 'Canceled')`,
  running: `ExecutionStatus = 'Running'`,
  completed: `ExecutionStatus IN ('Completed', 'ContinuedAsNew')`,
};

/** The visibility query of the tenant's jobs (and evidence renewal, which serves every tenant). */
function queryOf(tenantId: string, f: JobFilter, extra?: string): string {
  if (!UUID.test(tenantId)) throw new Error('tenant id must be a UUID');
  if (f.type !== undefined && !TYPE.test(f.type)) throw new Error('job type must be a name');
  const parts = [`(TenantId = '${tenantId}' OR WorkflowType = 'renewEvidence')`];
  if (f.type) parts.push(`WorkflowType = '${f.type}'`);
  if (f.since) parts.push(`StartTime >= '${f.since.toISOString()}'`);
  if (f.state) parts.push(STATES[f.state]);
  if (extra) parts.push(extra);
  return parts.join(' AND ');
}

/** Counts per state group for the filter (its own state left out). */
export async function countTenantJobs(
  client: Client,
  tenantId: string,
  f: JobFilter,
): Promise<JobCounts> {
  const base = { ...f, state: undefined };
  const [failed, running, completed] = await Promise.all(
    (['failed', 'running', 'completed'] as const).map(
      async (state) => (await client.workflow.count(queryOf(tenantId, { ...base, state }))).count,
    ),
  );
  return { failed: failed!, running: running!, completed: completed! };
}

/** Failed archiving jobs of the filter's period (their mails are retried alone, or are listed). */
export async function failedArchiving(client: Client, tenantId: string, since?: Date) {
  return (
    await client.workflow.count(
      queryOf(
        tenantId,
        { state: 'failed', since },
        `WorkflowType IN (${ARCHIVING.map((t) => `'${t}'`).join(', ')})`,
      ),
    )
  ).count;
}

export async function listTenantJobs(
  client: Client,
  tenantId: string,
  f: JobFilter = {},
  limit = 50,
): Promise<JobRow[]> {
  // Finished archiving jobs are counted, not listed, unless asked for by type.
  const hideDoneArchiving =
    f.type && ARCHIVING.includes(f.type)
      ? undefined
      : `(WorkflowType NOT IN (${ARCHIVING.map((t) => `'${t}'`).join(', ')}) OR ${STATES.failed} OR ${STATES.running})`;
  const states: NonNullable<JobFilter['state']>[] = f.state
    ? [f.state]
    : ['failed', 'running', 'completed'];
  const rows: JobRow[] = [];
  for (const state of states) {
    for await (const w of client.workflow.list({
      query: queryOf(tenantId, { ...f, state }, hideDoneArchiving),
    })) {
      rows.push(await describe(client, w));
      if (rows.length >= limit) break;
    }
    if (rows.length >= limit) break;
  }
  // Among running jobs, those being retried come first.
  const rank = (r: JobRow) =>
    ['FAILED', 'TIMED_OUT', 'TERMINATED', 'CANCELLED'].includes(r.status)
      ? 0
      : r.status === 'RUNNING'
        ? r.attempt
          ? 1
          : 2
        : 3;
  return rows.sort((a, b) => rank(a) - rank(b));
}

async function describe(client: Client, w: WorkflowExecutionInfo): Promise<JobRow> {
  const row: JobRow = {
    workflowId: w.workflowId,
    runId: w.runId,
    type: w.type,
    status: w.status.name,
    startedAt: w.startTime.toISOString(),
    closedAt: w.closeTime?.toISOString() ?? null,
  };
  const mails = w.typedSearchAttributes.get(MAIL_IDS);
  if (mails?.length) {
    row.mails = mails.length;
    row.firstMailId = mails[0];
  }
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
  return row;
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
