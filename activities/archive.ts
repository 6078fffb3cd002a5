import { CopyObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { metrics } from '../lib/metrics/metrics';
import { ApplicationFailure } from '@temporalio/activity';
import { heartbeat } from '../lib/temporal/heartbeat';
import {
  advanceMessage,
  auditArchivedOnce,
  markStored,
  messageRow,
  messageRows,
  queueForIndex,
  recordLedgered,
  type MessageRef,
} from '../lib/archive/message-states';
import type { ArchiveBatchInput, BatchMail } from '../contracts/archive';
import { eachLimited } from '../lib/archive/each-limited';
import type { Db } from '../lib/db';
import type { LedgerActivities } from './ledger';
import { deleteStaging, deleteStagingObjects } from '../lib/ingest/staging';
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
  /** The ledger's batched append (activities/ledger.ts), shared with ledgerAppend. */
  ledgerAppendMany: LedgerActivities['ledgerAppendMany'];
}

export type { MessageRef };

type MessageRow = NonNullable<Awaited<ReturnType<typeof messageRow>>>;

const objectKeyOf = (row: MessageRow) => `mail/${row.tenant_id}/${row.epoch_id}/${row.id}`;

/** S3 copies in flight per batch: enough to hide latency, few enough to spare MinIO. */
const STORE_CONCURRENCY = 8;

export interface StoreBatchResult {
  /** Mails not stored here, and why; `permanent` when retrying cannot help. */
  failed: (BatchMail & { reason: string; permanent: boolean })[];
}

export function createArchiveActivities({ db, s3, bucket, ledgerAppendMany }: ArchiveDeps) {
  const message = (ref: MessageRef) => messageRow(db, ref);

  /**
   * Copies the staging object into the tenant's storage area and verifies the ciphertext's SHA-256
   * and size against what ingest computed while uploading; returns the object's key.
   */
  async function promote(row: MessageRow, beat: () => void): Promise<string> {
    const objectKey = objectKeyOf(row);
    let stored = await objectDigest(s3, bucket, objectKey, beat);
    const matches = (d?: { sha256: Buffer; size: number }) =>
      !!d && d.sha256.equals(row.ciphertext_sha256) && d.size === Number(row.ciphertext_size);
    if (matches(stored)) return objectKey;
    beat();
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
    stored = await objectDigest(s3, bucket, objectKey, beat);
    if (!matches(stored))
      throw ApplicationFailure.retryable('stored ciphertext does not match its hash', 'Mismatch');
    return objectKey;
  }

  /**
   * storeMail for the mails of an archiveBatch: mails still staged (received before decision
   * 0020, or handed back by a retry) are promoted a few at a time,
   * marked stored in one transaction, staging objects removed with one request. A mail that
   * fails is reported, not thrown, so the others go on and it is retried on its own — unless
   * every mail failed for a passing reason (S3 away): then the whole batch is retried.
   */
  async function storeBatch(input: ArchiveBatchInput): Promise<StoreBatchResult> {
    const timer = metrics.archiveStage.startTimer({ stage: 'store' });
    const rows = new Map(
      (
        await messageRows(
          db,
          input.tenantId,
          input.mails.map((m) => m.messageId),
        )
      ).map((r) => [r.id, r]),
    );
    const stored: { messageId: string; objectKey: string }[] = [];
    const failed: StoreBatchResult['failed'] = [];
    const staging: string[] = [];
    await eachLimited(input.mails, STORE_CONCURRENCY, async (m) => {
      const row = rows.get(m.messageId);
      if (!row) return failed.push({ ...m, reason: 'message row not found', permanent: true });
      if (row.state !== 'staged') return;
      try {
        stored.push({ messageId: m.messageId, objectKey: await promote(row, () => {}) });
        staging.push(row.staging_key);
      } catch (e) {
        failed.push({
          ...m,
          reason: e instanceof Error ? e.message : String(e),
          permanent: e instanceof ApplicationFailure && e.nonRetryable === true,
        });
      }
    });
    if (failed.length === input.mails.length && failed.every((f) => !f.permanent))
      throw ApplicationFailure.retryable(
        `no mail of the batch could be stored: ${failed[0]!.reason}`,
        'StoreFailed',
      );
    await markStored(db, input.tenantId, stored);
    await deleteStagingObjects(s3, bucket, staging);
    timer();
    return { failed };
  }

  return {
    /**
     * Promotes the staging object into the tenant's storage area and verifies the ciphertext's
     * SHA-256 and size against what ingest computed while uploading.
     */
    async storeMail(ref: MessageRef): Promise<{ objectKey: string }> {
      const row = await message(ref);
      if (!row) throw ApplicationFailure.nonRetryable('message row not found', 'MessageNotFound');
      if (row.state !== 'staged') return { objectKey: row.object_key ?? objectKeyOf(row) };
      const timer = metrics.archiveStage.startTimer({ stage: 'store' });
      const objectKey = await promote(row, heartbeat);
      await advanceMessage(db, ref, { state: 'stored', object_key: objectKey }, ['staged']);
      await deleteStaging(s3, bucket, row.staging_key);
      timer();
      return { objectKey };
    },

    async markLedgered(ref: MessageRef & { index: number }): Promise<void> {
      await advanceMessage(db, ref, { state: 'ledgered', ledger_index: ref.index }, ['stored']);
    },

    /**
     * All of an archiveBatch's work on its mails, as one local activity (one workflow activation
     * instead of one per step — the sandbox's cost per activation was the worker's largest):
     * stored (see storeBatch), appended to the ledger in one transaction, then marked, queued for
     * the index and audited in one more. Mails that could not be stored come back in `failed`.
     * Every step is idempotent, so a retry after a crash anywhere converges.
     */
    async archiveBatchMails(input: ArchiveBatchInput): Promise<{
      ledgered: { messageId: string; index: number }[];
      failed: StoreBatchResult['failed'];
    }> {
      const { failed } = await storeBatch(input);
      const failedIds = new Set(failed.map((f) => f.messageId));
      const stored = input.mails.filter((m) => !failedIds.has(m.messageId));
      if (!stored.length) return { ledgered: [], failed };
      const { indexes } = await ledgerAppendMany({
        tenantId: input.tenantId,
        entryHashesHex: stored.map((m) => m.sha256Hex),
        kind: 'mail',
      });
      const ledgered = stored.map((m, i) => ({ messageId: m.messageId, index: indexes[i]! }));
      await recordLedgered(db, input.tenantId, ledgered);
      return { ledgered, failed };
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
