import type { S3Client } from '@aws-sdk/client-s3';
import type { Db } from '../db';
import { withTenant, type TenantTx } from '../db/tenant-scope';
import type { DocumentExtractor } from '../extract/extractor';
import { ocrEnabled } from '../auth/tenant-settings';
import {
  hasDocuments as listsDocuments,
  hasImages,
  type MailMetadata,
} from '../ingest/mime-metadata';
import { MAIL_BUDGET, readMailDocuments, type ExtractedText } from '../extract/mail-documents';
import { openMail } from '../mail/open';
import type { EpochKeyring } from '../vault/epoch-keyring';
import { decryptMailParts, encryptMailPart } from '../vault/mail-envelope';
import type { TenantKeys } from '../vault/session';
import { indexedDoc, ingestAddresses } from './indexed-doc';
import { documentWords } from './segment-build';
import type { IndexedDoc } from './segment-format';

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
  /**
   * In the transaction that stores a mail's document text, with the mail's summary and all its
   * terms: the legal holds judge it again (a word only its PDF holds can make it held).
   */
  afterRead?: (
    tx: TenantTx,
    tenantId: string,
    doc: IndexedDoc,
    terms: Set<string>,
  ) => Promise<unknown>;
}

export async function extractQueued(
  deps: ExtractDeps,
  session: TenantKeys,
  keyring: EpochKeyring,
  batch = EXTRACT_BATCH,
): Promise<number> {
  const tenantId = session.tenantId;
  const { rows, ocr } = await withTenant(deps.db, tenantId, async (tx) => ({
    ocr: await ocrEnabled(tx, tenantId),
    rows: await tx
      .selectFrom('search_extract_queue as q')
      .innerJoin('messages as m', 'm.id', 'q.message_id')
      .select([
        'm.id',
        'm.epoch_id',
        'm.sealed_dek',
        'm.enc_metadata',
        'm.enc_tokens',
        'm.size',
        'm.received_at',
        'm.deleted_at',
      ])
      .orderBy('q.queued_at')
      .limit(batch)
      .execute(),
  }));
  // As many mails at once as the extractor has threads: one long PDF does not hold up the rest.
  let next = 0;
  const lane = async () => {
    for (let row; (row = rows[next++]);) await extractOne(deps, tenantId, keyring, row, ocr);
  };
  await Promise.all(Array.from({ length: deps.extractor.limits.threads }, lane));
  return rows.length;
}

type QueuedRow = {
  id: string;
  epoch_id: string;
  sealed_dek: Buffer | null;
  enc_metadata: Buffer | null;
  enc_tokens: Buffer | null;
  size: string | number;
  received_at: Date;
  deleted_at: Date | null;
};

async function extractOne(
  deps: ExtractDeps,
  tenantId: string,
  keyring: EpochKeyring,
  row: QueuedRow,
  ocr: boolean,
): Promise<void> {
  let sealed: Buffer | null = null;
  let judged: { metadata: MailMetadata; terms: Set<string> } | undefined;
  // Deleted at retention end meanwhile: nothing to read (its keys are gone).
  if (!row.deleted_at && row.sealed_dek && row.enc_metadata && row.enc_tokens) {
    const epoch = await keyring.get(row.epoch_id);
    const [meta, tokens] = await decryptMailParts(epoch, tenantId, row.id, row.sealed_dek, [
      ['mail-metadata', row.enc_metadata],
      ['mail-tokens', row.enc_tokens],
    ]);
    const metadata = JSON.parse(meta!.toString('utf8')) as MailMetadata;
    // A rebuild queues every mail, and most have no document: a decryption, no body fetched.
    if (listsDocuments(metadata) || (ocr && hasImages(metadata))) {
      const extracted = await readMail(deps, tenantId, keyring, row.id, ocr);
      sealed = await encryptMailPart(
        epoch,
        tenantId,
        row.id,
        row.sealed_dek,
        'mail-extracted',
        Buffer.from(JSON.stringify(extracted), 'utf8'),
      );
      const terms = documentWords(
        extracted,
        new Set(JSON.parse(tokens!.toString('utf8')) as string[]),
      );
      judged = { metadata, terms };
    }
  }
  await withTenant(deps.db, tenantId, async (tx) => {
    if (sealed) {
      await tx
        .updateTable('messages')
        .set({ enc_extracted: sealed })
        .where('id', '=', row.id)
        .where('deleted_at', 'is', null)
        .execute();
      if (judged && deps.afterRead) {
        const addresses = (await ingestAddresses(tx, [row.id])).get(row.id) ?? [];
        const doc = indexedDoc(row.id, row, judged.metadata, addresses);
        await deps.afterRead(tx, tenantId, doc, judged.terms);
      }
    }
    await tx.deleteFrom('search_extract_queue').where('message_id', '=', row.id).execute();
  });
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
  ocr: boolean,
): Promise<ExtractedText> {
  const opened = await openMail(deps, tenantId, keyring, messageId);
  if (!opened) return { v: 1, parts: [], texts: [], problem: 'not found' };
  return readMailDocuments(opened.plain, deps.extractor, MAIL_BUDGET, { ocr });
}
