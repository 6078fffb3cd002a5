import { createHash } from 'node:crypto';
import { Writable } from 'node:stream';
import { MailParser, type AddressObject } from 'mailparser';
import { tokenize } from '../search/tokenize';

/**
 * Metadata and search tokens of a mail, extracted with mailparser (a maintained streaming MIME
 * parser) while the bytes arrive. Attachments are hashed and counted as they stream through, never
 * held. A mail the parser cannot read is still archived byte for byte; its metadata then says
 * what failed. Everything returned here is encrypted before it is stored.
 */

export interface Address {
  name: string;
  address: string;
}

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
  attachments: { filename: string | null; contentType: string; size: number; sha256: string }[];
  textLength: number;
  hasHtml: boolean;
  parseError?: string;
}

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
  text?: string;
  html?: string | false;
  release?: () => void;
}

/** A writable sink: write the mail's bytes, then await `result`. */
export class MetadataExtractor extends Writable {
  readonly result: Promise<{ metadata: MailMetadata; tokens: string[] }>;
  // Only what metadata and tokens need: no text → HTML conversion, no link detection, and no
  // HTML → text conversion of huge HTML parts (each holds and copies the whole part in memory).
  private readonly parser = new MailParser({
    skipImageLinks: true,
    skipTextLinks: true,
    skipTextToHtml: true,
    maxHtmlLengthToParse: 2 * 1024 * 1024,
  });

  constructor() {
    super();
    const meta = emptyMetadata();
    const tokens = new Set<string>();
    const pending: Promise<void>[] = [];
    this.result = new Promise((resolve) => {
      const finish = (error?: unknown) =>
        void Promise.all(pending).then(() => {
          if (error) meta.parseError = error instanceof Error ? error.message : String(error);
          for (const a of [...meta.from, ...meta.to, ...meta.cc, ...meta.bcc])
            tokenize(`${a.name} ${a.address}`, tokens);
          if (meta.subject) tokenize(meta.subject, tokens);
          for (const a of meta.attachments) if (a.filename) tokenize(a.filename, tokens);
          resolve({ metadata: meta, tokens: [...tokens] });
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
          const hash = createHash('sha256');
          let size = 0;
          pending.push(
            new Promise<void>((done) => {
              const content = part.content!;
              content.on('data', (c: Buffer) => {
                hash.update(c);
                size += c.length;
              });
              content.on('end', () => {
                meta.attachments.push({
                  filename: part.filename ?? null,
                  contentType: part.contentType ?? 'application/octet-stream',
                  size,
                  sha256: hash.digest('hex'),
                });
                part.release?.();
                done();
              });
              content.on('error', () => done());
            }),
          );
        } else if (part.type === 'text') {
          const text = part.text ?? '';
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
