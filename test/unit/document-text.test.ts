import { pagesPdf } from '../helpers/pdf-pages';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { strToU8, zipSync } from 'fflate';
import { documentKind } from '../../lib/extract/document-kind';
import { DocumentExtractor } from '../../lib/extract/extractor';
import { pdfStream, rawPdf, textPdf } from '../helpers/raw-pdf';

/**
 * Attachment text on extraction threads (issue 20): pages of a PDF, names in a ZIP, and every way
 * a part can fail — encrypted, damaged, a ZIP bomb, too large, a PDF that keeps the parser busy —
 * answered with a reason, within the limits, leaving the extractor usable for the next part.
 */

const run = promisify(execFile);
const dir = mkdtempSync(path.join(os.tmpdir(), 'mailrepo-extract-'));

const pdf = pagesPdf;

/**
 * A PDF of 2 KB that asks for 10⁹ drawings: nine levels of forms, each drawing the next ten
 * times, the last a word.
 */
function busyPdf(): Buffer {
  const levels = 9;
  const font = 5 + levels;
  const forms = Array.from({ length: levels }, (_, i) =>
    pdfStream(
      `/Type /XObject /Subtype /Form /BBox [0 0 612 792] /Resources << /XObject << /X ${6 + i} 0 R >> /Font << /F1 ${font} 0 R >> >>`,
      Buffer.from(i < levels - 1 ? Array(10).fill('q /X Do Q').join(' ') : 'BT /F1 12 Tf 72 72 Td (immer) Tj ET'),
    ),
  );
  return rawPdf([
    '<< /Type /Catalog /Pages 2 0 R >>',
    '<< /Type /Pages /Kids [3 0 R] /Count 1 >>',
    '<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R /Resources << /XObject << /X 5 0 R >> >> >>',
    pdfStream('', Buffer.from('/X Do')),
    ...forms,
    '<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>',
  ]);
} // prettier-ignore

describe('attachment text extraction', () => {
  const extractor = new DocumentExtractor({
    maxInputBytes: 4 * 2 ** 20,
    timeoutMs: 8_000,
    heapMb: 256,
    threads: 1,
  });
  afterAll(() => extractor.close());

  it('tells documents by content type, and by name when the type is generic', () => {
    expect(documentKind('application/pdf; name="x"', null)).toBe('pdf');
    expect(documentKind('application/octet-stream', 'Vertrag.DOCX')).toBe('docx');
    expect(documentKind(null, 'tabelle.ods')).toBe('ods');
    expect(documentKind('image/png', 'scan.pdf')).toBeUndefined();
    expect(documentKind('text/plain', 'notiz.txt')).toBeUndefined();
    expect(documentKind('application/octet-stream', 'programm.exe')).toBeUndefined();
    // Labels real mail programs put on Office files.
    expect(documentKind('application/msword', 'Angebot.docx')).toBe('docx');
    expect(documentKind('application/x-download', 'Rechnung.pdf')).toBe('pdf');
    expect(documentKind('binary/octet-stream', 'Liste.xlsx')).toBe('xlsx');
    expect(documentKind('application/msword', 'alt.doc')).toBeUndefined();
  });

  it('reads a PDF page by page', async () => {
    const result = await extractor.extract(
      await pdf(['Erste Seite Zaunkönig', 'Zweite Seite Kolibrirechnung']),
      'pdf',
      10_000,
    );
    expect(result).toMatchObject({ ok: true, truncated: false });
    if (!result.ok) return;
    expect(result.pages).toEqual([
      { page: 1, text: expect.stringContaining('Zaunkönig') },
      { page: 2, text: expect.stringContaining('Kolibrirechnung') },
    ]);
  });

  it('reads a PDF written by hand, as the end-to-end tests send one', async () => {
    expect(
      await extractor.extract(textPdf('Vertragsentwurf Zaunkoenigweg'), 'pdf', 1000),
    ).toMatchObject({
      ok: true,
      pages: [{ page: 1, text: expect.stringContaining('Zaunkoenigweg') }],
    });
  });

  it('cuts the text at the character limit and says so', async () => {
    const result = await extractor.extract(
      await pdf(['x'.repeat(500), 'y'.repeat(500)]),
      'pdf',
      600,
    );
    expect(result).toMatchObject({ ok: true, truncated: true });
    if (result.ok) expect(result.pages.map((p) => p.text).join('').length).toBe(600);
  });

  it('lists the file names of a ZIP archive without inflating them', async () => {
    const zip = zipSync({
      'Angebote/Angebot-Seeadler.pdf': strToU8('x'.repeat(1000)),
      'Bilder/Baustelle.jpg': strToU8('y'),
    });
    const result = await extractor.extract(zip, 'zip', 10_000);
    expect(result).toMatchObject({ ok: true });
    if (result.ok) expect(result.pages[0]!.text).toContain('Angebote/Angebot-Seeadler.pdf');
  });

  it('answers an encrypted PDF as encrypted', async () => {
    writeFileSync(path.join(dir, 'plain.pdf'), await pdf(['Geheimes Wort Fischotter']));
    await run('qpdf', ['--encrypt', 'benutzer', 'besitzer', '256', '--', path.join(dir, 'plain.pdf'), path.join(dir, 'locked.pdf')]); // prettier-ignore
    const result = await extractor.extract(
      readFileSync(path.join(dir, 'locked.pdf')),
      'pdf',
      10_000,
    );
    expect(result).toMatchObject({ ok: false, reason: 'encrypted' });
  });

  it('answers a damaged document and a ZIP bomb within the limits, and goes on', async () => {
    expect(await extractor.extract(Buffer.from('kein PDF'), 'pdf', 10_000)).toMatchObject({
      ok: false,
      reason: 'damaged',
    });
    // 200 MiB of XML in a few hundred KB: officeparser's inflation limit stops it.
    const bomb = zipSync(
      {
        '[Content_Types].xml': strToU8('<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"/>'),
        'word/document.xml': new Uint8Array(200 * 2 ** 20).fill(0x20),
      },
      { level: 6 },
    ); // prettier-ignore
    expect(bomb.length).toBeLessThan(4 * 2 ** 20);
    expect(await extractor.extract(bomb, 'docx', 10_000)).toMatchObject({
      ok: false,
      reason: 'limit',
    });
    expect(await extractor.extract(await pdf(['Danach Eisvogel']), 'pdf', 10_000)).toMatchObject({
      ok: true,
      pages: [{ text: expect.stringContaining('Eisvogel') }],
    });
  }, 60_000);

  it('refuses a part above the input limit before any parser sees it', async () => {
    expect(await extractor.extract(new Uint8Array(4 * 2 ** 20 + 1), 'pdf', 10)).toEqual({
      ok: false,
      reason: 'too-large',
    });
  });

  it('stops a PDF that keeps the parser busy, and the next part is read', async () => {
    const busy = busyPdf();
    expect(busy.length).toBeLessThan(10_000);
    const started = Date.now();
    const result = await extractor.extract(busy, 'pdf', 10_000);
    // Either our thread's time limit or pdf.js's CPU limit ends it; never minutes of work.
    expect(Date.now() - started).toBeLessThan(20_000);
    expect(result.ok ? result.truncated : result.reason).toBe(result.ok ? true : 'timeout');
    expect(await extractor.extract(await pdf(['Wieder Pirol']), 'pdf', 10_000)).toMatchObject({
      ok: true,
      pages: [{ text: expect.stringContaining('Pirol') }],
    });
  }, 60_000);
});
