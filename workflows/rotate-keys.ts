import {
  ApplicationFailure,
  CancellationScope,
  proxyActivities,
  setHandler,
} from '@temporalio/workflow';
import type { KeyRotationActivities, KeyRotationInput } from '../activities/key-rotation';
import type { SearchIndexActivities } from '../activities/search-index';
import { keyRotationProgressQuery, type KeyRotationProgress } from '../contracts/key-rotation';

const { beginKeyRotation, resealKeyBatch, finishKeyRotation } =
  proxyActivities<KeyRotationActivities>({
    startToCloseTimeout: '10 minutes',
    heartbeatTimeout: '2 minutes',
    retry: {
      maximumAttempts: 10,
      initialInterval: '2 seconds',
      maximumInterval: '1 minute',
      nonRetryableErrorTypes: ['GrantUnavailable', 'VaultError'],
    },
  });
const { failKeyRotation } = proxyActivities<KeyRotationActivities>({
  startToCloseTimeout: '1 minute',
  retry: { initialInterval: '1 second', maximumInterval: '1 minute' },
});
const { destroyDecryptionGrant } = proxyActivities<SearchIndexActivities>({
  startToCloseTimeout: '1 minute',
  retry: { initialInterval: '1 second', maximumInterval: '1 minute' },
});

export { keyRotationProgressQuery, type KeyRotationProgress };

/**
 * Rotates the tenant key (and removes members, if named): begin, re-seal the live epoch keys in
 * batches, finish (lib/vault/rotation.ts). Resumable: after a worker crash the workflow continues
 * with the next batch. The admin's decryption grant is destroyed when it ends, however it ends.
 */
export async function rotateKeys(input: KeyRotationInput): Promise<KeyRotationProgress> {
  const p: KeyRotationProgress = { phase: 'starting', epochsDone: 0, epochsTotal: 0 };
  setHandler(keyRotationProgressQuery, () => p);
  const { grant, rotationId } = input;
  try {
    const begun = await beginKeyRotation(input);
    p.epochsTotal = begun.epochsTotal;
    p.phase = 'resealing';
    for (;;) {
      const r = await resealKeyBatch({ grant, rotationId });
      p.epochsDone = r.done;
      p.epochsTotal = r.done + r.remaining;
      if (!r.remaining) break;
    }
    p.phase = 'finishing';
    const done = await finishKeyRotation({ grant, rotationId });
    p.epochsDone = done.epochsDone;
    p.phase = 'done';
    return p;
  } catch (e) {
    p.phase = 'failed';
    const cause = e instanceof Error ? (e.cause as Error | undefined) : undefined;
    const message = cause?.message ?? (e instanceof Error ? e.message : String(e));
    // Cleanups run even when the rotation is cancelled (a cancelled scope schedules nothing).
    await CancellationScope.nonCancellable(() =>
      failKeyRotation({ tenantId: grant.tenantId, rotationId, error: message }),
    );
    throw ApplicationFailure.nonRetryable(`key rotation failed: ${message}`, 'KeyRotationFailed');
  } finally {
    await CancellationScope.nonCancellable(() =>
      destroyDecryptionGrant({ tenantId: grant.tenantId, grantId: grant.grantId }),
    );
  }
}
