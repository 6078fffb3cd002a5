import { zipSync, strToU8 } from 'fflate';
import { entryProblem, originalReceiptTime } from '../../lib/import/entry';
import { MboxSplitter } from '../../lib/import/mbox';
import { ZipSplitter } from '../../lib/import/zip';

const mail = (subject: string, body = 'Hallo') =>
  `From: a@firma.example\nSubject: ${subject}\nDate: Tue, 18 Mar 2025 10:00:00 +0100\n\n${body}\n`;

/** Feeds `data` in chunks of `size` bytes, collecting what comes out. */
function split<T>(data: Buffer, size: number, push: (c: Buffer) => T[], end: () => T[]): T[] {
  const out: T[] = [];
  for (let i = 0; i < data.length; i += size) out.push(...push(data.subarray(i, i + size)));
  out.push(...end());
  return out;
}

describe('MboxSplitter', () => {
  const mbox = Buffer.from(
    `From a@firma.example Tue Mar 18 10:00:00 2025\n${mail('eins', 'Zeile\n>From the archive\n>>From deeper')}\n` +
      `From b@firma.example Wed Mar 19 11:30:00 2025\n${mail('zwei')}\n` +
      `From c@firma.example Thu Mar 20 12:00:00 2025\n${mail('drei', 'Text\nFrom here on no separator')}\n`,
  );

  it.each([1, 7, 64, 100_000])('splits into mails with chunks of %i bytes', (size) => {
    const s = new MboxSplitter();
    const entries = split(
      mbox,
      size,
      (c) => s.push(c),
      () => s.end(),
    );
    expect(entries.map((e) => e.index)).toEqual([0, 1, 2]);
    expect(entries[0]!.bytes!.toString()).toBe(
      mail('eins', 'Zeile\nFrom the archive\n>From deeper'),
    );
    expect(entries[1]!.bytes!.toString()).toBe(mail('zwei'));
    // "From " inside a body (not after a blank line) is no separator.
    expect(entries[2]!.bytes!.toString()).toBe(mail('drei', 'Text\nFrom here on no separator'));
    expect(entries[1]!.separator).toBe('From b@firma.example Wed Mar 19 11:30:00 2025');
  });

  it('counts what precedes the first separator (a file that is no MBOX)', () => {
    const s = new MboxSplitter();
    expect([...s.push(Buffer.from('Subject: kein mbox\n\nText\n')), ...s.end()]).toEqual([]);
    expect(s.ignoredBytes).toBeGreaterThan(0);
  });
});

describe('ZipSplitter', () => {
  it('yields .eml entries and reports everything else', () => {
    const zip = Buffer.from(
      zipSync({
        'a/eins.eml': strToU8(mail('eins')),
        'a/zwei.EML': [strToU8(mail('zwei')), { level: 0 }],
        'a/notiz.txt': strToU8('keine Mail'),
        '__MACOSX/a/._eins.eml': strToU8('resource fork'),
      }),
    );
    for (const size of [13, 4096, zip.length]) {
      const z = new ZipSplitter(1024 * 1024);
      const entries = split(
        zip,
        size,
        (c) => z.push(c),
        () => z.push(new Uint8Array(0), true),
      );
      expect(
        entries.map((e) => [e.name, 'bytes' in e ? e.bytes.toString() : e.problem.reason]),
      ).toEqual([
        ['a/eins.eml', mail('eins')],
        ['a/zwei.EML', mail('zwei')],
        ['a/notiz.txt', 'import.skip.notEml'],
      ]);
    }
  });

  it('reports an entry over the size limit without holding it', () => {
    const zip = Buffer.from(zipSync({ 'gross.eml': strToU8(mail('gross', 'x'.repeat(5000))) }));
    const z = new ZipSplitter(1000);
    const [e] = [...z.push(zip), ...z.push(new Uint8Array(0), true)];
    expect(e).toMatchObject({ name: 'gross.eml', problem: { reason: 'import.skip.tooLarge' } });
  });

  it('reports a damaged entry and goes on with the next', () => {
    const zip = Buffer.from(
      zipSync({
        'eins.eml': strToU8(mail('eins', 'x'.repeat(900))),
        'zwei.eml': strToU8(mail('zwei')),
      }),
    );
    zip.fill(0x41, 40, 60);
    const z = new ZipSplitter(1024 * 1024);
    const entries = [...z.push(zip), ...z.push(new Uint8Array(0), true)];
    expect(
      entries.map((e) => [e.name, 'bytes' in e ? e.bytes.toString() : e.problem.reason]),
    ).toEqual([
      ['eins.eml', 'import.skip.inflate'],
      ['zwei.eml', mail('zwei')],
    ]);
  });
});

describe('entries', () => {
  it('finds malformed entries', () => {
    expect(entryProblem(Buffer.alloc(0), 100)).toEqual({ reason: 'import.skip.empty' });
    expect(entryProblem(Buffer.from(mail('x')), 10)?.reason).toBe('import.skip.tooLarge');
    expect(entryProblem(Buffer.from('Dies ist keine Mail\n'), 1000)).toEqual({
      reason: 'import.skip.noHeader',
    });
    expect(entryProblem(Buffer.from(mail('ok')), 1000)).toBeUndefined();
  });

  it('keeps the original receipt time: separator, top Received header, then Date', () => {
    const m = Buffer.from(
      'Received: from mx.firma.example by mail.firma.example; Wed, 19 Mar 2025 09:15:00 +0100\n' +
        'Received: from a by b; Tue, 18 Mar 2025 09:00:00 +0000\n' +
        mail('x'),
    );
    expect(originalReceiptTime(m, 'From a@b Thu Mar 20 12:00:00 2025')?.toISOString()).toBe(
      '2025-03-20T12:00:00.000Z',
    );
    expect(originalReceiptTime(m)?.toISOString()).toBe('2025-03-19T08:15:00.000Z');
    expect(originalReceiptTime(Buffer.from(mail('y')))?.toISOString()).toBe(
      '2025-03-18T09:00:00.000Z',
    );
    expect(originalReceiptTime(Buffer.from('Subject: ohne Datum\n\nx'))).toBeUndefined();
  });
});
