import { PassThrough, Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { JOURNAL_REPORT_HEADER } from './journal-report';
import { readMailView, streamAttachment, type MailView } from './read';

/**
 * The original mail inside an archived journal report (issue 22 §2), for everything that shows a
 * mail: the view, its HTML and attachments, the PDF. The archive keeps and proves the report as
 * received; "download original" still gives those bytes.
 */

/** Decodes attachment `index` of `plain` as a stream of its own. */
function attachmentStream(plain: Readable, index: number): Readable {
  const out = new PassThrough();
  streamAttachment(plain, { index }, (_info, content) => pipeline(content, out))
    .then((found) => {
      if (!found) out.destroy(new Error('the journal report has no such part'));
    })
    .catch((e: unknown) => out.destroy(e as Error));
  return out;
}

/** The mail at `parts` (attachment positions, outermost first; a report in a report has two). */
export function journalOriginal(plain: Readable, parts: readonly number[]): Readable {
  return parts.reduce((stream, index) => attachmentStream(stream, index), plain);
}

const MAX_REPORT_DEPTH = 3;

/** The innermost original of a mail held in memory, and its view (parsed once per level). */
async function unwrapped(mail: Buffer): Promise<{ bytes: Buffer; view: MailView }> {
  let bytes = mail;
  let view = await readMailView(Readable.from([bytes]));
  for (let depth = 0; depth < MAX_REPORT_DEPTH; depth++) {
    const report = view.headerLines.some((l) => l.key === JOURNAL_REPORT_HEADER);
    const mails = view.attachments.filter((a) => a.contentType === 'message/rfc822');
    if (!report || mails.length !== 1) break;
    const chunks: Buffer[] = [];
    for await (const c of journalOriginal(Readable.from([bytes]), [mails[0]!.index]))
      chunks.push(c as Buffer);
    bytes = Buffer.concat(chunks);
    view = await readMailView(Readable.from([bytes]));
  }
  return { bytes, view };
}

/**
 * A mail held in memory, unwrapped when it is a journal report with exactly one attached mail (as
 * ingest reads it): the original's bytes, else the mail's own. For callers without the index entry
 * (restores).
 */
export const originalBytes = async (mail: Buffer): Promise<Buffer> => (await unwrapped(mail)).bytes;

/** The view of a mail held in memory, of its original when it is a journal report (exports). */
export const readOriginalView = async (mail: Buffer): Promise<MailView> =>
  (await unwrapped(mail)).view;
