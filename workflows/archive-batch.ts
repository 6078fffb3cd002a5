import {
  ParentClosePolicy,
  proxyLocalActivities,
  setHandler,
  startChild,
  upsertSearchAttributes,
} from '@temporalio/workflow';
import { WorkflowExecutionAlreadyStartedError, WorkflowIdReusePolicy } from '@temporalio/common';
import type { ArchiveActivities } from '../activities/archive';
import {
  archiveWorkflowId,
  batchStagesQuery,
  type ArchiveBatchInput,
  type ArchiveBatchResult,
  type MailStage,
} from '../contracts/archive';
import { MAIL_STAGE, TENANT_ID } from '../contracts/search-attributes';

const PERMANENT = ['MessageNotFound', 'StagingLost', 'InvalidEntry'];

// One local activity inside the first workflow task does the work on all mails: no task round trip
// through the server, and one workflow activation for it (decision 0020). It retries until the
// database or S3 is back.
const { archiveBatchMails } = proxyLocalActivities<ArchiveActivities>({
  startToCloseTimeout: '5 minutes',
  retry: {
    initialInterval: '1 second',
    backoffCoefficient: 2,
    maximumInterval: '1 minute',
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

  const { ledgered, failed } = await archiveBatchMails(input);
  advance(
    ledgered.map((l) => l.messageId),
    'ledgered',
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

  upsertSearchAttributes([{ key: MAIL_STAGE, value: 'ledgered' }]);
  return { ledgered, retriedAlone };
}
