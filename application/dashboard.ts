import type { Client } from '@temporalio/client';
import type { SessionInfo } from '../lib/auth/sessions';
import { requireManager } from '../lib/auth/roles';
import { archiveStatus } from '../lib/dashboard/archive-status';
import type { Db } from '../lib/db';
import { isUuid } from '../lib/input/input-error';
import { RETENTION_SCHEDULE_ID } from '../lib/temporal/schedules';

/**
 * The portal's home (issue 20 §4) for the roles that see the whole tenant: the archive's counts,
 * sealing and integrity from the database, running and failed jobs and the next retention run
 * from Temporal. A member's home comes from the index instead (Archive.mailboxOverview). Which
 * parts a role gets is the route's decision, by the permission matrix; the guards here stop a
 * caller that skipped it.
 */

/** Failed jobs are counted over this many days. */
export const FAILED_JOBS_DAYS = 7;

export function createDashboard(deps: { db: Db; temporal: () => Promise<{ client: Client }> }) {
  return {
    archive: (session: SessionInfo) => {
      if (session.role === 'member') throw new Error('a member sees only their own mailbox');
      return archiveStatus(deps.db, session.tenantId);
    },

    /** Running and recently failed workflows of the tenant (null when Temporal does not answer). */
    async jobs(session: SessionInfo): Promise<{ running: number; failed: number } | null> {
      if (session.role === 'member') throw new Error('members have no jobs page');
      if (!isUuid(session.tenantId)) throw new Error('tenant id must be a UUID');
      try {
        const { client } = await deps.temporal();
        const tenant = `TenantId = '${session.tenantId}'`;
        const since = new Date(Date.now() - FAILED_JOBS_DAYS * 86_400_000).toISOString();
        const [running, failed] = await Promise.all([
          client.workflow.count(`${tenant} AND ExecutionStatus = 'Running'`),
          client.workflow.count(
            `${tenant} AND ExecutionStatus IN ('Failed', 'TimedOut', 'Terminated') AND CloseTime > '${since}'`,
          ),
        ]);
        return { running: running.count, failed: failed.count };
      } catch {
        return null;
      }
    },

    /** When the retention schedule runs next (null when unknown). */
    async nextRetentionRun(session: SessionInfo): Promise<Date | null> {
      requireManager(session, 'retention');
      try {
        const { client } = await deps.temporal();
        const d = await client.schedule.getHandle(RETENTION_SCHEDULE_ID).describe();
        return d.info.nextActionTimes[0] ?? null;
      } catch {
        return null;
      }
    },
  };
}

export type Dashboard = ReturnType<typeof createDashboard>;
