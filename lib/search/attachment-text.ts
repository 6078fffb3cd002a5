import type { Db } from '../db';
import { withTenant } from '../db/tenant-scope';
import { documentKind } from '../extract/document-kind';
import type { ExtractedPart, ExtractedText } from '../extract/mail-documents';
import type { MailMetadata } from '../ingest/mime-metadata';
import type { EpochKeyring } from '../vault/epoch-keyring';
import { decryptMailParts, type MailPart } from '../vault/mail-envelope';

/**
 * What the search knows of each attachment of one mail, for the mail page (issue 20 §1): its text
 * is indexed (whole or cut at the limit), being read by the index job, could not be read (and
 * why), or only its name is searchable. Text attachments and forwarded mails were read at ingest
 * (their metadata says so), documents by the index job (`mail-extracted`).
 */

export type AttachmentTextStatus = ExtractedPart['status'] | 'pending' | 'name';

export interface MailAttachmentText {
  /** By attachment index, as the mail page numbers them. */
  status: AttachmentTextStatus[];
  /** Documents inside forwarded mails, under the forward's index (`forward.eml › file.pdf`). */
  nested: { index: number; filename: string; status: AttachmentTextStatus }[];
  /** The document text, by part and page, with the part's file name (for snippets). */
  texts: (ExtractedText['texts'][number] & { filename: string })[];
}

export async function mailAttachmentText(
  db: Db,
  tenantId: string,
  keyring: Pick<EpochKeyring, 'get'>,
  messageId: string,
): Promise<MailAttachmentText | undefined> {
  const found = await withTenant(db, tenantId, async (tx) => {
    const row = await tx
      .selectFrom('messages')
      .select(['id', 'epoch_id', 'sealed_dek', 'enc_metadata', 'enc_extracted'])
      .where('id', '=', messageId)
      .where('deleted_at', 'is', null)
      .executeTakeFirst();
    const waiting = await tx
      .selectFrom('search_extract_queue')
      .select('message_id')
      .where('message_id', '=', messageId)
      .executeTakeFirst();
    return row && { row, pending: !!waiting };
  });
  if (!found?.row.sealed_dek || !found.row.enc_metadata) return undefined;
  const { row, pending } = found;
  const parts: [MailPart, Uint8Array][] = [['mail-metadata', row.enc_metadata!]];
  if (row.enc_extracted) parts.push(['mail-extracted', row.enc_extracted]);
  const [meta, extracted] = await decryptMailParts(
    await keyring.get(row.epoch_id),
    tenantId,
    row.id,
    row.sealed_dek!,
    parts,
  );
  const metadata = JSON.parse(meta!.toString('utf8')) as MailMetadata;
  const documents = extracted
    ? (JSON.parse(extracted.toString('utf8')) as ExtractedText)
    : { v: 1, parts: [], texts: [] };
  const byIndex = new Map(documents.parts.filter((p) => !p.nested).map((p) => [p.index, p.status]));
  const status = metadata.attachments.map((a, i): AttachmentTextStatus => {
    const document = byIndex.get(i);
    if (document) return document;
    if (a.text) return a.text;
    return pending && documentKind(a.contentType, a.filename) ? 'pending' : 'name';
  });
  const names = new Map(documents.parts.map((p) => [p.index, p.filename]));
  return {
    status,
    nested: documents.parts
      .filter((p) => p.nested)
      .map((p) => ({ index: p.index, filename: p.filename, status: p.status })),
    texts: documents.texts.map((t) => ({ ...t, filename: names.get(t.index) ?? '' })),
  };
}
