import { proxyActivities, upsertSearchAttributes, workflowInfo } from '@temporalio/workflow';
import type { SmokeActivities, StoredObject } from '../activities/smoke';
import { MAIL_STAGE } from '../contracts/search-attributes';

const { storeSmokeObject, recordSmokeCheck } = proxyActivities<SmokeActivities>({
  startToCloseTimeout: '30 seconds',
  retry: { maximumAttempts: 5, initialInterval: '1 second' },
});

/** Platform self-check: object storage write + read-back, then a database row. */
export async function platformSmoke(): Promise<StoredObject> {
  const { workflowId } = workflowInfo();
  upsertSearchAttributes([{ key: MAIL_STAGE, value: 'stored' }]);
  const stored = await storeSmokeObject(workflowId);
  await recordSmokeCheck(workflowId, stored);
  upsertSearchAttributes([{ key: MAIL_STAGE, value: 'recorded' }]);
  return stored;
}
