import { proxyActivities } from '@temporalio/workflow';
import type { SessionActivities } from '../activities/sessions';

const { endExpiredSessions } = proxyActivities<SessionActivities>({
  startToCloseTimeout: '5 minutes',
  retry: { initialInterval: '5 seconds', maximumInterval: '1 minute' },
});

/**
 * Scheduled every few minutes (`session-sweep`): ends the portal sessions past their idle or
 * absolute limit and destroys their sealed keys, whether or not their cookie ever returns.
 */
export async function sessionSweep(): Promise<number> {
  return endExpiredSessions();
}
