import { documentKind, isImage, isTnef, textKind } from '../extract/document-kind';
import { createHash } from 'node:crypto';
import { Writable } from 'node:stream';
import { convert } from 'html-to-text';
import { MailParser, type AddressObject } from 'mailparser';
import { attachmentTerm, isAttachmentTerm } from '../search/index-terms';
import { tokenize } from '../search/tokenize';
import type { JournalProblem } from '../search/segment-format';
import type { Address } from '../mail/address';
import { splitUuencoded, type UuFile } from '../mail/uuencode';
import {
  JOURNAL_REPORT_HEADER,
  parseJournalReport,
  type JournalRecipient,
} from '../mail/journal-report';

/**
 * Metadata and search tokens of a mail, extracted with mailparser (a maintained streaming MIME
 * parser) while the bytes arrive. Attachments are hashed and counted as they stream through, never
 * held. A mail the parser cannot read is still archived byte for byte; its metadata then says
 * what failed. Everything returned here is encrypted before it is stored.
 */

export type { Address };

export interface MailMetadata {
  from: Address[];
  to: Address[];
  cc: Address[];
  bcc: Address[];
  replyTo: Address[];
  subject: string | null;
  date: string | null;
  messageId: string | null;
  inReplyTo: string | null;
  attachments: {
    filename: string | null;
    contentType: string;
    size: number;
    sha256: string;
    /** Its words are in the search tokens: whole, or up to the per-mail budget. */
    text?: 'indexed' | 'truncated';
    /** A forwarded mail with documents (PDF, Office…) for the index job to read, at any depth. */
    containsDocuments?: true;
  }[];
  textLength: number;
  hasHtml: boolean;
  parseError?: string;
  /**
   * Set for a journal report (issue 22 §2): everything above is the attached original's, with the
   * report's recipients that its headers do not name (Bcc, list members) added as `bcc`.
   */
  journal?: JournalFacts;
}

export interface JournalFacts {
  /** Attachment positions leading to the original (several for a report inside a report). */
  parts: number[];
  sender: string | null;
  /** Every recipient the report(s) list, with how they received the mail. */
  recipients: JournalRecipient[];
  /** SHA-256 of the original's bytes: the same mail journaled twice has the same one. */
  originalSha256?: string;
  /** Why the report could not be read as one (it is then shown as received). */
  problem?: JournalProblem;
}

/** Whether the index job has documents to read in this mail (its own, or in forwarded mails). */
export const hasDocuments = (meta: Pick<MailMetadata, 'attachments'>): boolean =>
  meta.attachments.some(
    (a) =>
      a.containsDocuments ||
      documentKind(a.contentType, a.filename) ||
      isTnef(a.contentType, a.filename),
  );

/** Whether text recognition would have images to read in this mail (its own attachments). */
export const hasImages = (meta: Pick<MailMetadata, 'attachments'>): boolean =>
  meta.attachments.some((a) => isImage(a.contentType, a.filename));

/** Metadata of a mail nothing could be read from (yet). */
export function emptyMetadata(): MailMetadata {
  return {
    from: [], to: [], cc: [], bcc: [], replyTo: [], subject: null, date: null, messageId: null,
    inReplyTo: null, attachments: [], textLength: 0, hasHtml: false,
  }; // prettier-ignore
}

const addresses = (v: AddressObject | AddressObject[] | undefined): Address[] =>
  (Array.isArray(v) ? v : v ? [v] : []).flatMap((o) =>
    o.value.flatMap(function flat(a): Address[] {
      return a.group
        ? a.group.flatMap(flat)
        : [{ name: a.name ?? '', address: (a.address ?? '').toLowerCase() }];
    }),
  );

interface ParsedPart {
  type: 'attachment' | 'text';
  content?: NodeJS.ReadableStream;
  filename?: string;
  contentType?: string;
  headers?: Map<string, unknown>;
  text?: string;
  html?: string | false;
  release?: () => void;
}

/** Forwarded mails inside forwarded mails are followed this deep. */
export const MAX_NESTED_DEPTH = 3;
/** Attachment text one mail keeps for its tokens, forwards included (the rest is not indexed). */
export const ATTACHMENT_TEXT_BYTES = 4 * 1024 * 1024;

/** A byte allowance shared by a mail and the mails forwarded in it. */
export class TextBudget {
  constructor(private left: number) {}

  take(n: number): boolean {
    if (n > this.left) {
      this.left = 0;
      return false;
    }
    this.left -= n;
    return true;
  }
}

/** Bytes in the part's declared charset (UTF-8 when it names none or one we do not know). */
function decodeText(bytes: Buffer, part: ParsedPart): string {
  const ct = part.headers?.get('content-type') as { params?: { charset?: string } } | undefined;
  try {
    return new TextDecoder(ct?.params?.charset ?? 'utf-8').decode(bytes);
  } catch {
    return new TextDecoder('utf-8').decode(bytes);
  }
}

