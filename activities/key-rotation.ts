import type { Db } from '../lib/db';
import { heartbeat } from '../lib/temporal/heartbeat';
import {
  beginRotation,
  failRotation,
  finishRotation,
  resealEpochBatch,
  type RotationStatus,
} from '../lib/vault/rotation';
import type { GrantRef } from '../contracts/grant';
import type { KeyRotationInput } from '../contracts/key-rotation';
import { withGrant } from './with-grant';

/**
 * The rotateKeys workflow's activities (lib/vault/rotation.ts does the work). Each runs with the
 * tenant key from the requesting admin's decryption grant; each is idempotent (a retried begin
 * finds its rotation, a retried batch finds those epochs done, a retried finish finds it done).
 */
export type { KeyRotationInput };

export function createKeyRotationActivities(deps: { db: Db }) {
  const { db } = deps;
  const counts = (r: RotationStatus) => ({
    epochsTotal: r.epochsTotal,
    epochsDone: r.epochsDone,
    toVersion: r.toVersion,
  });
  return {
    beginKeyRotation(input: KeyRotationInput) {
      return withGrant(db, input.grant, 'key-rotation', async (keys) =>
        counts(
          await beginRotation(db, keys, {
            rotationId: input.rotationId,
            requestedBy: input.requestedBy,
            trigger: input.trigger,
            removeUserIds: input.removeUserIds,
          }),
        ),
      );
    },
    resealKeyBatch(input: { grant: GrantRef; rotationId: string }) {
      return withGrant(db, input.grant, 'key-rotation', async (keys) => {
        heartbeat();
        return resealEpochBatch(db, keys, input.rotationId);
      });
    },
    finishKeyRotation(input: { grant: GrantRef; rotationId: string }) {
      return withGrant(db, input.grant, 'key-rotation', async (keys) =>
        counts(await finishRotation(db, keys, input.rotationId)),
      );
    },
    failKeyRotation(input: { tenantId: string; rotationId: string; error: string }) {
      return failRotation(db, input.tenantId, input.rotationId, input.error);
    },
  };
}

export type KeyRotationActivities = ReturnType<typeof createKeyRotationActivities>;
