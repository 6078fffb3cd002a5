import type { Readable } from 'node:stream';
import type { AttachmentStream } from 'mailparser';
import { attachmentName, mailParser } from '../mail/read';
import { documentKind, isImage, isTnef, textKind, type DocumentKind } from './document-kind';
import { ocrImage, OcrFailed, ocrPdf } from './ocr';
import { readTnef, TnefError } from './tnef';
import { splitUuencoded, type UuFile } from '../mail/uuencode';
import type { DocumentText, UnreadableReason } from './document-text';
import type { DocumentExtractor, PartText } from './extractor';

/**
 * The documents attached to one mail, read for the index (decision 0022): the mail's plaintext
 * streams past, each attachment that is a document is collected up to the extractor's input
 * limit (bounded while it is read) and handed to the extractor; one at a time, since the parser
 * waits for each attachment to be released. What comes back is kept encrypted under the mail's
 * DEK (`mail-extracted`): the text by part and page, and what became of every document.
 */

export interface ExtractedPart {
  /** Position among the mail's attachments, as the mail page numbers them. */
  index: number;
  filename: string;
  kind: DocumentKind | 'tnef' | 'image';
  /**
   * `no-text`: read, but no text in it (a scanned PDF, with text recognition off or finding none);
   * `ocr`: its text was recognised in its pictures; `ocr-unavailable`: recognition is switched on
   * but Tesseract or pdftoppm is not installed on the server.
   */
  status: 'indexed' | 'truncated' | 'no-text' | 'ocr' | 'ocr-unavailable' | UnreadableReason;
  /** Inside a forwarded mail (the attachment at `index` is that mail). */
  nested?: true;
}

export interface ExtractedText {
  v: 1;
  parts: ExtractedPart[];
  texts: { index: number; page?: number; text: string }[];
  /** The mail itself could not be read to the end (its parts so far are kept). */
  problem?: string;
}

/**
 * What one mail may cost, all its documents together (forwards and winmail.dat included): text
 * kept, documents parsed, and time — each part has the extractor's time limit, but a mail of a
 * thousand tiny PDFs that each take that long would hold the index job for hours. Past a limit
 * the remaining documents are listed as `limit`, unread.
 */
export const MAIL_BUDGET = { chars: 4 * 2 ** 20, documents: 100, ms: 5 * 60_000 };

interface Budget {
  left: number;
  documents: number;
  deadline: number;
  /** The tenant switched text recognition on (images and scanned PDFs are read by Tesseract). */
  ocr: boolean;
}

/** Whether the mail may have another document parsed; counts it if so. */
function take(budget: Budget): boolean {
  if (budget.documents <= 0 || Date.now() > budget.deadline) return false;
  budget.documents--;
  return true;
}

export function readMailDocuments(
  plain: Readable,
  extractor: DocumentExtractor,
  limits: { chars: number; documents: number; ms: number } = MAIL_BUDGET,
  opts: { ocr?: boolean } = {},
): Promise<ExtractedText> {
  const budget = {
    left: limits.chars,
    documents: limits.documents,
    deadline: Date.now() + limits.ms,
    ocr: !!opts.ocr,
  };
  return read(plain, extractor, budget, 0);
}

/** Forwarded mails inside forwarded mails are read this deep (as at ingest). */
const MAX_DEPTH = 3;

/**
 * One mail's (or forwarded mail's) documents. A forwarded mail's are listed under the forward's
 * own attachment index, named `forward.eml › file.pdf`, so the mail page can place them.
 */
