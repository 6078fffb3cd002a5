import type { S3Client } from '@aws-sdk/client-s3';
import type { RestoreInput } from '../contracts/restore';
import type { Db } from '../lib/db';
import { finishRestore, prepareRestore, restoreBatch } from '../lib/restore/restore';
import { heartbeat } from '../lib/temporal/heartbeat';
import { withGrant, type GrantRef } from './with-grant';

/**
 * The restoreMails workflow's activities, each under the restore's decryption grant and safe to
 * retry: the list is numbered once, and a batch appends only the mails it has not placed yet.
 */
export function createRestoreActivities(deps: { db: Db; s3: S3Client; bucket: string }) {
  return {
    prepareRestore(input: Omit<RestoreInput, 'account' | 'folder'>): Promise<number> {
      return withGrant(deps.db, input.grant, 'restore', (keys, keyring) =>
        prepareRestore(deps.db, keys, keyring, input),
      );
    },
    restoreBatch(
      input: Pick<RestoreInput, 'grant' | 'restoreId' | 'account' | 'folder'> & {
        from: number;
        to: number;
      },
    ): Promise<number> {
      return withGrant(deps.db, input.grant, 'restore', (_keys, keyring) =>
        restoreBatch(deps, keyring, { ...input, tenantId: input.grant.tenantId }, () =>
          heartbeat(),
        ),
      );
    },
    finishRestore(input: { grant: GrantRef; restoreId: string; error?: string }): Promise<void> {
      return finishRestore(deps.db, {
        tenantId: input.grant.tenantId,
        restoreId: input.restoreId,
        error: input.error,
      });
    },
  };
}

export type RestoreActivities = ReturnType<typeof createRestoreActivities>;
