import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { promisify } from 'node:util';
import { renderMailPdf } from '../../lib/mail/pdf';
import type { MailView } from '../../lib/mail/read';

/** The PDF of a mail, opened with Debian's poppler (pdftotext) and qpdf, as a recipient would. */

const run = promisify(execFile);

const view = (over: Partial<MailView> = {}): MailView => ({
  subject: 'Prüfbericht Größenordnung – Ærø, Łódź, Šibenik',
  from: [{ name: 'Jürgen Müller', address: 'j.mueller@lieferant.example' }],
  to: [{ name: '', address: 'buchhaltung@kunde.example' }],
  cc: [],
  replyTo: [],
  date: '2026-11-27T07:00:00.000Z',
  messageId: '<x@y>',
  headerLines: [],
  text: 'Sehr geehrte Damen und Herren,\nanbei die Straßenbaurechnung.\n',
  html: null,
  attachments: [
    {
      index: 0,
      filename: 'Rechnung-März.pdf',
      contentType: 'application/pdf',
      size: 1234,
      sha256: 'ab'.repeat(32),
      inline: false,
    },
  ],
  ...over,
});

const facts = {
  messageId: '00000000-0000-4000-8000-000000000001',
  receivedAt: new Date('2026-11-27T07:00:05Z'),
  sha256: 'cd'.repeat(32),
  size: 4321,
  ledgerIndex: 41,
  proof: {
    tenantLog: { origin: 'mailrepo.example/t/abc', index: 41, checkpointSize: 42 },
    anchorLog: { origin: 'mailrepo.example/anchor', index: 7, checkpointSize: 8 },
    timestamp: { genTime: '2026-11-27T07:01:00Z', serial: '1234567' },
  },
};

async function write(stream: Readable): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(c as Buffer);
  const file = path.join(mkdtempSync(path.join(os.tmpdir(), 'mailrepo-pdf-')), 'mail.pdf');
  writeFileSync(file, Buffer.concat(chunks));
  return file;
}

const text = async (file: string, password?: string) =>
  (await run('pdftotext', [...(password ? ['-upw', password] : []), '-enc', 'UTF-8', file, '-']))
    .stdout;

describe('mail PDF', () => {
  it('holds headers, body, attachments and archive facts in German text', async () => {
    const file = await write(renderMailPdf({ view: view(), facts, lang: 'de' }));
    const t = await text(file);
    for (const expected of [
      'Prüfbericht Größenordnung – Ærø, Łódź, Šibenik',
      'Jürgen Müller <j.mueller@lieferant.example>',
      'Straßenbaurechnung',
      'Rechnung-März.pdf',
      'ab'.repeat(32),
      'cd'.repeat(32),
      'Ledger-Eintrag',
      '1234567',
      'Seite 1 / 1',
    ])
      expect(t).toContain(expected);
    // The font is embedded (no reliance on the reader's fonts).
    const fonts = (await run('pdffonts', [file])).stdout;
    expect(fonts).toMatch(/DejaVuSans\s.*yes/);
  });

  it('wraps long lines and runs over many pages', async () => {
    const long = `${'Sehr lange Zeile ohne Umbruch '.repeat(40)}\n${'x'.repeat(3000)}\n`;
    const file = await write(
      renderMailPdf({ view: view({ text: long.repeat(30) }), facts, lang: 'en' }),
    );
    const info = (await run('pdfinfo', [file])).stdout;
    const pages = Number(/Pages:\s+(\d+)/.exec(info)![1]);
    expect(pages).toBeGreaterThan(5);
    const t = await text(file);
    expect(t).toContain(`Page ${pages} / ${pages}`);
    // Nothing cut off at the right edge: every x of the unbroken run is there.
    expect((t.match(/x/g) ?? []).length).toBeGreaterThanOrEqual(3000 * 30);
  });

  it('turns HTML into readable text without rendering it', async () => {
    const file = await write(
      renderMailPdf({
        view: view({
          text: '',
          html: '<p>Guten <b>Tag</b></p><script>alert(1)</script><img src="https://tracker.example/p.png"><a href="https://kunde.example/x">Portal</a>',
        }),
        facts,
        lang: 'de',
      }),
    );
    const t = await text(file);
    expect(t).toContain('Guten Tag');
    expect(t).toContain('Portal [https://kunde.example/x]');
    expect(t).not.toContain('alert(1)');
    expect(t).not.toContain('tracker.example');
  });

  it('is encrypted with AES-256 when a password is given', async () => {
    const file = await write(
      renderMailPdf({ view: view(), facts, lang: 'de', password: 'Geheimnis 2026' }),
    );
    const enc = (await run('qpdf', ['--show-encryption', '--password=Geheimnis 2026', file]))
      .stdout;
    expect(enc).toMatch(/AESv3/);
    await expect(text(file)).rejects.toThrow();
    await expect(text(file, 'falsch')).rejects.toThrow();
    expect(await text(file, 'Geheimnis 2026')).toContain('Straßenbaurechnung');
  });
});
