import {
  defineQuery,
  proxyActivities,
  setHandler,
  upsertSearchAttributes,
} from '@temporalio/workflow';
import type { ArchiveActivities } from '../activities/archive';
import type { LedgerActivities } from '../activities/ledger';
import type { ArchiveMailInput } from '../lib/ingest/archive-start';
import { MAIL_STAGE } from './search-attributes';

export type MailStage = 'staged' | 'stored' | 'ledgered' | 'sealed';
export const stageQuery = defineQuery<MailStage>('stage');

const PERMANENT = ['MessageNotFound', 'StagingLost', 'InvalidEntry'];

const archive = proxyActivities<ArchiveActivities>({
  startToCloseTimeout: '5 minutes',
  retry: {
    initialInterval: '1 second',
    backoffCoefficient: 2,
    maximumInterval: '1 minute',
    nonRetryableErrorTypes: PERMANENT,
  },
});
const { ledgerAppend } = proxyActivities<LedgerActivities>({
  startToCloseTimeout: '1 minute',
  retry: {
    initialInterval: '1 second',
    maximumInterval: '30 seconds',
    nonRetryableErrorTypes: PERMANENT,
  },
});
// Polls until a timestamped checkpoint covers the entry: a TSA outage only makes this wait.
const { awaitTimestamp } = proxyActivities<LedgerActivities>({
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '2 seconds', backoffCoefficient: 1.5, maximumInterval: '1 minute' },
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

  await archive.storeMail(ref);
  advance('stored');

  const { index } = await ledgerAppend({
    tenantId: input.tenantId,
    entryHashHex: input.sha256Hex,
    kind: 'mail',
  });
  await archive.markLedgered({ ...ref, index });
  advance('ledgered');
  await archive.queueIndex(ref);
  await archive.auditArchived({ ...ref, index });

  const covered = await awaitTimestamp({ tenantId: input.tenantId, index });
  await archive.markSealed(ref);
  advance('sealed');
  return { messageId: input.messageId, ledgerIndex: index, timestampedAt: covered.genTime };
}