function read(
  plain: Readable,
  extractor: DocumentExtractor,
  budget: Budget,
  depth: number,
): Promise<ExtractedText> {
  const out: ExtractedText = { v: 1, parts: [], texts: [] };
  const p = mailParser();
  return new Promise((resolve) => {
    let index = 0;
    let uuFiles: UuFile[] = [];
    let work = Promise.resolve();
    let finished = false;
    const finish = (problem?: string) => {
      if (finished) return;
      finished = true;
      void work.then(() => resolve(problem ? { ...out, problem: problem.slice(0, 200) } : out));
    };
    p.on('data', (data: unknown) => {
      const part = data as AttachmentStream | { type: 'text'; text?: string };
      if (part.type !== 'attachment') {
        uuFiles = splitUuencoded(part.text ?? '').files;
        return;
      }
      const at = index++;
      const filename = attachmentName(part.filename, at);
      const kind: ExtractedPart['kind'] | undefined = isTnef(part.contentType, part.filename)
        ? 'tnef'
        : (documentKind(part.contentType, part.filename) ??
          (budget.ocr && isImage(part.contentType, part.filename) ? 'image' : undefined));
      if (!kind && textKind(part.contentType, part.filename) === 'mail' && depth < MAX_DEPTH) {
        const inner = read(part.content as Readable, extractor, budget, depth + 1);
        work = work.then(async () => {
          const found = await inner;
          for (const x of found.parts)
            out.parts.push({
              ...x,
              index: at,
              filename: `${filename} › ${x.filename}`,
              nested: true,
            });
          for (const x of found.texts) out.texts.push({ ...x, index: at });
          part.release?.();
        });
        return;
      }
      if (!kind) {
        part.content.resume();
        part.content.on('end', () => part.release?.());
        return;
      }
      const chunks: Buffer[] = [];
      let size = 0;
      part.content.on('data', (c: Buffer) => {
        size += c.length;
        // Past the limit nothing more is kept; the rest streams by.
        if (size <= extractor.limits.maxInputBytes) chunks.push(c);
        else chunks.length = 0;
      });
      part.content.on('error', () => {
        out.parts.push({ index: at, filename, kind, status: 'damaged' });
        part.release?.();
      });
      part.content.on('end', () => {
        work = work.then(async () => {
          if (kind === 'tnef' && size <= extractor.limits.maxInputBytes) {
            await readWinmail(Buffer.concat(chunks), at, filename, out, extractor, budget);
            chunks.length = 0;
            part.release?.();
            return;
          }
          const data = size > extractor.limits.maxInputBytes ? 'too-large' : Buffer.concat(chunks);
          chunks.length = 0;
          await readDocument(
            data,
            at,
            filename,
            kind as DocumentKind | 'image',
            out,
            extractor,
            budget,
          );
          part.release?.();
        });
      });
    });
    p.on('end', () => {
      // Files uuencoded in the text, numbered after the MIME attachments (lib/mail/uuencode.ts).
      const first = index;
      work = work.then(async () => {
        for (const [k, f] of uuFiles.entries()) {
          const kind =
            documentKind(null, f.name) ?? (budget.ocr && isImage(null, f.name) ? 'image' : null);
          const name = attachmentName(f.name, first + k);
          if (kind) await readDocument(f.data, first + k, name, kind, out, extractor, budget);
        }
      });
      finish();
    });
    p.on('error', (e: Error) => finish(e.message));
    plain.on('error', (e: Error) => {
      p.end();
      finish(e.message);
    });
    plain.pipe(p);
  });
}

/** One document's (or, with text recognition on, one image's) text into `out`, or why it has none. */
async function readDocument(
  data: Uint8Array | 'too-large',
  at: number,
  filename: string,
  kind: DocumentKind | 'image',
  out: ExtractedText,
  extractor: DocumentExtractor,
  budget: Budget,
): Promise<void> {
  let result: Awaited<ReturnType<typeof recognise>> =
    data === 'too-large'
      ? { ok: false, reason: 'too-large' }
      : !take(budget)
        ? { ok: false, reason: 'limit' }
        : kind === 'image'
          ? { ok: true, pages: [], truncated: false }
          : await extractor.extract(data, kind, budget.left);
  // A scan holds pictures of text, no text: recognised if the tenant wants it, else said so.
  const empty = (pages: DocumentText['pages']) => pages.every((p) => !/[\p{L}\p{N}]/u.test(p.text));
  if (
    result.ok &&
    budget.ocr &&
    data !== 'too-large' &&
    (kind === 'image' || (kind === 'pdf' && empty(result.pages)))
  )
    result = await recognise(data, kind, result.pages.length);
  if (!result.ok) {
    out.parts.push({ index: at, filename, kind, status: result.reason });
    return;
  }
  for (const page of result.pages) {
    const text = page.text.slice(0, Math.max(0, budget.left));
    budget.left -= text.length;
    out.texts.push({ index: at, ...page, text });
  }
  out.parts.push({
    index: at,
    filename,
    kind,
    status:
      empty(result.pages) && kind !== 'zip'
        ? 'no-text'
        : result.truncated
          ? 'truncated'
          : 'ocr' in result
            ? 'ocr'
            : 'indexed',
  });
}

