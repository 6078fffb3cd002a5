import type { Db } from './index';

/** The platform self-check's record (platformSmoke workflow): which object it stored, once. */
export async function recordSmokeCheck(
  db: Db,
  workflowId: string,
  stored: { objectKey: string; sha256: string; size: number },
): Promise<void> {
  await db
    .insertInto('smoke_checks')
    .values({
      id: workflowId,
      workflow_id: workflowId,
      object_key: stored.objectKey,
      object_sha256: stored.sha256,
      object_size: stored.size,
    })
    .onConflict((oc) => oc.column('id').doNothing())
    .execute();
}
