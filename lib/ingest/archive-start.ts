import { WorkflowExecutionAlreadyStartedError, type Client } from '@temporalio/client';
import { WorkflowIdReusePolicy } from '@temporalio/common';
import type { ArchiveMailInput } from '../../contracts/archive';
import { MAIL_STAGE, TENANT_ID } from '../../contracts/search-attributes';
import { startWorkflow } from '../temporal/start-workflow';

export type { ArchiveMailInput };

/** One workflow id per tenant and mail content: a repeated start is the same archive entry. */
export const archiveWorkflowId = (tenantId: string, sha256Hex: string) =>
  `archive-${tenantId}-${sha256Hex}`;

/**
 * Starts archiveMail for a staged message. "Already running" is success. A completed workflow
 * with this id is never started again (the database decides before calling this that the
 * message is still staged; the reuse policy guards the same line in Temporal).
 */
export async function startArchive(
  client: Client,
  taskQueue: string,
  input: ArchiveMailInput,
): Promise<void> {
  try {
    // The sender waits for this answer: give up after a few seconds (451, it retries) rather
    // than letting the client's own retries stretch the reply while Temporal is away.
    await client.withDeadline(Date.now() + 5_000, () =>
      startWorkflow(client, 'archiveMail', {
        taskQueue,
        workflowId: archiveWorkflowId(input.tenantId, input.sha256Hex),
        args: [input],
        workflowIdReusePolicy: WorkflowIdReusePolicy.ALLOW_DUPLICATE_FAILED_ONLY,
        typedSearchAttributes: [
          { key: TENANT_ID, value: input.tenantId },
          { key: MAIL_STAGE, value: 'staged' },
        ],
      }),
    );
  } catch (e) {
    if (!(e instanceof WorkflowExecutionAlreadyStartedError)) throw e;
  }
}