const htmlText = (html: string) =>
  convert(html, {
    wordwrap: false,
    selectors: [
      { selector: 'a', options: { ignoreHref: true } },
      { selector: 'img', format: 'skip' },
    ],
  });

/** The words of a text or HTML attachment into `words`. */
const tokenizeText = (decoded: string, kind: 'text' | 'html', words: Set<string>) =>
  tokenize(kind === 'html' ? htmlText(decoded) : decoded, words);

type ExtractorResult = { metadata: MailMetadata; tokens: string[]; truncated: boolean };

/**
 * A journal report read as the mail it reports (issue 22 §2): the attached original's metadata
 * and words (as the mail's own, not as attachment text), with the report's recipients added. A
 * report without exactly one attached mail, or whose body lists nothing, stays as received and
 * says why.
 */
function unwrapJournal(
  report: MailMetadata,
  reportText: string,
  attached: { index: number; sha256: string; result: ExtractorResult }[],
  truncated: boolean,
): ExtractorResult {
  const listed = parseJournalReport(reportText);
  const own = (problem: JournalFacts['problem']): ExtractorResult => {
    const recipients = listed?.recipients ?? [];
    const words = new Set<string>();
    for (const r of recipients) tokenize(r.address, words);
    if (report.subject) tokenize(report.subject, words);
    return {
      metadata: {
        ...report,
        journal: { parts: [], sender: listed?.sender ?? null, recipients, problem },
      },
      tokens: [...words],
      truncated,
    };
  };
  if (attached.length !== 1) return own(attached.length ? 'several-originals' : 'no-original');
  const [{ index, sha256, result }] = attached as [(typeof attached)[0]];
  const original = result.metadata;
  // A report inside a report (journaled by two organisations): the inner one is unwrapped already.
  const inner = original.journal && !original.journal.problem ? original.journal : undefined;
  const recipients = [...(inner?.recipients ?? [])];
  for (const r of listed?.recipients ?? [])
    if (!recipients.some((x) => x.address === r.address && x.field === r.field)) recipients.push(r);
  const named = new Set([...original.to, ...original.cc, ...original.bcc].map((a) => a.address));
  const bcc = [...original.bcc];
  for (const r of recipients)
    if (!named.has(r.address)) {
      named.add(r.address);
      bcc.push({ name: '', address: r.address });
    }
  const words = new Set(result.tokens);
  for (const a of bcc) tokenize(a.address, words);
  return {
    metadata: {
      ...original,
      bcc,
      journal: {
        parts: [index, ...(inner?.parts ?? [])],
        sender: inner?.sender ?? listed?.sender ?? null,
        recipients,
        originalSha256: inner?.originalSha256 ?? sha256,
        ...(listed ? {} : { problem: 'unreadable-report' as const }),
      },
    },
    tokens: [...words],
    truncated: truncated || result.truncated,
  };
}

/** A writable sink: write the mail's bytes, then await `result`. */
export class MetadataExtractor extends Writable {
  readonly result: Promise<ExtractorResult>;
  // Only what metadata and tokens need: no text → HTML conversion, no link detection, and no
  // HTML → text conversion of huge HTML parts (each holds and copies the whole part in memory).
  private readonly parser = new MailParser({
    skipImageLinks: true,
    skipTextLinks: true,
    skipTextToHtml: true,
    maxHtmlLengthToParse: 2 * 1024 * 1024,
  });

