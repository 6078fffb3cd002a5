import type { Client, WorkflowStartOptions } from '@temporalio/client';
import type { WorkflowArgs, WorkflowName } from '../../contracts/workflows';

/**
 * Starts a workflow by its contract (contracts/workflows.ts): the name must be a workflow type and
 * `args` what that workflow takes, checked by the compiler — no `args: unknown[]` by string.
 */
export function startWorkflow<N extends WorkflowName>(
  client: Client,
  name: N,
  options: Omit<WorkflowStartOptions, 'args'> & { args: WorkflowArgs[N] },
) {
  return client.workflow.start(name, options as WorkflowStartOptions);
}

/** The action of a schedule that starts workflow `name` with `args`, by the same contract. */
export const scheduledStart = <N extends WorkflowName>(
  name: N,
  taskQueue: string,
  args: WorkflowArgs[N],
) => ({ type: 'startWorkflow' as const, workflowType: name as string, taskQueue, args });
