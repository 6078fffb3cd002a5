import type { Readable } from 'node:stream';
import type { AttachmentStream } from 'mailparser';
import { attachmentName, mailParser } from '../mail/read';
import { documentKind, isTnef, textKind, type DocumentKind } from './document-kind';
import { readTnef, TnefError } from './tnef';
import { splitUuencoded, type UuFile } from '../mail/uuencode';
import type { UnreadableReason } from './document-text';
import type { DocumentExtractor } from './extractor';

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
  kind: DocumentKind | 'tnef';
  /** `no-text`: read, but no text in it (a scanned PDF). */
  status: 'indexed' | 'truncated' | 'no-text' | UnreadableReason;
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
): Promise<ExtractedText> {
  const budget = {
    left: limits.chars,
    documents: limits.documents,
    deadline: Date.now() + limits.ms,
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
      const kind: DocumentKind | 'tnef' | undefined = isTnef(part.contentType, part.filename)
        ? 'tnef'
        : documentKind(part.contentType, part.filename);
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
          await readDocument(data, at, filename, kind as DocumentKind, out, extractor, budget);
          part.release?.();
        });
      });
    });
    p.on('end', () => {
      // Files uuencoded in the text, numbered after the MIME attachments (lib/mail/uuencode.ts).
      const first = index;
      work = work.then(async () => {
        for (const [k, f] of uuFiles.entries()) {
          const kind = documentKind(null, f.name);
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

/** One document's text into `out`, or why it has none. */
async function readDocument(
  data: Uint8Array | 'too-large',
  at: number,
  filename: string,
  kind: DocumentKind,
  out: ExtractedText,
  extractor: DocumentExtractor,
  budget: Budget,
): Promise<void> {
  const result =
    data === 'too-large'
      ? ({ ok: false, reason: 'too-large' } as const)
      : !take(budget)
        ? ({ ok: false, reason: 'limit' } as const)
        : await extractor.extract(data, kind, budget.left);
  if (!result.ok) {
    out.parts.push({ index: at, filename, kind, status: result.reason });
    return;
  }
  for (const page of result.pages) {
    budget.left -= page.text.length;
    out.texts.push({ index: at, ...page });
  }
  // A scan holds pictures of text, no text: say so rather than "searchable".
  const empty = result.pages.every((p) => !/[\p{L}\p{N}]/u.test(p.text));
  out.parts.push({
    index: at,
    filename,
    kind,
    status: empty && kind !== 'zip' ? 'no-text' : result.truncated ? 'truncated' : 'indexed',
  });
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