  constructor(
    /** How deep in forwarded mails this one is (0: the mail itself). */
    depth = 0,
    /** Bytes of attachment text the whole mail, forwards included, may keep for tokens. */
    budget = new TextBudget(ATTACHMENT_TEXT_BYTES),
  ) {
    super();
    const meta = emptyMetadata();
    const tokens = new Set<string>();
    // Words of attachments and forwarded mails: indexed as attachment terms (index-terms.ts).
    const attachmentWords = new Set<string>();
    const pending: Promise<void>[] = [];
    // Files uuencoded in the text: numbered after the MIME attachments, as every reader does.
    let uuFiles: UuFile[] = [];
    let anyTruncated = false;
    // A journal report: its body text, and the mails attached to it by position.
    let journalReport = false;
    let reportText = '';
    let attachmentsSeen = 0;
    const attachedMails: { index: number; sha256: string; result: ExtractorResult }[] = [];
    this.result = new Promise((resolve) => {
      const finish = (error?: unknown) =>
        void Promise.all(pending).then(() => {
          if (error) meta.parseError = error instanceof Error ? error.message : String(error);
          if (journalReport && !error)
            return resolve(unwrapJournal(meta, reportText, attachedMails, anyTruncated));
          for (const f of uuFiles) {
            const kind = textKind(undefined, f.name);
            const keep = (kind === 'text' || kind === 'html') && budget.take(f.data.length);
            if (keep) {
              const decoded = f.data.toString('utf8');
              tokenizeText(decoded, kind, attachmentWords);
            }
            meta.attachments.push({
              filename: f.name,
              contentType: 'application/octet-stream',
              size: f.data.length,
              sha256: f.sha256,
              ...(keep ? { text: 'indexed' as const } : {}),
            });
          }
          for (const a of [...meta.from, ...meta.to, ...meta.cc, ...meta.bcc])
            tokenize(`${a.name} ${a.address}`, tokens);
          if (meta.subject) tokenize(meta.subject, tokens);
          for (const a of meta.attachments) if (a.filename) tokenize(a.filename, tokens);
          for (const w of attachmentWords) tokens.add(attachmentTerm(w));
          resolve({ metadata: meta, tokens: [...tokens], truncated: anyTruncated });
        });
      // The report header has no value, and mailparser's header map drops empty ones.
      this.parser.once('headerLines', (lines: { key: string }[]) => {
        journalReport = lines.some((l) => l.key === JOURNAL_REPORT_HEADER);
      });
      this.parser.on('headers', (h) => {
        meta.from = addresses(h.get('from') as AddressObject | undefined);
        meta.to = addresses(h.get('to') as AddressObject | undefined);
        meta.cc = addresses(h.get('cc') as AddressObject | undefined);
        meta.bcc = addresses(h.get('bcc') as AddressObject | undefined);
        meta.replyTo = addresses(h.get('reply-to') as AddressObject | undefined);
        const subject = h.get('subject');
        meta.subject = typeof subject === 'string' ? subject : null;
        const date = h.get('date');
        meta.date =
          date instanceof Date && !Number.isNaN(date.getTime()) ? date.toISOString() : null;
        const id = h.get('message-id');
        meta.messageId = typeof id === 'string' ? id : null;
        const reply = h.get('in-reply-to');
        meta.inReplyTo = typeof reply === 'string' ? reply : null;
      });
      this.parser.on('data', (data: unknown) => {
        const part = data as ParsedPart;
        if (part.type === 'attachment') {
          const position = attachmentsSeen++;
          const hash = createHash('sha256');
          let size = 0;
          const kind = textKind(part.contentType, part.filename);
          // A forwarded mail is parsed as it streams by, to its own depth limit; text parts are
          // kept within the mail's budget (reserved before a chunk is kept), decoded at the end.
          const nested =
            kind === 'mail' && depth < MAX_NESTED_DEPTH
              ? new MetadataExtractor(depth + 1, budget)
              : undefined;
          const kept: Buffer[] = [];
          let truncated = false;
          pending.push(
            new Promise<void>((done) => {
              const content = part.content!;
              content.on('data', (c: Buffer) => {
                hash.update(c);
                size += c.length;
                if (nested) nested.write(c);
                else if (kind === 'text' || kind === 'html') {
                  if (!truncated && budget.take(c.length)) kept.push(c);
                  else truncated = true;
                }
              });
              content.on('end', () => {
                void (async () => {
                  let text: 'indexed' | 'truncated' | undefined;
                  let containsDocuments = false;
                  const sha256 = hash.digest('hex');
                  if (nested) {
                    nested.end();
                    const inner = await nested.result;
                    attachedMails.push({ index: position, sha256, result: inner });
                    // Everything of a forwarded mail is attachment text here.
                    for (const t of inner.tokens)
                      attachmentWords.add(isAttachmentTerm(t) ? t.slice(0, -1) : t);
                    text = inner.truncated ? 'truncated' : 'indexed';
                    if (hasDocuments(inner.metadata)) containsDocuments = true;
                  } else if (kind === 'text' || kind === 'html') {
                    const decoded = decodeText(Buffer.concat(kept), part);
                    tokenizeText(decoded, kind, attachmentWords);
                    text = truncated ? 'truncated' : 'indexed';
                  }
                  if (text === 'truncated') anyTruncated = true;
                  meta.attachments.push({
                    filename: part.filename ?? null,
                    contentType: part.contentType ?? 'application/octet-stream',
                    size,
                    sha256,
                    ...(text ? { text } : {}),
                    ...(containsDocuments ? { containsDocuments: true as const } : {}),
                  });
                  part.release?.();
                  done();
                })().catch(() => done());
              });
              content.on('error', () => done());
            }),
          );
        } else if (part.type === 'text') {
          const { text, files } = splitUuencoded(part.text ?? '');
          uuFiles = files;
          reportText = text;
          meta.textLength = text.length;
          meta.hasHtml = !!part.html;
          tokenize(text, tokens);
        }
      });
      this.parser.on('end', () => finish());
      this.parser.on('error', (err) => {
        finish(err);
      });
    });
  }

  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (e?: Error | null) => void): void {
    // A parser failure must not fail the archive: swallow write errors, the result reports it.
    if (this.parser.writable) this.parser.write(chunk, () => cb());
    else cb();
  }

  override _final(cb: (e?: Error | null) => void): void {
    if (this.parser.writable) this.parser.end();
    cb();
  }
}
