import path from 'node:path';
import type { Readable } from 'node:stream';
import { convert } from 'html-to-text';
import PDFDocument from 'pdfkit';
import type { Address } from './address';
import type { MailView } from './read';

/**
 * A mail as a PDF for the file or the tax auditor (issue 8): headers, the body (text, or the HTML
 * turned into readable text — nothing of the HTML is rendered, so nothing in it can act), the
 * attachments with sizes and SHA-256, and the archive facts that let anyone check the original
 * against the ledger. DejaVu Sans is embedded (German and every other Latin script); optional
 * AES-256 password protection (PDF 1.7 extension level 3).
 */

export interface ArchiveFacts {
  messageId: string;
  receivedAt: Date;
  sha256: string;
  size: number;
  ledgerIndex: number | null;
  /** From the proof bundle once the mail is timestamped. */
  proof?: {
    tenantLog: { origin: string; index: number; checkpointSize: number };
    anchorLog: { origin: string; index: number; checkpointSize: number };
    timestamp: { genTime: string; serial: string };
  };
}

export type PdfLang = 'de' | 'en';

const LABELS = {
  de: {
    from: 'Von', to: 'An', cc: 'Cc', date: 'Datum', subject: 'Betreff', body: 'Inhalt',
    attachments: 'Anhänge', none: 'keine', facts: 'Archivnachweis', received: 'Empfangen (Archiv)',
    sha256: 'SHA-256 der Originaldaten', size: 'Größe', message: 'Archiv-ID', ledger: 'Ledger-Eintrag',
    checkpoint: 'Checkpoint (Größe)', anchor: 'Anker-Log (Eintrag / Checkpoint)',
    tsa: 'Zeitstempel (RFC 3161)', serial: 'Seriennummer', pending: 'Zeitstempel noch ausstehend',
    bytes: 'Bytes', page: 'Seite', footer: 'mailrepo – revisionssicheres Mailarchiv',
    verify: 'Prüfen: Beweispaket im Portal herunterladen; mailrepo verify oder verify.py bestätigen unabhängig, dass die Originaldaten diesen SHA-256 haben und spätestens zum Zeitstempel archiviert waren.',
  },
  en: {
    from: 'From', to: 'To', cc: 'Cc', date: 'Date', subject: 'Subject', body: 'Content',
    attachments: 'Attachments', none: 'none', facts: 'Archive record', received: 'Received (archive)',
    sha256: 'SHA-256 of the original bytes', size: 'Size', message: 'Archive id', ledger: 'Ledger entry',
    checkpoint: 'Checkpoint (size)', anchor: 'Anchor log (entry / checkpoint)',
    tsa: 'Timestamp (RFC 3161)', serial: 'Serial number', pending: 'timestamp still pending',
    bytes: 'bytes', page: 'Page', footer: 'mailrepo – revision-proof mail archive',
    verify: 'To check: download the proof bundle in the portal; mailrepo verify or verify.py confirm independently that the original bytes have this SHA-256 and were archived no later than the timestamp.',
  },
} as const; // prettier-ignore

const FONT_DIR = path.join(path.dirname(require.resolve('dejavu-fonts-ttf/package.json')), 'ttf');

const people = (list: Address[]) =>
  list.map((a) => (a.name ? `${a.name} <${a.address}>` : a.address)).join(', ');

const berlin = (d: Date | string, lang: PdfLang) =>
  `${new Date(d).toLocaleString(lang === 'de' ? 'de-DE' : 'en-GB', { timeZone: 'Europe/Berlin' })} (Europe/Berlin)`;

/** The body as text: the text part, else the HTML converted (links kept as text, images dropped). */
export function bodyText(view: Pick<MailView, 'text' | 'html'>): string {
  if (view.text.trim()) return view.text;
  if (!view.html) return '';
  return convert(view.html, {
    wordwrap: false,
    selectors: [
      { selector: 'img', format: 'skip' },
      { selector: 'a', options: { hideLinkHrefIfSameAsText: true } },
    ],
  });
}

