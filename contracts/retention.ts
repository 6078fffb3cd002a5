import { defineQuery } from '@temporalio/workflow';
/** The retentionRun workflow's input (workflows/retention-sweep.ts; one tenant's run). */
export interface RetentionRunInput {
  tenantId: string;
  trigger: 'schedule' | 'manual';
}

/** What a retentionSweep continued as new carries over (the daily schedule starts it bare). */
export interface RetentionSweepProgress {
  /** The last tenant done by the runs before this one (continue-as-new). */
  after?: string;
  tenants: number;
  mailsDeleted: number;
}

export interface RetentionProgress {
  epochsFound: number;
  epochsDone: number;
  epochsShredded: number;
  mailsDeleted: number;
  /** Expired epochs kept (in part) because a legal hold covers mail in them. */
  epochsHeld: number;
  tombstones: number;
}

export const retentionProgressQuery = defineQuery<RetentionProgress>('progress');
