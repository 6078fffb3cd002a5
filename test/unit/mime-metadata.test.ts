import { MetadataExtractor, TextBudget, MAX_NESTED_DEPTH } from '../../lib/ingest/mime-metadata';
import { attachmentTerm as att } from '../../lib/search/index-terms';

/**
 * Issue 20 §1 (ingest part): forwarded mails and text attachments give search tokens — as
 * attachment terms (`in:attachment`), the mail's own text as plain words (`in:body`).
 */

async function extract(mail: string, budget?: TextBudget) {
  const x = new MetadataExtractor(0, budget);
  x.end(Buffer.from(mail.replace(/\r?\n/g, '\r\n'), 'utf8'));
  return x.result;
}

const forward = (inner: string, word: string, boundary: string) =>
  [
    'From: weiter@firma.example',
    'To: chef@firma.example',
    `Subject: Fwd ${word}`,
    'MIME-Version: 1.0',
    `Content-Type: multipart/mixed; boundary="${boundary}"`,
    '',
    `--${boundary}`,
    'Content-Type: text/plain; charset=utf-8',
    '',
    `Siehe unten ${word}`,
    `--${boundary}`,
    'Content-Type: message/rfc822',
    'Content-Disposition: attachment; filename="weitergeleitet.eml"',
    '',
    inner,
    `--${boundary}--`,
    '',
  ].join('\n');

const innermost = [
  'From: Lieferant <lieferant@extern.example>',
  'To: einkauf@firma.example',
  'Subject: Angebot Kupferrohre',
  'MIME-Version: 1.0',
  'Content-Type: multipart/mixed; boundary="in"',
  '',
  '--in',
  'Content-Type: text/plain; charset=utf-8',
  '',
  'Der Preis für das Zollstockgehäuse steht fest.',
  '--in',
  'Content-Type: text/csv; charset=iso-8859-1',
  'Content-Disposition: attachment; filename="preise.csv"',
  'Content-Transfer-Encoding: base64',
  '',
  Buffer.from('Artikel;Preis\nSchraubenzieherbr\xfccke;12', 'latin1').toString('base64'),
  '--in--',
].join('\n');

it('indexes the words of forwarded mails, forwards inside forwards and their text attachments', async () => {
  const { tokens, metadata } = await extract(
    forward(forward(innermost, 'zwei', 'b2'), 'eins', 'b1'),
  );
  const words = new Set(tokens);
  expect(words).toContain('eins');
  for (const w of ['zwei', 'zollstockgehause', 'kupferrohre', 'lieferant@extern.example']) {
    expect(words).toContain(att(w));
    expect(words).not.toContain(w);
  }
  // A Latin-1 CSV inside the innermost mail, decoded by its charset.
  expect(words).toContain(att('schraubenzieherbrucke'));
  expect(metadata.subject).toBe('Fwd eins');
  expect(metadata.attachments).toEqual([
    expect.objectContaining({ contentType: 'message/rfc822', text: 'indexed' }),
  ]);
});

it('indexes HTML and plain-text attachments, not PDFs or images', async () => {
  const mail = [
    'From: a@b.example',
    'Subject: Anhänge',
    'MIME-Version: 1.0',
    'Content-Type: multipart/mixed; boundary="m"',
    '',
    '--m',
    'Content-Type: text/plain',
    '',
    'Text',
    '--m',
    'Content-Type: text/html; charset=utf-8',
    'Content-Disposition: attachment; filename="seite.html"',
    '',
    '<html><body><p>Ein <b>Hausmeisterdienst</b></p><a href="https://spur.example/">Link</a></body></html>',
    '--m',
    'Content-Type: application/octet-stream',
    'Content-Disposition: attachment; filename="notiz.txt"',
    '',
    'Gartenschlauchverlängerung',
    '--m',
    'Content-Type: application/pdf',
    'Content-Disposition: attachment; filename="scan.pdf"',
    '',
    '%PDF-1.4 Geheimwortimpdf',
    '--m--',
    '',
  ].join('\n');
  const { tokens, metadata } = await extract(mail);
  const words = new Set(tokens);
  expect(words).toContain(att('hausmeisterdienst'));
  expect(words).toContain(att('gartenschlauchverlangerung'));
  expect(words).not.toContain('geheimwortimpdf');
  expect(words).not.toContain(att('geheimwortimpdf'));
  expect([...words].some((w) => w.includes('spur'))).toBe(false);
  expect(metadata.attachments.map((a) => [a.filename, a.text])).toEqual([
    ['seite.html', 'indexed'],
    ['notiz.txt', 'indexed'],
    ['scan.pdf', undefined],
  ]);
});

it('keeps attachment text only within the mail budget, and says so', async () => {
  const mail = [
    'From: a@b.example',
    'Subject: Groß',
    'MIME-Version: 1.0',
    'Content-Type: multipart/mixed; boundary="m"',
    '',
    '--m',
    'Content-Type: text/plain',
    'Content-Disposition: attachment; filename="klein.txt"',
    '',
    'Vorneweg',
    '--m',
    'Content-Type: text/plain',
    'Content-Disposition: attachment; filename="gross.txt"',
    '',
    `${'fuell '.repeat(2000)}Hintendran`,
    '--m--',
    '',
  ].join('\n');
  const { tokens, metadata, truncated } = await extract(mail, new TextBudget(1000));
  expect(tokens).toContain(att('vorneweg'));
  expect(tokens).not.toContain(att('hintendran'));
  expect(truncated).toBe(true);
  expect(metadata.attachments.map((a) => a.text)).toEqual(['indexed', 'truncated']);
});

it(`follows forwards ${MAX_NESTED_DEPTH} deep and no deeper`, async () => {
  let mail = innermost;
  for (let d = 0; d <= MAX_NESTED_DEPTH; d++) mail = forward(mail, `tiefe${d}`, `d${d}`);
  const words = new Set((await extract(mail)).tokens);
  // The outermost mail's own words, then those of each forward inside it.
  expect(words).toContain(`tiefe${MAX_NESTED_DEPTH}`);
  for (let d = 0; d < MAX_NESTED_DEPTH; d++) expect(words).toContain(att(`tiefe${d}`));
  // The innermost mail is one level too deep.
  expect(words).not.toContain(att('zollstockgehause'));
});
