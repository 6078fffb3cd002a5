import { Connection } from '@temporalio/client';
import type { TLSConfig } from '@temporalio/client';
import { temporal } from '@temporalio/proto';

export interface PollerQuery {
  address: string;
  tls: TLSConfig | false;
  namespace: string;
  taskQueue: string;
}

/**
 * Workers polling the workflow task queue within the last `withinSeconds` (Temporal keeps listing
 * a stopped worker for a few minutes, so "listed" alone does not mean "alive").
 */
export async function recentWorkflowPollers(
  q: PollerQuery,
  withinSeconds = 90,
): Promise<temporal.api.taskqueue.v1.IPollerInfo[]> {
  const conn = await Connection.connect({
    address: q.address,
    tls: q.tls,
    connectTimeout: 4000,
  });
  try {
    const res = await conn.workflowService.describeTaskQueue({
      namespace: q.namespace,
      taskQueue: { name: q.taskQueue },
      taskQueueType: temporal.api.enums.v1.TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW,
    });
    const now = Date.now() / 1000;
    return (res.pollers ?? []).filter(
      (p) => now - Number(p.lastAccessTime?.seconds ?? 0) < withinSeconds,
    );
  } finally {
    await conn.close();
  }
}
