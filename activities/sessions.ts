import { sweepExpiredSessions } from '../lib/auth/sessions';
import type { Db } from '../lib/db';

/** The session sweep's one activity: idempotent (an ended session is not found again). */
export function createSessionActivities(deps: { db: Db }) {
  return {
    async endExpiredSessions(): Promise<number> {
      return sweepExpiredSessions(deps.db);
    },
  };
}

export type SessionActivities = ReturnType<typeof createSessionActivities>;
