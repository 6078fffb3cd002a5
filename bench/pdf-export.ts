import { createHash, randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { configure, Uint8ArrayReader, ZipWriter } from '@zip.js/zip.js';
import { renderMailPdf } from '../lib/mail/pdf';
import { readMailView } from '../lib/mail/read';
import { fmt } from './measure';
import { figure } from './report';

/**
 * The CPU work of PDFs and exports, without services: a typical business mail rendered to a PDF
 * (plain and AES-256 protected), and mails written into an AES-256 ZIP as an export part does
 * (WinZip AE-2, SHA-256 per file for the manifest). Object storage and decryption are measured
 * elsewhere (ingest, crypto).
 */

configure({ useWebWorkers: false });

const MiB = 2 ** 20;

function sampleMail(i: number, bodyKb: number): Buffer {
  const text = Array.from(
    { length: Math.ceil((bodyKb * 1024) / 80) },
    (_, l) => `Zeile ${l}: Sehr geehrte Damen und Herren, anbei die Unterlagen zur Lieferung ${i}.`,
  ).join('\r\n');
  return Buffer.from(
    `From: Buchhaltung <buchhaltung@kunde.example>\r\nTo: Chefin <chefin@firma.example>\r\n` +
      `Subject: Rechnung ${i} – Lieferung Heizkörper\r\nDate: Fri, 27 Nov 2026 08:00:00 +0100\r\n` +
      `Message-ID: <${i}@kunde.example>\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n${text}\r\n`,
  );
}

async function collect(r: Readable): Promise<Buffer> {
  const out: Buffer[] = [];
  for await (const c of r) out.push(c as Buffer);
  return Buffer.concat(out);
}

export async function benchPdfExport(): Promise<void> {
  const mail = sampleMail(1, 20);
  const view = await readMailView(Readable.from([mail]));
  const facts = {
    messageId: '00000000-0000-4000-8000-000000000001',
    receivedAt: new Date(),
    sha256: createHash('sha256').update(mail).digest('hex'),
    size: mail.length,
    ledgerIndex: 42,
  };
  for (const password of [undefined, 'ein-langes-passwort']) {
    const t = performance.now();
    let n = 0;
    let bytes = 0;
    while (performance.now() - t < 5000) {
      bytes += (await collect(renderMailPdf({ view, facts, lang: 'de', password }))).length;
      n++;
    }
    const rate = n / ((performance.now() - t) / 1000);
    const label = password ? 'PDF of a 20 KB mail, AES-256' : 'PDF of a 20 KB mail';
    console.log(`${label}: ${rate.toFixed(1)} PDFs/s (${fmt(bytes / n / 1024)} KiB each)`);
    figure('pdf', label, rate, 'PDFs/s');
  }

  // An export part: 1,000 mails of 20 KB plus 20 of 1 MB, AES-256 ZIP, hashed for the manifest.
  const mails = [
    ...Array.from({ length: 1000 }, (_, i) => sampleMail(i, 20)),
    ...Array.from({ length: 20 }, () => randomBytes(MiB)),
  ];
  const input = mails.reduce((s, m) => s + m.length, 0);
  let written = 0;
  const sink = new WritableStream<Uint8Array>({ write: (c) => void (written += c.length) });
  const t = performance.now();
  const zip = new ZipWriter(sink, { password: 'ein-langes-passwort', encryptionStrength: 3 });
  for (const [i, m] of mails.entries()) {
    createHash('sha256').update(m).digest();
    await zip.add(`mails/${String(i).padStart(6, '0')}.eml`, new Uint8ArrayReader(m));
  }
  await zip.close();
  const s = (performance.now() - t) / 1000;
  console.log(
    `export part (AES-256 ZIP, ${mails.length} mails, ${(input / MiB).toFixed(1)} MiB in, ${(written / MiB).toFixed(1)} MiB out): ` +
      `${(input / MiB / s).toFixed(1)} MiB/s, ${fmt(mails.length / s)} mails/s`,
  );
  figure('export', 'AES-256 ZIP part (20 KB mails + 1 MB files)', input / MiB / s, 'MiB/s');
  figure('export', 'AES-256 ZIP part, mails', mails.length / s, 'mails/s');
}

if (require.main === module)
  benchPdfExport().catch((err) => {
    console.error(err);
    process.exit(1);
  });
