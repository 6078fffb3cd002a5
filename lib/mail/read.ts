import { Readable } from 'node:stream';
import {
  MailParser,
  type AddressObject,
  type AttachmentStream,
  type HeaderLines,
} from 'mailparser';
import type { Address } from './address';
import { splitUuencoded, type UuFile } from './uuencode';

/**
 * A decrypted mail, read for display: headers, text, the raw (unsanitised) HTML, and the list of
 * attachments with sizes and SHA-256. Attachment contents stream past and are never held; a
 * single attachment is fetched by its position with `streamAttachment`. Runs on the plaintext
 * stream of lib/mail/open.ts, so nothing here touches storage.
 */

export interface AttachmentInfo {
  index: number;
  filename: string;
  contentType: string;
  size: number;
  sha256: string;
  /** Content-ID without brackets, for `cid:` references in the HTML. */
  cid?: string;
  inline: boolean;
}

export interface MailView {
  subject: string | null;
  from: Address[];
  to: Address[];
  cc: Address[];
  replyTo: Address[];
  date: string | null;
  messageId: string | null;
  /** Every header line as received (decoded only where the parser decodes). */
  headerLines: { key: string; line: string }[];
  text: string;
  html: string | null;
  attachments: AttachmentInfo[];
  /** The parser's complaint, if the mail is malformed; it is still shown as far as it goes. */
  problem?: string;
}

/** HTML larger than this is not parsed for display (the original stays downloadable). */
const MAX_HTML = 4 * 1024 * 1024;

const addresses = (v: unknown): Address[] =>
  (Array.isArray(v) ? v : v ? [v] : []).flatMap((o: AddressObject) =>
    o.value.flatMap(function flat(a): Address[] {
      return a.group ? a.group.flatMap(flat) : [{ name: a.name ?? '', address: a.address ?? '' }];
    }),
  );

/** The parser every reader of a stored mail uses, so attachments are numbered alike everywhere. */
export const mailParser = () =>
  new MailParser({
    skipImageLinks: true,
    skipTextToHtml: true,
    skipTextLinks: true,
    maxHtmlLengthToParse: MAX_HTML,
    checksumAlgo: 'sha256',
  });

/** A safe download name: no path, no control characters, something even when missing. */
export function attachmentName(name: string | undefined, index: number): string {
  const clean = (name ?? '')
    .replace(/[\p{Cc}\p{Cf}]/gu, '')
    .replace(/[\\/]/g, '_')
    .replace(/^\.+/, '')
    .trim()
    .slice(0, 200);
  return clean || `anhang-${index + 1}`;
}

function info(part: AttachmentStream, index: number, size: number): AttachmentInfo {
  return {
    index,
    filename: attachmentName(part.filename, index),
    contentType: part.contentType || 'application/octet-stream',
    size,
    sha256: part.checksum ?? '',
    ...(part.cid ? { cid: part.cid } : {}),
    inline: !!part.related || part.contentDisposition === 'inline',
  };
}

export function readMailView(plain: Readable): Promise<MailView> {
  const p = mailParser();
  const view: MailView = {
    subject: null,
    from: [],
    to: [],
    cc: [],
    replyTo: [],
    date: null,
    messageId: null,
    headerLines: [],
    text: '',
    html: null,
    attachments: [],
  };
  return new Promise((resolve, reject) => {
    let index = 0;
    const pending: Promise<void>[] = [];
    let uuFiles: UuFile[] = [];
    // Files uuencoded in the text are listed after the MIME attachments (lib/mail/uuencode.ts).
    const done = () =>
      void Promise.all(pending).then(() => {
        for (const f of uuFiles) {
          const at = view.attachments.length;
          view.attachments.push({
            index: at,
            filename: attachmentName(f.name, at),
            contentType: 'application/octet-stream',
            size: f.data.length,
            sha256: f.sha256,
            inline: false,
          });
        }
        resolve(view);
      });
    p.on('headers', (h) => {
      view.subject = typeof h.get('subject') === 'string' ? (h.get('subject') as string) : null;
      view.from = addresses(h.get('from'));
      view.to = addresses(h.get('to'));
      view.cc = addresses(h.get('cc'));
      view.replyTo = addresses(h.get('reply-to'));
      const date = h.get('date');
      view.date = date instanceof Date && !Number.isNaN(date.getTime()) ? date.toISOString() : null;
      view.messageId =
        typeof h.get('message-id') === 'string' ? (h.get('message-id') as string) : null;
    });
    p.on('headerLines', (lines: HeaderLines) => {
      if (!view.headerLines.length)
        view.headerLines = lines.map((l) => ({ key: l.key, line: l.line }));
    });
    p.on('data', (data: unknown) => {
      const part = data as
        AttachmentStream | { type: 'text'; text?: string; html?: string | false };
      if (part.type === 'attachment') {
        const at = index++;
        let size = 0;
        pending.push(
          new Promise<void>((done) => {
            part.content.on('data', (c: Buffer) => (size += c.length));
            part.content.on('end', () => {
              view.attachments[at] = info(part, at, size);
              part.release?.();
              done();
            });
            part.content.on('error', () => done());
          }),
        );
      } else {
        const split = splitUuencoded(part.text ?? '');
        view.text = split.text;
        uuFiles = split.files;
        view.html = part.html || null;
      }
    });
    p.on('end', done);
    p.on('error', (e: Error) => {
      view.problem = e.message;
      done();
    });
    plain.on('error', reject);
    plain.pipe(p);
  });
}

/**
 * Streams attachment `index` (or the one with Content-ID `cid`) into `sink` as it is decoded;
 * resolves false when the mail has no such attachment. Other parts are skipped unread.
 */
export function streamAttachment(
  plain: Readable,
  which: { index: number } | { cid: string },
  sink: (info: Omit<AttachmentInfo, 'size' | 'sha256'>, content: Readable) => Promise<void>,
): Promise<boolean> {
  const p = mailParser();
  return new Promise((resolve, reject) => {
    let index = 0;
    let found: Promise<void> | undefined;
    let uuFiles: UuFile[] = [];
    p.on('data', (data: unknown) => {
      const part = data as AttachmentStream | { type: 'text'; text?: string };
      if (part.type !== 'attachment') {
        uuFiles = splitUuencoded(part.text ?? '').files;
        return;
      }
      const at = index++;
      const match = 'index' in which ? at === which.index : part.cid === which.cid;
      if (!match || found) {
        part.content.resume();
        part.content.on('end', () => part.release?.());
        return;
      }
      const { size: _s, sha256: _h, ...meta } = info(part, at, 0);
      found = sink(meta, part.content as Readable).finally(() => part.release?.());
    });
    p.on('end', () => {
      // Past the MIME attachments: a file uuencoded in the text.
      const uu = 'index' in which && !found ? uuFiles[which.index - index] : undefined;
      if (uu) {
        const at = (which as { index: number }).index;
        found = sink(
          {
            index: at,
            filename: attachmentName(uu.name, at),
            contentType: 'application/octet-stream',
            inline: false,
          },
          Readable.from([uu.data]),
        );
      }
      if (!found) return resolve(false);
      found.then(() => resolve(true), reject);
    });
    p.on('error', (e: Error) => (found ? found.then(() => resolve(true), reject) : reject(e)));
    plain.on('error', reject);
    plain.pipe(p);
  });
}
