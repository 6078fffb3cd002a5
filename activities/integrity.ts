import type { S3Client } from '@aws-sdk/client-s3';
import type { Db } from '../lib/db';
import { allTenantIds, tenantIdPage } from '../lib/db/tenant-ids';
import { runIntegrityCheck, type IntegrityResult } from '../lib/integrity/check';
import { heartbeat } from '../lib/temporal/heartbeat';

/**
 * The integrityCheck workflow's activities. A check reads every object once; a retried attempt
 * starts a new run (the interrupted one stays recorded as unfinished), so retries are harmless.
 */
export interface IntegrityActivityDeps {
  db: Db;
  s3: S3Client;
  bucket: string;
  integrityBytesPerSecond: number;
}

export function createIntegrityActivities(deps: IntegrityActivityDeps) {
  return {
    /** A page of tenant ids; all of them when called without one (runs started before 0016). */
    async listTenantIds(page?: { after?: string; limit: number }): Promise<string[]> {
      return page ? tenantIdPage(deps.db, page.after, page.limit) : allTenantIds(deps.db);
    },

    async checkTenantIntegrity(input: {
      tenantId: string;
      trigger: 'schedule' | 'manual';
    }): Promise<Omit<IntegrityResult, 'failures'> & { failures: number }> {
      const r = await runIntegrityCheck(
        {
          db: deps.db,
          s3: deps.s3,
          bucket: deps.bucket,
          bytesPerSecond: deps.integrityBytesPerSecond,
        },
        input.tenantId,
        { trigger: input.trigger, progress: () => heartbeat() },
      );
      // The workflow's history gets counts only; the failures are in integrity_runs.
      return { ...r, failures: r.failures.length };
    },
  };
}

export type IntegrityActivities = ReturnType<typeof createIntegrityActivities>;
