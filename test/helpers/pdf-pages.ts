import PDFDocument from 'pdfkit';

/** A PDF written by pdfkit, one page per string. */
export async function pagesPdf(pages: string[]): Promise<Buffer> {
  const doc = new PDFDocument();
  const chunks: Buffer[] = [];
  doc.on('data', (c: Buffer) => chunks.push(c));
  const done = new Promise((r) => doc.on('end', r));
  pages.forEach((text, i) => (i ? doc.addPage() : doc).text(text));
  doc.end();
  await done;
  return Buffer.concat(chunks);
}