export function renderMailPdf(input: {
  view: MailView;
  facts: ArchiveFacts;
  lang: PdfLang;
  password?: string;
}): Readable {
  const L = LABELS[input.lang];
  const { view, facts } = input;
  const doc = new PDFDocument({
    size: 'A4',
    margin: 56,
    bufferPages: true,
    font: path.join(FONT_DIR, 'DejaVuSans.ttf'),
    info: {
      Title: view.subject ?? '',
      Author: people(view.from),
      Creator: 'mailrepo',
      Producer: 'mailrepo (pdfkit)',
    },
    ...(input.password
      ? {
          userPassword: input.password,
          ownerPassword: input.password,
          pdfVersion: '1.7ext3' as const,
          permissions: { printing: 'highResolution' as const, copying: true },
        }
      : {}),
  });
  doc.registerFont('regular', path.join(FONT_DIR, 'DejaVuSans.ttf'));
  doc.registerFont('bold', path.join(FONT_DIR, 'DejaVuSans-Bold.ttf'));
  doc.registerFont('mono', path.join(FONT_DIR, 'DejaVuSansMono.ttf'));

  const width = doc.page.width - 2 * 56;
  const field = (label: string, value: string, font = 'regular') => {
    doc.font('bold').fontSize(9).text(label, { continued: false });
    doc
      .font(font)
      .fontSize(10)
      .text(value || '–', { width });
    doc.moveDown(0.3);
  };
  const heading = (text: string) => {
    doc.moveDown(0.8);
    doc.font('bold').fontSize(13).text(text);
    doc.moveDown(0.3);
  };

  doc
    .font('bold')
    .fontSize(16)
    .text(view.subject || '–', { width });
  doc.moveDown(0.6);
  field(L.from, people(view.from));
  field(L.to, people(view.to));
  if (view.cc.length) field(L.cc, people(view.cc));
  field(L.date, view.date ? berlin(view.date, input.lang) : '–');

  heading(L.body);
  doc
    .font('regular')
    .fontSize(10)
    .text(bodyText(view).replace(/\r\n?/g, '\n') || '–', {
      width,
      lineGap: 1.5,
    });

  heading(L.attachments);
  if (!view.attachments.length) doc.font('regular').fontSize(10).text(L.none);
  for (const a of view.attachments) {
    doc.font('regular').fontSize(10).text(`${a.filename} (${a.contentType}, ${a.size} ${L.bytes})`);
    doc.font('mono').fontSize(8).text(`SHA-256 ${a.sha256}`);
    doc.moveDown(0.3);
  }

  heading(L.facts);
  field(L.message, facts.messageId, 'mono');
  field(L.received, berlin(facts.receivedAt, input.lang));
  field(L.sha256, facts.sha256, 'mono');
  field(L.size, `${facts.size} ${L.bytes}`);
  field(L.ledger, facts.ledgerIndex === null ? '–' : String(facts.ledgerIndex));
  if (facts.proof) {
    const p = facts.proof;
    field(L.checkpoint, `${p.tenantLog.origin} @ ${p.tenantLog.checkpointSize}`, 'mono');
    field(L.anchor, `${p.anchorLog.index} / ${p.anchorLog.checkpointSize}`);
    field(L.tsa, `${berlin(p.timestamp.genTime, input.lang)} — ${p.timestamp.genTime}`);
    field(L.serial, p.timestamp.serial, 'mono');
  } else field(L.tsa, L.pending);
  doc.moveDown(0.5);
  doc.font('regular').fontSize(8).fillColor('#444').text(L.verify, { width });

  // Page numbers last, once the page count is known (bufferPages).
  const range = doc.bufferedPageRange();
  for (let i = range.start; i < range.start + range.count; i++) {
    doc.switchToPage(i);
    // Below the bottom margin: without lifting it, pdfkit would start a new page for the footer.
    doc.page.margins.bottom = 0;
    doc
      .font('regular')
      .fontSize(8)
      .fillColor('#666')
      .text(`${L.footer} · ${L.page} ${i + 1} / ${range.count}`, 56, doc.page.height - 40, {
        width,
        align: 'center',
        lineBreak: false,
      });
  }
  doc.end();
  return doc as unknown as Readable;
}
