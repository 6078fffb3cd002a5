import { defineQuery } from '@temporalio/workflow';
import type { GrantRef } from './grant';

export type RotationTrigger = 'manual' | 'schedule' | 'member-removal';

/** The rotateKeys workflow's input (workflows/rotate-keys.ts; started by the portal). */
export interface KeyRotationInput {
  grant: GrantRef;
  rotationId: string;
  requestedBy: string;
  trigger: RotationTrigger;
  removeUserIds: string[];
}

export interface KeyRotationProgress {
  phase: 'starting' | 'resealing' | 'finishing' | 'done' | 'failed';
  epochsDone: number;
  epochsTotal: number;
}

export const keyRotationProgressQuery = defineQuery<KeyRotationProgress>('progress');
