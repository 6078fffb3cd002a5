import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import type { DocumentKind } from '../../lib/extract/document-kind';
import { DocumentExtractor } from '../../lib/extract/extractor';

/**
 * Documents made by a real office suite (Debian's headless LibreOffice, installed by the test
 * setup): each format carries a word only it contains, and its text holds that word.
 */

const run = promisify(execFile);
const dir = mkdtempSync(path.join(os.tmpdir(), 'mailrepo-office-'));

/** Source file → LibreOffice target format; each source holds its format's own word. */
const FORMATS: { kind: DocumentKind; source: 'txt' | 'csv' | 'fodp'; word: string }[] = [
  { kind: 'docx', source: 'txt', word: 'Seidenschwanzdocx' },
  { kind: 'odt', source: 'txt', word: 'Wiedehopfodt' },
  { kind: 'rtf', source: 'txt', word: 'Zilpzalprtf' },
  { kind: 'pdf', source: 'txt', word: 'Kernbeißerpdf' },
  { kind: 'xlsx', source: 'csv', word: 'Rotkehlchenxlsx' },
  { kind: 'ods', source: 'csv', word: 'Bachstelzeods' },
  { kind: 'pptx', source: 'fodp', word: 'Gimpelpptx' },
  { kind: 'odp', source: 'fodp', word: 'Stieglitzodp' },
];

const presentation = (word: string) => `<?xml version="1.0" encoding="UTF-8"?>
<office:document xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" xmlns:draw="urn:oasis:names:tc:opendocument:xmlns:drawing:1.0" xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" xmlns:svg="urn:oasis:names:tc:opendocument:xmlns:svg-compatible:1.0" office:version="1.3" office:mimetype="application/vnd.oasis.opendocument.presentation">
<office:body><office:presentation><draw:page draw:name="Folie 1"><draw:frame svg:x="2cm" svg:y="2cm" svg:width="20cm" svg:height="3cm"><draw:text-box><text:p>Folie mit ${word}</text:p></draw:text-box></draw:frame></draw:page></office:presentation></office:body></office:document>
`; // prettier-ignore

const SOURCE = {
  txt: (word: string) => `Sehr geehrte Damen und Herren,\nanbei das Dokument mit ${word}.\n`,
  csv: (word: string) => `Artikel,Menge\n${word},3\nSchrauben,100\n`,
  fodp: presentation,
};

/** Converts `name.source` to `kind` with LibreOffice; the converted file's bytes. */
async function convert(name: string, kind: DocumentKind): Promise<Buffer> {
  await run('soffice', ['--headless', `-env:UserInstallation=file://${dir}/profile`, '--convert-to', kind, '--outdir', path.join(dir, 'out'), path.join(dir, name)], { timeout: 120_000 }); // prettier-ignore
  return readFileSync(path.join(dir, 'out', `${name.replace(/\.[^.]+$/, '')}.${kind}`));
}

describe('attachment text from documents LibreOffice wrote', () => {
  const extractor = new DocumentExtractor({ maxInputBytes: 8 * 2 ** 20, timeoutMs: 30_000, heapMb: 256, threads: 1 }); // prettier-ignore
  const files = new Map<DocumentKind, Buffer>();
  beforeAll(async () => {
    for (const f of FORMATS) {
      const name = `${f.kind}-quelle.${f.source}`;
      writeFileSync(path.join(dir, name), SOURCE[f.source](f.word));
      files.set(f.kind, await convert(name, f.kind));
    }
  }, 300_000);
  afterAll(() => extractor.close());

  it.each(FORMATS)(
    '$kind: its own word, and no other format’s',
    async ({ kind, word }) => {
      const result = await extractor.extract(files.get(kind)!, kind, 100_000);
      expect(result).toMatchObject({ ok: true, truncated: false });
      const text = result.ok ? result.pages.map((p) => p.text).join('\n') : '';
      expect(text).toContain(word);
      for (const other of FORMATS) if (other.kind !== kind) expect(text).not.toContain(other.word);
    },
    60_000,
  );
});
