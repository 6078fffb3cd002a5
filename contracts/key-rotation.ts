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
