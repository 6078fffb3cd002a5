import { CopyObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { metrics } from '../lib/metrics/metrics';
import { ApplicationFailure } from '@temporalio/activity';
import { heartbeat } from '../lib/temporal/heartbeat';
import {
  advanceMessage,
  auditArchivedOnce,
  messageRow,
  queueForIndex,
  type MessageRef,
} from '../lib/archive/message-states';
import type { Db } from '../lib/db';
import { deleteStaging } from '../lib/ingest/staging';
import { objectDigest } from '../lib/storage/s3';

/**
 * The archiveMail workflow's own activities (ledgerAppend and awaitTimestamp come from the
 * ledger). Each is idempotent: it looks at the message row first and does only what is missing,
 * so a retry after a crash at any point converges on one archive entry.
 */
export interface ArchiveDeps {
  db: Db;
  s3: S3Client;
  bucket: string;
}

export type { MessageRef };

export function createArchiveActivities({ db, s3, bucket }: ArchiveDeps) {
  const message = (ref: MessageRef) => messageRow(db, ref);

  return {
    /**
     * Promotes the staging object into the tenant's storage area and verifies the ciphertext's
     * SHA-256 and size against what ingest computed while uploading.
     */
    async storeMail(ref: MessageRef): Promise<{ objectKey: string }> {
      const row = await message(ref);
      if (!row) throw ApplicationFailure.nonRetryable('message row not found', 'MessageNotFound');
      const objectKey = `mail/${row.tenant_id}/${row.epoch_id}/${row.id}`;
      if (row.state !== 'staged') return { objectKey: row.object_key ?? objectKey };
      const timer = metrics.archiveStage.startTimer({ stage: 'store' });
      let stored = await objectDigest(s3, bucket, objectKey, heartbeat);
      const matches = (d?: { sha256: Buffer; size: number }) =>
        !!d && d.sha256.equals(row.ciphertext_sha256) && d.size === Number(row.ciphertext_size);
      if (!matches(stored)) {
        heartbeat();
        try {
          await s3.send(
            new CopyObjectCommand({
              Bucket: bucket,
              Key: objectKey,
              CopySource: `${bucket}/${row.staging_key}`,
            }),
          );
        } catch (e) {
          if ((e as { name?: string }).name === 'NoSuchKey')
            throw ApplicationFailure.nonRetryable(
              'the staging object is gone and no verified copy exists',
              'StagingLost',
            );
          throw e;
        }
        stored = await objectDigest(s3, bucket, objectKey, heartbeat);
        if (!matches(stored))
          throw ApplicationFailure.retryable(
            'stored ciphertext does not match its hash',
            'Mismatch',
          );
      }
      await advanceMessage(db, ref, { state: 'stored', object_key: objectKey }, ['staged']);
      await deleteStaging(s3, bucket, row.staging_key);
      timer();
      return { objectKey };
    },

    async markLedgered(ref: MessageRef & { index: number }): Promise<void> {
      await advanceMessage(db, ref, { state: 'ledgered', ledger_index: ref.index }, ['stored']);
    },

    /** Queues the encrypted token list for the search index maintenance (DESIGN §7). */
    async queueIndex(ref: MessageRef): Promise<void> {
      await queueForIndex(db, ref);
    },

    /** One `mail.archived` event per message, however often this runs. */
    async auditArchived(ref: MessageRef & { index: number }): Promise<void> {
      await auditArchivedOnce(db, ref, ref.index);
    },

    async markSealed(ref: MessageRef): Promise<void> {
      const sealedAt = new Date();
      await advanceMessage(db, ref, { state: 'sealed', sealed_at: sealedAt }, ['ledgered']);
      // The whole of archiveMail: from the LMTP reply to the covering timestamp.
      const row = await message(ref);
      if (row?.sealed_at?.getTime() === sealedAt.getTime())
        metrics.archiveStage.observe(
          { stage: 'received_to_sealed' },
          (sealedAt.getTime() - row.received_at.getTime()) / 1000,
        );
    },
  };
}

export type ArchiveActivities = ReturnType<typeof createArchiveActivities>;
