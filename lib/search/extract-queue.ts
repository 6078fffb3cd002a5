import type { S3Client } from '@aws-sdk/client-s3';
import type { Db } from '../db';
import { withTenant } from '../db/tenant-scope';
import type { DocumentExtractor } from '../extract/extractor';
import { readMailDocuments, type ExtractedText } from '../extract/mail-documents';
import { openMail } from '../mail/open';
import type { EpochKeyring } from '../vault/epoch-keyring';
import { decryptMailPart, encryptMailPart } from '../vault/mail-envelope';
import { hasDocuments as listsDocuments, type MailMetadata } from '../ingest/mime-metadata';
import type { TenantKeys } from '../vault/session';

/**
 * The index job's first step (decision 0022): mails waiting in `search_extract_queue` are opened
 * under the job's grant, their documents read (lib/extract), and the result stored encrypted under
 * each mail's DEK (`messages.enc_extracted`); the mail then leaves the extraction queue, and the
 * merge (which skips mails still waiting here) folds it into the index with its attachment text.
 * A mail at a time; each one's row and queue entry change in one transaction, so a retry repeats
 * at most the mail it was reading.
 */

/** Mails read per call (each a body fetched from storage and its documents parsed). */
export const EXTRACT_BATCH = 8;

export interface ExtractDeps {
  db: Db;
  s3: S3Client;
  bucket: string;
  extractor: DocumentExtractor;
}

export async function extractQueued(
  deps: ExtractDeps,
  session: TenantKeys,
  keyring: EpochKeyring,
  batch = EXTRACT_BATCH,
): Promise<number> {
  const tenantId = session.tenantId;
  const rows = await withTenant(deps.db, tenantId, (tx) =>
    tx
      .selectFrom('search_extract_queue as q')
      .innerJoin('messages as m', 'm.id', 'q.message_id')
      .select(['m.id', 'm.epoch_id', 'm.sealed_dek', 'm.enc_metadata', 'm.deleted_at'])
      .orderBy('q.queued_at')
      .limit(batch)
      .execute(),
  );
  // As many mails at once as the extractor has threads: one long PDF does not hold up the rest.
  let next = 0;
  const lane = async () => {
    for (let row; (row = rows[next++]);) await extractOne(deps, tenantId, keyring, row);
  };
  await Promise.all(Array.from({ length: deps.extractor.limits.threads }, lane));
  return rows.length;
}

async function extractOne(
  deps: ExtractDeps,
  tenantId: string,
  keyring: EpochKeyring,
  row: {
    id: string;
    epoch_id: string;
    sealed_dek: Buffer | null;
    enc_metadata: Buffer | null;
    deleted_at: Date | null;
  },
): Promise<void> {
  let sealed: Buffer | null = null;
  if (!row.deleted_at && row.sealed_dek && (await hasDocuments(tenantId, keyring, row))) {
    const extracted = await readMail(deps, tenantId, keyring, row.id);
    sealed = await encryptMailPart(
      await keyring.get(row.epoch_id),
      tenantId,
      row.id,
      row.sealed_dek,
      'mail-extracted',
      Buffer.from(JSON.stringify(extracted), 'utf8'),
    );
  }
  await withTenant(deps.db, tenantId, async (tx) => {
    // Deleted at retention end meanwhile: nothing is stored for it (its keys are gone).
    if (sealed)
      await tx
        .updateTable('messages')
        .set({ enc_extracted: sealed })
        .where('id', '=', row.id)
        .where('deleted_at', 'is', null)
        .execute();
    await tx.deleteFrom('search_extract_queue').where('message_id', '=', row.id).execute();
  });
}

/**
 * Whether the mail's metadata lists a document: a rebuild queues every mail, and most have none —
 * those cost a metadata decryption, not a fetch of their body.
 */
async function hasDocuments(
  tenantId: string,
  keyring: EpochKeyring,
  row: { id: string; epoch_id: string; sealed_dek: Buffer | null; enc_metadata: Buffer | null },
): Promise<boolean> {
  if (!row.enc_metadata) return false;
  const meta = JSON.parse(
    (
      await decryptMailPart(
        await keyring.get(row.epoch_id),
        tenantId,
        row.id,
        row.sealed_dek!,
        'mail-metadata',
        row.enc_metadata,
      )
    ).toString('utf8'),
  ) as MailMetadata;
  return listsDocuments(meta);
}

/**
 * A mail's documents. Storage failing (the object unreachable) fails the job, which is retried;
 * a body that does not decrypt or parse to the end keeps what was read, with the problem.
 */
async function readMail(
  deps: ExtractDeps,
  tenantId: string,
  keyring: EpochKeyring,
  messageId: string,
): Promise<ExtractedText> {
  const opened = await openMail(deps, tenantId, keyring, messageId);
  if (!opened) return { v: 1, parts: [], texts: [], problem: 'not found' };
  return readMailDocuments(opened.plain, deps.extractor);
}
