import {
  proxyActivities,
  proxyLocalActivities,
  setHandler,
  upsertSearchAttributes,
} from '@temporalio/workflow';
import type { ArchiveActivities } from '../activities/archive';
import type { LedgerActivities } from '../activities/ledger';
import { stageQuery, type ArchiveMailInput, type MailStage } from '../contracts/archive';
import { MAIL_STAGE } from '../contracts/search-attributes';

export { stageQuery, type MailStage };

const PERMANENT = ['MessageNotFound', 'StagingLost', 'InvalidEntry'];

const { storeMail } = proxyActivities<ArchiveActivities>({
  startToCloseTimeout: '5 minutes',
  // It heartbeats while it copies and reads back: a crashed worker's attempt is retried
  // elsewhere after 15 s instead of after the whole start-to-close timeout.
  heartbeatTimeout: '15 seconds',
  retry: {
    initialInterval: '1 second',
    backoffCoefficient: 2,
    maximumInterval: '1 minute',
    nonRetryableErrorTypes: PERMANENT,
  },
});
// Short database-only steps run as local activities: no task round trip through the server.
const local = proxyLocalActivities<ArchiveActivities>({
  startToCloseTimeout: '30 seconds',
  retry: {
    initialInterval: '500 milliseconds',
    maximumInterval: '30 seconds',
    nonRetryableErrorTypes: PERMANENT,
  },
});
const { ledgerAppend } = proxyLocalActivities<LedgerActivities>({
  startToCloseTimeout: '1 minute',
  retry: {
    initialInterval: '1 second',
    maximumInterval: '30 seconds',
    nonRetryableErrorTypes: PERMANENT,
  },
});
// Waits (heartbeating) for a timestamped checkpoint: a TSA outage only makes this take longer.
const { awaitTimestamp } = proxyActivities<LedgerActivities>({
  startToCloseTimeout: '90 seconds',
  heartbeatTimeout: '10 seconds',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '1 minute' },
});

/**
 * One received mail, from its staging object to a timestamped ledger entry. Started by the LMTP
 * worker once the ciphertext is durable; the id derives from tenant and SHA-256.
 */
export async function archiveMail(input: ArchiveMailInput): Promise<{
  messageId: string;
  ledgerIndex: number;
  timestampedAt: string;
}> {
  let stage: MailStage = 'staged';
  setHandler(stageQuery, () => stage);
  const advance = (next: MailStage) => {
    stage = next;
    upsertSearchAttributes([{ key: MAIL_STAGE, value: next }]);
  };
  const ref = { tenantId: input.tenantId, messageId: input.messageId };

  await storeMail(ref);
  advance('stored');

  const { index } = await ledgerAppend({
    tenantId: input.tenantId,
    entryHashHex: input.sha256Hex,
    kind: 'mail',
  });
  await local.markLedgered({ ...ref, index });
  advance('ledgered');
  await local.queueIndex(ref);
  await local.auditArchived({ ...ref, index });

  const covered = await awaitTimestamp({ tenantId: input.tenantId, index, waitMs: 60_000 });
  await local.markSealed(ref);
  advance('sealed');
  return { messageId: input.messageId, ledgerIndex: index, timestampedAt: covered.genTime };
}
