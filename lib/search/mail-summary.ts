import type { Db } from '../db';
import { withTenant } from '../db/tenant-scope';
import type { MailMetadata } from '../ingest/mime-metadata';
import type { EpochKeyring } from '../vault/epoch-keyring';
import { decryptMailPart } from '../vault/mail-envelope';
import { indexedDoc, ingestAddresses } from './indexed-doc';
import type { IndexedDoc } from './segment-format';

/**
 * One archived mail's summary, as the index holds it, from the mail's own encrypted metadata:
 * opening a mail needs no index block (at millions of mails, no id → position map is kept).
 * Undefined for a mail that is not archived yet, deleted, or another tenant's (RLS).
 */
export async function mailSummary(
  db: Db,
  tenantId: string,
  keyring: Pick<EpochKeyring, 'get'>,
  messageId: string,
): Promise<IndexedDoc | undefined> {
  const found = await withTenant(db, tenantId, async (tx) => {
    const row = await tx
      .selectFrom('messages')
      .select(['id', 'epoch_id', 'sealed_dek', 'enc_metadata', 'size', 'received_at'])
      .where('id', '=', messageId)
      .where('deleted_at', 'is', null)
      .where('state', 'in', ['ledgered', 'sealed'])
      .executeTakeFirst();
    if (!row) return undefined;
    return { row, addresses: (await ingestAddresses(tx, [messageId])).get(messageId) ?? [] };
  });
  if (!found?.row.sealed_dek || !found.row.enc_metadata) return undefined;
  const { row } = found;
  const epoch = await keyring.get(row.epoch_id);
  const meta = await decryptMailPart(
    epoch,
    tenantId,
    row.id,
    row.sealed_dek!,
    'mail-metadata',
    row.enc_metadata!,
  );
  return indexedDoc(
    row.id,
    row,
    JSON.parse(meta.toString('utf8')) as MailMetadata,
    found.addresses,
  );
}
