import { createHash, randomBytes, randomUUID } from 'node:crypto';
import type { Db } from '../../lib/db';
import { withTenant } from '../../lib/db/tenant-scope';
import { emptyMetadata, type MailMetadata } from '../../lib/ingest/mime-metadata';
import { tokenize } from '../../lib/search/tokenize';
import type { EpochPublicKey } from '../../lib/vault';
import { beginMailEncryption } from '../../lib/vault/mail-envelope';

/**
 * Mails as ingest leaves them for the index (metadata and token list encrypted under each mail's
 * DEK, a queue row), written straight into the database — for index tests and the search
 * benchmark, which need many mails and no bodies.
 */
export interface CorpusMail {
  subject: string;
  from: string;
  to: string;
  text: string;
  attachment?: string;
  receivedAt?: Date;
}

export async function queueMails(
  db: Db,
  tenantId: string,
  epoch: EpochPublicKey,
  mails: CorpusMail[],
): Promise<string[]> {
  const rows = await Promise.all(
    mails.map(async (m) => {
      const id = randomUUID();
      const meta: MailMetadata = {
        ...emptyMetadata(),
        subject: m.subject,
        from: [{ name: '', address: m.from }],
        to: [{ name: '', address: m.to }],
        attachments: m.attachment
          ? [{ filename: m.attachment, contentType: 'application/pdf', size: 10, sha256: '00' }]
          : [],
        textLength: m.text.length,
      };
      const tokens = tokenize(`${m.subject} ${m.from} ${m.to} ${m.text} ${m.attachment ?? ''}`);
      const e = beginMailEncryption(epoch, tenantId, id);
      const row = {
        id,
        tenant_id: tenantId,
        sha256: createHash('sha256').update(id).digest(),
        size: m.text.length + 500,
        epoch_id: epoch.epochId,
        sealed_dek: e.sealedDek,
        staging_key: `test/${id}`,
        object_key: null,
        ciphertext_sha256: randomBytes(32),
        ciphertext_size: 0,
        enc_metadata: await e.encryptPart('mail-metadata', Buffer.from(JSON.stringify(meta))),
        enc_tokens: await e.encryptPart('mail-tokens', Buffer.from(JSON.stringify([...tokens]))),
        ...(m.receivedAt ? { received_at: m.receivedAt } : {}),
      };
      e.dispose();
      e.body.destroy();
      return row;
    }),
  );
  for (let i = 0; i < rows.length; i += 1000) {
    const chunk = rows.slice(i, i + 1000);
    await withTenant(db, tenantId, async (tx) => {
      await tx.insertInto('messages').values(chunk).execute();
      await tx
        .insertInto('search_index_queue')
        .values(chunk.map((r) => ({ message_id: r.id, tenant_id: tenantId })))
        .execute();
    });
  }
  return rows.map((r) => r.id);
}
