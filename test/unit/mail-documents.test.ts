import { randomUUID } from 'node:crypto';
import { Readable } from 'node:stream';
import { DocumentExtractor } from '../../lib/extract/extractor';
import { readMailDocuments } from '../../lib/extract/mail-documents';
import { textPdf } from '../helpers/raw-pdf';
import { tnef } from '../helpers/tnef';

/**
 * One mail's documents are read within a budget for the whole mail (issue 20, "bound every
 * input"): a thousand tiny PDFs, each allowed the extractor's time limit, must not hold the index
 * job for hours. Past the budget the rest are listed as `limit`, unread.
 */

function mailWith(parts: { name: string; type: string; data: Buffer }[]): Buffer {
  const b = `b-${randomUUID()}`;
  const body =
    `From: a@b.example\r\nSubject: Viele Anhänge\r\nMIME-Version: 1.0\r\n` +
    `Content-Type: multipart/mixed; boundary="${b}"\r\n\r\n--${b}\r\nContent-Type: text/plain\r\n\r\nText\r\n` +
    parts
      .map(
        (p) =>
          `--${b}\r\nContent-Type: ${p.type}; name="${p.name}"\r\nContent-Disposition: attachment; filename="${p.name}"\r\n` +
          `Content-Transfer-Encoding: base64\r\n\r\n${p.data.toString('base64')}\r\n`,
      )
      .join('') +
    `--${b}--\r\n`;
  return Buffer.from(body);
} // prettier-ignore

describe('a mail’s documents within its budget', () => {
  const extractor = new DocumentExtractor({ maxInputBytes: 2 ** 20, timeoutMs: 20_000, heapMb: 256, threads: 1 }); // prettier-ignore
  afterAll(() => extractor.close());
  const pdfs = (n: number) =>
    Array.from({ length: n }, (_, i) => ({ name: `beleg-${i}.pdf`, type: 'application/pdf', data: textPdf(`Beleg Nummer ${i}`) })); // prettier-ignore

  it('reads documents up to the count, lists the rest as limit', async () => {
    const read = await readMailDocuments(Readable.from([mailWith(pdfs(4))]), extractor, {
      chars: 1e6,
      documents: 2,
      ms: 60_000,
    });
    expect(read.parts.map((p) => p.status)).toEqual(['indexed', 'indexed', 'limit', 'limit']);
    expect(read.texts.map((t) => t.text).join(' ')).toMatch(/Nummer 1/);
    expect(read.texts.map((t) => t.text).join(' ')).not.toMatch(/Nummer 2/);
  }, 60_000);

  it('reads nothing more once the time is spent', async () => {
    const read = await readMailDocuments(Readable.from([mailWith(pdfs(3))]), extractor, {
      chars: 1e6,
      documents: 100,
      ms: -1,
    });
    expect(read.parts.map((p) => p.status)).toEqual(['limit', 'limit', 'limit']);
    expect(read.texts).toEqual([]);
  });

  it('counts the documents inside a winmail.dat against the same budget', async () => {
    const winmail = tnef(
      'Text',
      pdfs(3).map((p) => ({ name: p.name, data: p.data })),
    );
    const read = await readMailDocuments(
      Readable.from([mailWith([{ name: 'winmail.dat', type: 'application/ms-tnef', data: winmail }])]),
      extractor,
      { chars: 1e6, documents: 1, ms: 60_000 },
    ); // prettier-ignore
    expect(read.parts.map((p) => [p.filename, p.status])).toEqual([
      ['winmail.dat', 'indexed'],
      ['winmail.dat › beleg-0.pdf', 'indexed'],
      ['winmail.dat › beleg-1.pdf', 'limit'],
      ['winmail.dat › beleg-2.pdf', 'limit'],
    ]);
  }, 60_000);
});