/** Text recognition of an image or a scanned PDF; its failures are listed like a parser's. */
async function recognise(
  data: Uint8Array,
  kind: 'image' | 'pdf',
  pages: number,
): Promise<
  | PartText
  | { ok: false; reason: 'ocr-unavailable' }
  | { ok: true; pages: DocumentText['pages']; truncated: boolean; ocr: true }
> {
  try {
    const read =
      kind === 'image'
        ? { pages: [{ text: await ocrImage(data) }], truncated: false }
        : await ocrPdf(data, pages);
    return { ok: true, ...read, ocr: true };
  } catch (e) {
    if (!(e instanceof OcrFailed)) throw e;
    return { ok: false, reason: e.reason === 'missing' ? 'ocr-unavailable' : e.reason };
  }
}

/**
 * A `winmail.dat`: its attachments read like the mail's own (documents by the extractor, text
 * files as text), listed as `winmail.dat › name`, and its plain body as text.
 */
async function readWinmail(
  data: Buffer,
  index: number,
  filename: string,
  out: ExtractedText,
  extractor: DocumentExtractor,
  budget: Budget,
): Promise<void> {
  let tnef;
  try {
    tnef = readTnef(data);
  } catch (e) {
    out.parts.push({
      index,
      filename,
      kind: 'tnef',
      status: e instanceof TnefError ? 'damaged' : 'limit',
    });
    return;
  }
  out.parts.push({ index, filename, kind: 'tnef', status: 'indexed' });
  const keep = (text: string, page?: number) => {
    const cut = text.slice(0, Math.max(0, budget.left));
    budget.left -= cut.length;
    if (cut) out.texts.push({ index, ...(page ? { page } : {}), text: cut });
    return cut.length < text.length;
  };
  if (tnef.body) keep(tnef.body);
  if (tnef.rtfCompressed) {
    // The body as Outlook writes it; a failure is listed like a document's.
    const result = take(budget)
      ? await extractor.extract(tnef.rtfCompressed, 'compressed-rtf', budget.left)
      : ({ ok: false, reason: 'limit' } as const);
    if (result.ok) for (const p of result.pages) keep(p.text);
    else
      out.parts.push({
        index,
        filename: `${filename} › body.rtf`,
        kind: 'rtf',
        status: result.reason,
        nested: true,
      });
  }
  for (const a of tnef.attachments) {
    const name = `${filename} › ${attachmentName(a.name, 0)}`;
    // Their names are searchable as the mail's own attachment names are.
    keep(a.name);
    const kind = documentKind(null, a.name);
    if (kind) {
      const result = take(budget)
        ? await extractor.extract(a.data, kind, budget.left)
        : ({ ok: false, reason: 'limit' } as const);
      if (!result.ok) {
        out.parts.push({ index, filename: name, kind, status: result.reason, nested: true });
        continue;
      }
      let truncated = result.truncated;
      for (const p of result.pages) truncated = keep(p.text, p.page) || truncated;
      out.parts.push({
        index,
        filename: name,
        kind,
        status: truncated ? 'truncated' : 'indexed',
        nested: true,
      });
    } else if (textKind(undefined, a.name) === 'text') keep(Buffer.from(a.data).toString('utf8'));
    else if (textKind(undefined, a.name) === 'html')
      keep(
        Buffer.from(a.data)
          .toString('utf8')
          .replace(/<[^>]*>/g, ' '),
      );
  }
}
