import type { S3Client } from '@aws-sdk/client-s3';
import type { Db } from '../lib/db';
import {
  deleteExpiredMails,
  findExpiredEpochs,
  finishShred,
  shredEpoch,
  unfinishedShreds,
  type ExpiredEpoch,
  type ShredRecord,
} from '../lib/retention/sweep';
import { heartbeat } from '../lib/temporal/heartbeat';
import { systemClock, type Clock } from '../lib/time/clock';

/**
 * The retention workflows' activities (lib/retention/sweep.ts does the work). Each is idempotent:
 * a retried shred finds its epoch shredded, a retried deletion finds nothing left to delete, a
 * retried finish deletes already-deleted objects again. Results carry ids and counts only.
 */
export interface RetentionDeps {
  db: Db;
  s3: S3Client;
  bucket: string;
  /** What "now" is when deciding expiry; tests move it instead of waiting. */
  clock?: Clock;
}

export function createRetentionActivities(deps: RetentionDeps) {
  const clock = deps.clock ?? systemClock;
  return {
    findExpiredEpochs(input: { tenantId: string }): Promise<ExpiredEpoch[]> {
      return findExpiredEpochs(deps.db, input.tenantId, clock.now());
    },
    shredExpiredEpoch(input: { tenantId: string; epochId: string }): Promise<ShredRecord | null> {
      return shredEpoch(deps.db, input.tenantId, input.epochId, clock.now()).then((r) => r ?? null);
    },
    deleteExpiredMails(input: { tenantId: string; epochId: string }): Promise<ShredRecord | null> {
      return deleteExpiredMails(deps.db, input.tenantId, input.epochId, clock.now()).then(
        (r) => r ?? null,
      );
    },
    unfinishedShreds(input: { tenantId: string }): Promise<ShredRecord[]> {
      return unfinishedShreds(deps.db, input.tenantId);
    },
    finishShred(input: {
      tenantId: string;
      shredId: string;
      ledgerIndex: number;
    }): Promise<{ objectsDeleted: number }> {
      return finishShred(deps, input.tenantId, input.shredId, input.ledgerIndex, () => heartbeat());
    },
  };
}

export type RetentionActivities = ReturnType<typeof createRetentionActivities>;
