import {
  ParentClosePolicy,
  proxyLocalActivities,
  setHandler,
  startChild,
  upsertSearchAttributes,
} from '@temporalio/workflow';
import { WorkflowExecutionAlreadyStartedError, WorkflowIdReusePolicy } from '@temporalio/common';
import type { ArchiveActivities } from '../activities/archive';
import type { LedgerActivities } from '../activities/ledger';
import {
  archiveWorkflowId,
  batchStagesQuery,
  type ArchiveBatchInput,
  type ArchiveBatchResult,
  type MailStage,
} from '../contracts/archive';
import { MAIL_STAGE, TENANT_ID } from '../contracts/search-attributes';

const PERMANENT = ['MessageNotFound', 'StagingLost', 'InvalidEntry'];

// Everything runs as local activities inside the first workflow task: no task round trips through
// the server per step (decision 0020). They retry until the database or S3 is back.
const { storeBatch, recordBatchLedgered } = proxyLocalActivities<ArchiveActivities>({
  startToCloseTimeout: '5 minutes',
  retry: {
    initialInterval: '1 second',
    backoffCoefficient: 2,
    maximumInterval: '1 minute',
    nonRetryableErrorTypes: PERMANENT,
  },
});
const { ledgerAppendMany } = proxyLocalActivities<LedgerActivities>({
  startToCloseTimeout: '1 minute',
  retry: {
    initialInterval: '1 second',
    maximumInterval: '30 seconds',
    nonRetryableErrorTypes: PERMANENT,
  },
});

/**
 * Mails of one tenant, from their staging objects to ledger entries, started once by the ingest
 * edge for all of them (decision 0020). Each mail's state lives in its row as before; a mail that
 * cannot be stored is handed to its own archiveMail workflow — retried and visible on its own —
 * while the others go on. The seal (a timestamped checkpoint covering the entries) is set by the
 * checkpoint round for every mail it covers; this workflow ends at `ledgered`.
 */
export async function archiveBatch(input: ArchiveBatchInput): Promise<ArchiveBatchResult> {
  const stages: Record<string, MailStage | 'retried alone'> = {};
  for (const m of input.mails) stages[m.messageId] = 'staged';
  setHandler(batchStagesQuery, () => stages);
  const advance = (ids: string[], stage: MailStage | 'retried alone') => {
    for (const id of ids) stages[id] = stage;
  };

  const { failed } = await storeBatch(input);
  const failedIds = new Set(failed.map((f) => f.messageId));
  const stored = input.mails.filter((m) => !failedIds.has(m.messageId));
  advance(
    stored.map((m) => m.messageId),
    'stored',
  );

  const retriedAlone: ArchiveBatchResult['retriedAlone'] = [];
  for (const f of failed) {
    const workflowId = archiveWorkflowId(input.tenantId, f.sha256Hex);
    try {
      await startChild('archiveMail', {
        workflowId,
        args: [{ tenantId: input.tenantId, messageId: f.messageId, sha256Hex: f.sha256Hex }],
        parentClosePolicy: ParentClosePolicy.ABANDON,
        workflowIdReusePolicy: WorkflowIdReusePolicy.ALLOW_DUPLICATE_FAILED_ONLY,
        typedSearchAttributes: [
          { key: TENANT_ID, value: input.tenantId },
          { key: MAIL_STAGE, value: 'staged' },
        ],
      });
    } catch (e) {
      // A redelivery already started it: the mail is in that workflow's hands.
      if (!(e instanceof WorkflowExecutionAlreadyStartedError)) throw e;
    }
    retriedAlone.push({ messageId: f.messageId, workflowId, reason: f.reason });
    advance([f.messageId], 'retried alone');
  }

  const { indexes } = stored.length
    ? await ledgerAppendMany({
        tenantId: input.tenantId,
        entryHashesHex: stored.map((m) => m.sha256Hex),
        kind: 'mail',
      })
    : { indexes: [] };
  const ledgered = stored.map((m, i) => ({ messageId: m.messageId, index: indexes[i]! }));
  await recordBatchLedgered({ tenantId: input.tenantId, ledgered });
  advance(
    stored.map((m) => m.messageId),
    'ledgered',
  );
  upsertSearchAttributes([{ key: MAIL_STAGE, value: 'ledgered' }]);
  return { ledgered, retriedAlone };
}
