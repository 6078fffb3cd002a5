import { strToU8, zipSync } from 'fflate';
import { OfficeParser } from 'officeparser';
import PDFDocument from 'pdfkit';
import type { DocumentKind } from '../lib/extract/document-kind';
import { DocumentExtractor } from '../lib/extract/extractor';
import { fmt } from './measure';
import { figure } from './report';

/**
 * Attachment text extraction (issue 20 §6): MB/s per format on one extraction thread, with the
 * limits the index job uses, per byte and per character of text. The fixtures hold the same
 * German business prose: a ~200 KB PDF of 110 pages written by pdfkit, and that document converted by officeparser's generators to
 * docx, odt and rtf; a ZIP of 2,000 names. Prints figures; asserts nothing.
 */

const words = ['Rechnung', 'Lieferung', 'Vertragsentwurf', 'Zahlungsziel', 'Gewährleistung', 'Straße', 'Angebot', 'Bestellung', 'Mahnung', 'Umsatzsteuer', 'Kundennummer', 'Liefertermin']; // prettier-ignore

/** About 1.8 KB per page of 400 words: 110 pages make the 200 KB PDF. */
async function pdf(pages: number): Promise<Buffer> {
  const doc = new PDFDocument({ compress: true });
  const chunks: Buffer[] = [];
  doc.on('data', (c: Buffer) => chunks.push(c));
  const done = new Promise((r) => doc.on('end', r));
  for (let page = 0, seed = 7; page < pages; page++) {
    if (page) doc.addPage();
    const text = Array.from({ length: 400 }, () => words[(seed = (seed * 1103515245 + 12345) >>> 0) % words.length]).join(' ');
    doc.text(`Seite ${page + 1}. ${text}`);
  }
  doc.end();
  await done;
  return Buffer.concat(chunks);
} // prettier-ignore

async function main(): Promise<void> {
  const source = await pdf(110);
  const ast = await OfficeParser.parseOffice(source, { fileType: 'pdf' });
  const fixtures: [DocumentKind, Uint8Array][] = [['pdf', source]];
  for (const kind of ['docx', 'odt', 'rtf'] as const) {
    const out = (await ast.to(kind)).value;
    fixtures.push([kind, typeof out === 'string' ? Buffer.from(out, 'utf8') : out]);
  }
  fixtures.push([
    'zip',
    zipSync(Object.fromEntries(Array.from({ length: 2000 }, (_, i) => [`Ordner ${i % 40}/Beleg-${i}.pdf`, strToU8('x')]))),
  ]); // prettier-ignore

  const extractor = new DocumentExtractor();
  try {
    for (const [kind, data] of fixtures) {
      // Warm: the thread started, the parser loaded (pdf.js's process too).
      const first = await extractor.extract(data, kind, 4 * 2 ** 20);
      if (!first.ok) throw new Error(`${kind}: ${first.reason}`);
      const chars = first.pages.reduce((n, p) => n + p.text.length, 0);
      let runs = 0;
      const t = performance.now();
      while (performance.now() - t < 4000 || runs < 3) {
        await extractor.extract(data, kind, 4 * 2 ** 20);
        runs++;
      }
      const s = (performance.now() - t) / 1000 / runs;
      const mbs = data.length / 2 ** 20 / s;
      console.log(
        `${kind}: ${fmt(data.length)} bytes → ${fmt(chars)} characters in ${(s * 1000).toFixed(0)} ms ` +
          `= ${mbs.toFixed(2)} MB/s, ${fmt(chars / s / 1000)}k characters/s (${runs} runs)`,
      );
      figure('extract', `${kind} text extraction, characters`, chars / s / 1e6, 'M chars/s');
      figure('extract', `${kind} text extraction`, mbs, 'MB/s');
      figure(
        'extract',
        `${kind} per document (${fmt(Math.round(data.length / 1024))} KB)`,
        s * 1000,
        'ms',
      );
    }
  } finally {
    await extractor.close();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
