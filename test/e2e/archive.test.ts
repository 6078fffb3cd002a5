import { textPdf } from '../helpers/raw-pdf';
import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { unzipSync } from 'fflate';
import { sql } from 'kysely';
import type { Browser, Page } from 'playwright-core';
import { LmtpClient } from '../../infra/lmtp-client';
import { createDb, type Db } from '../../lib/db';
import { HOSTILE_HTML } from '../fixtures/hostile-html';
import { crlf } from '../helpers/archive';
import { journalReport, original, REPORT_LINES } from '../helpers/journal-reports';
import { swaks } from '../helpers/swaks';
import { launchChromium } from '../helpers/browser';
import { createTenantInvite, invite, join, mailrepo } from '../helpers/portal';
import { stackConfig } from '../helpers/stack-env';
import { adminDb } from '../helpers/admin-db';

/**
 * Issue 8 in a real browser, against the real stack: mails go in over LMTP, are sealed, and the
 * portal finds them by words from bodies and attachment names, shows hostile HTML without running
 * anything or reaching out, serves originals, attachments and proof bundles that verify, confines
 * a member to their mailbox and another tenant to nothing.
 */

const cfg = stackConfig();
// Inspects and tampers with what is stored as the database administrator; the code under test
// runs as the service role.
const dba = adminDb(cfg);
afterAll(() => dba.destroy());
const BASE = `http://localhost:${cfg.WEB_PORT}`;
const exec = promisify(execFile);
/** Every file below `dir` (none if it does not exist). */
const filesUnder = (dir: string): string[] => {
  try {
    return readdirSync(dir, { recursive: true, withFileTypes: true })
      .filter((d) => d.isFile())
      .map((d) => path.join(d.parentPath, d.name));
  } catch {
    return [];
  }
};
let browser: Browser;
let db: Db;

// A listener standing in for the internet: anything that reaches it left the page.
const remoteHits: string[] = [];
const remote = http.createServer((req, res) => {
  remoteHits.push(req.url ?? '');
  res.writeHead(200, { 'Content-Type': 'image/png' }).end(PNG);
});
let REMOTE = '';

const PNG = Buffer.from(
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==',
  'base64',
);
// A real PDF with a word only it holds: the index job reads it (issue 20).
const PDF = textPdf('Vertragsentwurf Zaunkoenigweg');

const DOMAIN = 'e2e-archiv.example';
const INGEST = `journal@${DOMAIN}`;
const MEMBER = `mitglied@${DOMAIN}`;

function mime(headers: Record<string, string>, body: string): Buffer {
  const head = Object.entries(headers)
    .map(([k, v]) => `${k}: ${v}`)
    .join('\n');
  return crlf(`${head}\nMIME-Version: 1.0\nDate: Fri, 27 Nov 2026 08:00:00 +0100\n${body}`);
}

const MAILS = {
  plain: mime(
    {
      From: '=?UTF-8?Q?J=C3=BCrgen_M=C3=BCller?= <j.mueller@lieferant.example>',
      To: `Mitglied <${MEMBER}>`,
      Subject: '=?UTF-8?Q?Lieferung_Heizk=C3=B6rper?=',
      'Message-ID': `<plain@${DOMAIN}>`,
    },
    'Content-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: 8bit\n\n' +
      'Sehr geehrte Damen und Herren,\ndie Lieferung der Heizkörper erfolgt am Donnerstag.\n' +
      'Mit freundlichen Grüßen\n',
  ),
  attachment: mime(
    {
      From: 'Kanzlei <kanzlei@recht.example>',
      To: `Chefin <chefin@${DOMAIN}>`,
      Subject: 'Entwurf zur Unterschrift',
      'Message-ID': `<attachment@${DOMAIN}>`,
      'Content-Type': 'multipart/mixed; boundary="grenze"',
    },
    '\n--grenze\nContent-Type: text/plain; charset=utf-8\n\nBitte unterschreiben Sie bis Freitag. Herren und Damen sehr geehrte.\n' +
      '--grenze\nContent-Type: application/pdf; name="Vertrag-Müller.pdf"\n' +
      "Content-Disposition: attachment; filename*=UTF-8''Vertrag-M%C3%BCller.pdf\n" +
      `Content-Transfer-Encoding: base64\n\n${PDF.toString('base64')}\n--grenze--\n`,
  ),
  inline: mime(
    {
      From: 'Marketing <news@shop.example>',
      To: `chefin@${DOMAIN}`,
      Subject: 'Newsletter mit Logo',
      'Message-ID': `<inline@${DOMAIN}>`,
      'Content-Type': 'multipart/related; boundary="rel"',
    },
    '\n--rel\nContent-Type: text/html; charset=utf-8\n\n' +
      '<p>Unser <b>Logo</b>:</p><img id="logo" src="cid:logo@shop" alt="Logo">' +
      '<img id="tracker" src="REMOTE_ORIGIN/pixel.png" alt="">\n' +
      `--rel\nContent-Type: image/png\nContent-ID: <logo@shop>\nContent-Transfer-Encoding: base64\n\n${PNG.toString('base64')}\n--rel--\n`,
  ),
};

const hostileMail = (name: string, html: string) =>
  mime(
    {
      From: 'Angreifer <evil@attacker.example>',
      To: `chefin@${DOMAIN}`,
      Subject: `Feindlich ${name}`,
      'Message-ID': `<hostile-${name}@${DOMAIN}>`,
    },
    // A visible line first, so the test can tell that each body really rendered.
    `Content-Type: text/html; charset=utf-8\n\n<p>angezeigt: ${name}</p>${html.replaceAll('REMOTE', REMOTE)}\n`,
  );

async function sealedIds(tenantId: string, count: number): Promise<Map<string, string>> {
  const deadline = Date.now() + 90_000;
  for (;;) {
    const rows = await sql<{ id: string; state: string; sha256: Buffer }>`
      SELECT id, state, sha256 FROM messages WHERE tenant_id = ${tenantId}`.execute(dba);
    if (rows.rows.filter((r) => r.state === 'sealed').length >= count)
      return new Map(rows.rows.map((r) => [r.sha256.toString('hex'), r.id]));
    if (Date.now() > deadline) throw new Error(`only ${rows.rows.length} mails, not all sealed`);
    await new Promise((r) => setTimeout(r, 500));
  }
}

const sha = (b: Buffer) => require('node:crypto').createHash('sha256').update(b).digest('hex');

let owner: Page;
let tenantA: string;
const ids: Record<string, string> = {};
const hostileIds: Record<string, string> = {};
/** Every mail the test delivers: the ordinary ones and one per hostile body. */
const TOTAL = Object.keys(MAILS).length + Object.keys(HOSTILE_HTML).length;
let exportId = '';

beforeAll(async () => {
  db = createDb(cfg.DATABASE_URL, 2);
  await new Promise<void>((r) => remote.listen(0, '127.0.0.1', r));
  REMOTE = `http://127.0.0.1:${(remote.address() as AddressInfo).port}`;
  MAILS.inline = Buffer.from(MAILS.inline.toString('utf8').replace('REMOTE_ORIGIN', REMOTE));
  browser = await launchChromium();

  const a = await createTenantInvite('E2E Archiv GmbH', `chefin@${DOMAIN}`, BASE);
  tenantA = a.tenantId;
  owner = (await join(browser, a.link, `chefin@${DOMAIN}`)).page;
  // The tenant exists once its owner has accepted the invitation.
  await mailrepo('ingest-address', 'add', INGEST, '--tenant', tenantA);

  const lmtp = await LmtpClient.connect(cfg.LMTP_PORT);
  const all: [string, Buffer][] = [
    ...Object.entries(MAILS),
    ...Object.entries(HOSTILE_HTML).map(([n, h]): [string, Buffer] => [
      `hostile:${n}`,
      hostileMail(n, h),
    ]),
  ];
  for (const [, mail] of all) {
    const d = await lmtp.send(mail, 'journal@mta.example', [INGEST]);
    expect(d.data[INGEST]).toMatch(/^250/);
  }
  lmtp.close();
  const byHash = await sealedIds(tenantA, all.length);
  for (const [name, mail] of all) {
    const id = byHash.get(sha(mail))!;
    if (name.startsWith('hostile:')) hostileIds[name.slice(8)] = id;
    else ids[name] = id;
  }
  await untilIndexed(owner, all.length);
}, 180_000);

/** The list once index maintenance has merged `count` mails (the first visit starts it). */
async function untilIndexed(page: Page, count: number) {
  const deadline = Date.now() + 60_000;
  for (;;) {
    await page.goto(`${BASE}/mail`);
    const pending = await page.getByTestId('mail-pending').count();
    if (!pending && (await page.getByTestId('mail-row').count()) === count) return;
    if (Date.now() > deadline) throw new Error('the index did not catch up');
    await new Promise((r) => setTimeout(r, 500));
  }
}

afterAll(async () => {
  await browser?.close();
  remote.close();
  await db?.destroy();
});

const rows = async (page: Page) =>
  page
    .getByTestId('mail-row')
    .evaluateAll((trs) =>
      trs.map((tr) => tr.querySelector('td:nth-child(3) a')!.textContent!.trim()),
    );

async function search(page: Page, q: string): Promise<string[]> {
  await page.goto(`${BASE}/mail?q=${encodeURIComponent(q)}`);
  return rows(page);
}

describe('the archive in Chromium', () => {
  it('lists newest first and finds mails by body words, attachment names, phrases and fields', async () => {
    await owner.goto(`${BASE}/mail`);
    const listed = await rows(owner);
    expect(listed.length).toBe(3 + Object.keys(HOSTILE_HTML).length);
    expect(await owner.getByTestId('mail-count').textContent()).toMatch(
      new RegExp(`${TOTAL} Mails`),
    );

    expect(await search(owner, 'heizkorper')).toEqual(['Lieferung Heizkörper']);
    expect(await owner.getByTestId('snippet').first().textContent()).toMatch(/Heizkörper/);
    expect(await owner.locator('.snippet mark').first().textContent()).toBe('Heizkörper');
    expect(await search(owner, 'DONNERSTAG')).toEqual(['Lieferung Heizkörper']);
    expect(await search(owner, 'vertrag-müller')).toEqual(['Entwurf zur Unterschrift']);
    expect(await search(owner, 'attachment:müller')).toEqual(['Entwurf zur Unterschrift']);
    // Both hold the words; only one in this order.
    expect(await search(owner, '"sehr geehrte damen und herren"')).toEqual([
      'Lieferung Heizkörper',
    ]);
    expect(await search(owner, 'from:müller')).toEqual(['Lieferung Heizkörper']);
    expect(await search(owner, 'unterschr*')).toEqual(['Entwurf zur Unterschrift']);
    // A word only the PDF holds: found, the excerpt naming the file and page it comes from.
    expect(await search(owner, 'zaunkoenigweg')).toEqual(['Entwurf zur Unterschrift']);
    expect(await owner.getByTestId('snippet-source').textContent()).toMatch(
      /Vertrag-Müller\.pdf, Seite 1/,
    );
    expect(await search(owner, 'in:text zaunkoenigweg')).toEqual([]);
    expect(await search(owner, 'dateityp:pdf')).toEqual(['Entwurf zur Unterschrift']);
    expect(await search(owner, 'newsletter -logo')).toEqual(['Feindlich tracking-pixel']);
    expect(await search(owner, 'Feindlich has:attachment')).toEqual([]);
    await owner.goto(`${BASE}/mail?q=after:2026-13-01`);
    expect(await owner.getByRole('alert').textContent()).toMatch(/ungültig/);

    // Filters from the form compose into the same query.
    await owner.goto(`${BASE}/mail`);
    await owner.getByText('Filter').click();
    await owner.getByLabel('Von').fill('kanzlei');
    await owner.getByLabel('Nur mit Anhang').check();
    await owner.getByRole('button', { name: 'Suchen' }).click();
    expect(await rows(owner)).toEqual(['Entwurf zur Unterschrift']);
  }, 60_000);

  it('shows a mail with its facts, and serves the original, attachments and a proof that verifies', async () => {
    await owner.goto(`${BASE}/mail`);
    await owner.getByRole('link', { name: 'Entwurf zur Unterschrift' }).click();
    await owner.getByRole('heading', { name: 'Entwurf zur Unterschrift' }).waitFor();
    expect(await owner.getByTestId('mail-sha256').textContent()).toBe(sha(MAILS.attachment));
    expect(await owner.getByTestId('mail-text').textContent()).toMatch(/bis Freitag/);
    const att = owner.getByTestId('attachment');
    expect(await att.textContent()).toMatch(/Vertrag-Müller\.pdf/);
    expect(await att.textContent()).toContain(sha(PDF));
    expect(await owner.getByTestId('attachment-text').textContent()).toBe('Inhalt durchsuchbar');

    const original = await owner.request.get(`${BASE}/mail/${ids.attachment}/original`);
    expect(original.status()).toBe(200);
    expect(original.headers()['content-disposition']).toMatch(/^attachment; filename="mail-/);
    expect(Buffer.from(await original.body()).equals(MAILS.attachment)).toBe(true);

    const pdf = await owner.request.get(`${BASE}/mail/${ids.attachment}/attachments/0`);
    expect(pdf.headers()['content-type']).toBe('application/pdf');
    expect(pdf.headers()['content-disposition']).toMatch(
      /filename\*=UTF-8''Vertrag-M%C3%BCller\.pdf/,
    );
    expect(Buffer.from(await pdf.body()).equals(PDF)).toBe(true);
    expect((await owner.request.get(`${BASE}/mail/${ids.attachment}/attachments/7`)).status()).toBe(
      404,
    );

    const proof = await owner.request.get(`${BASE}/mail/${ids.attachment}/proof`);
    expect(proof.status()).toBe(200);
    const dir = mkdtempSync(path.join(os.tmpdir(), 'mailrepo-proof-'));
    writeFileSync(path.join(dir, 'bundle.zip'), await proof.body());
    writeFileSync(path.join(dir, 'mail.eml'), MAILS.attachment);
    expect(
      await mailrepo('verify', path.join(dir, 'bundle.zip'), path.join(dir, 'mail.eml')),
    ).toMatch(/VERIFIED/);
    // The bundle's own stdlib script, as a third party would run it.
    const files = unzipSync(new Uint8Array(readFileSync(path.join(dir, 'bundle.zip'))));
    const script = Object.keys(files).find((f) => f.endsWith('verify.py'))!;
    for (const [name, bytes] of Object.entries(files)) {
      const target = path.join(dir, 'x', name);
      require('node:fs').mkdirSync(path.dirname(target), { recursive: true });
      writeFileSync(target, bytes);
    }
    const py = await exec('python3', [path.join(dir, 'x', script), path.join(dir, 'mail.eml')], {
      cwd: path.join(dir, 'x', path.dirname(script)),
    });
    expect(py.stdout).toMatch(/OK|VERIFIED/i);

    // The PDF, plain and (through the page's form) password-protected, opened with poppler.
    const plainPdf = await owner.request.get(`${BASE}/mail/${ids.attachment}/pdf`);
    writeFileSync(path.join(dir, 'plain.pdf'), await plainPdf.body());
    const plainText = (await exec('pdftotext', ['-enc', 'UTF-8', path.join(dir, 'plain.pdf'), '-']))
      .stdout;
    for (const expected of [
      'Entwurf zur Unterschrift',
      'bis Freitag',
      'Vertrag-Müller.pdf',
      sha(PDF),
      sha(MAILS.attachment),
    ])
      expect(plainText).toContain(expected);
    await owner.goto(`${BASE}/mail/${ids.attachment}`);
    await owner.getByText('PDF mit Passwortschutz (AES-256)').click();
    await owner.getByLabel('Passwort für das PDF (mindestens 8 Zeichen)').fill('Prüfer 2026!');
    const [pdfDownload] = await Promise.all([
      owner.waitForEvent('download'),
      owner.getByRole('button', { name: 'PDF erstellen' }).click(),
    ]);
    await pdfDownload.saveAs(path.join(dir, 'protected.pdf'));
    await expect(exec('pdftotext', [path.join(dir, 'protected.pdf'), '-'])).rejects.toThrow();
    const protectedText = (
      await exec('pdftotext', [
        '-upw',
        'Prüfer 2026!',
        '-enc',
        'UTF-8',
        path.join(dir, 'protected.pdf'),
        '-',
      ])
    ).stdout;
    expect(protectedText).toContain('Entwurf zur Unterschrift');

    // The verify page: each step passes for the real mail; a changed mail fails at its hash.
    writeFileSync(
      path.join(dir, 'changed.eml'),
      Buffer.concat([MAILS.attachment, Buffer.from('x')]),
    );
    for (const [file, verdict] of [
      ['mail.eml', /Bestätigt/],
      ['changed.eml', /Nicht bestätigt/],
    ] as const) {
      await owner.goto(`${BASE}/verify`);
      await owner.getByLabel('Mail (.eml)').setInputFiles(path.join(dir, file));
      await owner.getByLabel('Beweispaket (.zip)').setInputFiles(path.join(dir, 'bundle.zip'));
      await owner.getByRole('button', { name: 'Prüfen' }).click();
      expect(await owner.getByTestId('verify-result').textContent()).toMatch(verdict);
      const steps = await owner
        .getByTestId('verify-step')
        .evaluateAll((li) => li.map((l) => l.getAttribute('data-status')));
      expect(steps).toEqual(
        file === 'mail.eml' ? Array(8).fill('passed') : ['failed', ...Array(7).fill('not-reached')],
      );
    }

    const audit = await sql<{ action: string; n: number }>`
      SELECT action, count(*)::int AS n FROM audit_events WHERE tenant_id = ${tenantA}
      AND action LIKE 'mail.%' GROUP BY action`.execute(dba);
    const counts = Object.fromEntries(audit.rows.map((r) => [r.action, r.n]));
    expect(counts).toMatchObject({
      'mail.viewed': expect.any(Number),
      'mail.searched': expect.any(Number),
      'mail.original_downloaded': 1,
      // Two: asking for a seventh attachment decrypts the mail too, found or not.
      'mail.attachment_downloaded': 2,
      'mail.proof_downloaded': 1,
      'mail.pdf_downloaded': 2,
    });
  }, 60_000);

  it('renders hostile HTML without running script or reaching out until images are allowed', async () => {
    const page = await (await browser.newContext({ locale: 'de-DE' })).newPage();
    await page.context().addCookies(await owner.context().cookies());
    const dialogs: string[] = [];
    page.on('dialog', (d) => {
      dialogs.push(d.message());
      void d.dismiss();
    });
    // Every request a body makes, same origin included: only its own cid: images may load.
    const outside: string[] = [];
    const fromBody: string[] = [];
    page.on('request', (r) => {
      const url = r.url();
      if (!url.startsWith(BASE) && !url.startsWith('data:')) outside.push(url);
      else if (
        r.frame() !== page.mainFrame() &&
        url.startsWith(BASE) &&
        !/^\/mail\/[0-9a-f-]{36}\/(body|cid\/[^/]+)$/.test(new URL(url).pathname)
      )
        fromBody.push(url);
    });
    for (const [name, id] of Object.entries(hostileIds)) {
      await page.goto(`${BASE}/mail/${id}`);
      const frame = page.frameLocator('iframe.mail-body');
      // The body rendered: its first line is there.
      await frame.getByText(`angezeigt: ${name}`).waitFor();
      // What the sanitiser left: no script, no handler, no javascript: address, whatever the CSP
      // would still have stopped.
      const left = await frame.locator('*').evaluateAll((els) =>
        els.flatMap((e) => [
          ...(e.tagName === 'SCRIPT' ? ['<script>'] : []),
          ...Array.from(e.attributes)
            .filter((a) => /^on/i.test(a.name) || /^\s*(javascript|vbscript):/i.test(a.value))
            .map((a) => `${e.tagName.toLowerCase()} ${a.name}`),
        ]),
      );
      // Give handlers their chance: hover, and click every link, button and form control.
      await page.locator('iframe.mail-body').hover();
      const clickable = frame.locator('a, button, input, summary, [onclick]');
      for (let i = 0; i < (await clickable.count()); i++)
        await clickable
          .nth(i)
          .click({ timeout: 1000, noWaitAfter: true, force: true })
          .catch(() => undefined);
      await page.waitForLoadState('networkidle');
      expect({ name, left, outside, fromBody, remoteHits, dialogs, url: page.url() }).toEqual({
        name,
        left: [],
        outside: [],
        fromBody: [],
        remoteHits: [],
        dialogs: [],
        url: `${BASE}/mail/${id}`,
      });
    }
    // The tracking pixel: blocked, then loaded once the user allows it for this mail.
    await page.goto(`${BASE}/mail/${hostileIds['tracking-pixel']}`);
    expect(await page.getByRole('status').first().textContent()).toMatch(/1 externe Bilder/);
    await page.getByRole('link', { name: 'Externe Bilder für diese Mail laden' }).click();
    await page.frameLocator('iframe.mail-body').locator('img').waitFor();
    await page.waitForLoadState('networkidle');
    expect(remoteHits).toEqual(['/pixel.png']);
    expect(outside).toEqual([`${REMOTE}/pixel.png`]);
    await page.close();
  }, 180_000);

  it('shows cid: images from the mail itself and keeps remote ones out', async () => {
    remoteHits.length = 0;
    await owner.goto(`${BASE}/mail/${ids.inline}`);
    const frame = owner.frameLocator('iframe.mail-body');
    // The sanitiser keeps no ids: images are found by their alt text.
    await frame.locator('img[alt=Logo]').waitFor({ state: 'attached' });
    const logo = await frame.locator('img[alt=Logo]').evaluate((img: HTMLImageElement) => ({
      src: img.getAttribute('src'),
      loaded: img.complete && img.naturalWidth === 1,
    }));
    expect(logo).toEqual({ src: `/mail/${ids.inline}/cid/logo%40shop`, loaded: true });
    expect(await frame.locator('img[data-blocked]').getAttribute('src')).toBeNull();
    expect(remoteHits).toEqual([]);
  }, 30_000);

  it('runs an integrity check from the admin page', async () => {
    await owner.goto(`${BASE}/settings/integrity`);
    await owner.getByRole('button', { name: 'Jetzt prüfen' }).click();
    await owner.getByText(/Die Prüfung läuft/).waitFor();
    const deadline = Date.now() + 60_000;
    for (;;) {
      await owner.goto(`${BASE}/settings/integrity`);
      const run = owner.getByTestId('integrity-run').first();
      const seen = (await run.count()) ? await run.textContent() : null;
      if (seen && /Alles in Ordnung/.test(seen)) {
        expect(seen).toMatch(new RegExp(`^.*manuell.*${TOTAL} ·`));
        break;
      }
      if (Date.now() > deadline) throw new Error(`no finished integrity run; last seen: ${seen}`);
      await new Promise((r) => setTimeout(r, 500));
    }
  }, 90_000);

  it('exports a selection as an AES-256 ZIP that 7-Zip opens, every hash matching', async () => {
    await owner.goto(`${BASE}/mail?q=${encodeURIComponent('from:kanzlei')}`);
    await owner.getByRole('link', { name: 'Diese Auswahl exportieren' }).click();
    expect(await owner.getByLabel('Welche Mails (Suchanfrage; leer = alle)').inputValue()).toBe(
      'from:kanzlei',
    );
    await owner.getByLabel('Welche Mails (Suchanfrage; leer = alle)').fill('');
    await owner.getByLabel('Zusätzlich jede Mail als PDF').check();
    await owner
      .getByLabel('Passwort für das ZIP (mindestens 12 Zeichen)')
      .fill('Export-Passwort 2026');
    await owner.getByLabel('Passwort wiederholen').fill('Export-Passwort 2026');
    await owner.getByRole('button', { name: 'Export starten' }).click();
    await owner.waitForURL(/\/exports\/[0-9a-f-]{36}$/);
    exportId = owner.url().split('/').pop()!;
    await owner.getByTestId('export-part').waitFor({ timeout: 90_000 });
    expect(await owner.getByTestId('export-status').textContent()).toBe('fertig');

    const href = await owner.getByTestId('export-part').locator('a').getAttribute('href');
    const zip = await owner.request.get(`${BASE}${href}`);
    expect(zip.headers()['content-type']).toBe('application/zip');
    const dir = mkdtempSync(path.join(os.tmpdir(), 'mailrepo-export-'));
    writeFileSync(path.join(dir, 'export.zip'), await zip.body());
    // Without the password 7-Zip gets nothing out — refused for the password, not for some
    // other fault (exit 2, "Wrong password", no file with content); with it, everything.
    const wrong = await exec('7z', [
      'x',
      '-pfalsch',
      `-o${dir}/wrong`,
      path.join(dir, 'export.zip'),
    ]).then(
      () => ({ code: 0, out: '' }),
      (e: { code: number; stdout: string; stderr: string }) => ({
        code: e.code,
        out: `${e.stdout}${e.stderr}`,
      }),
    );
    expect(wrong.code).toBe(2);
    expect(wrong.out).toMatch(/Wrong password/);
    expect(filesUnder(path.join(dir, 'wrong')).filter((f) => statSync(f).size > 0)).toEqual([]);
    await exec('7z', ['x', '-pExport-Passwort 2026', `-o${dir}/x`, path.join(dir, 'export.zip')]);
    const listing = (
      await exec('7z', ['l', '-slt', '-pExport-Passwort 2026', path.join(dir, 'export.zip')])
    ).stdout;
    expect(listing).toMatch(/Method = AES-256/);
    expect(listing).not.toMatch(/Encrypted = -/);

    const manifest = JSON.parse(readFileSync(path.join(dir, 'x', 'manifest.json'), 'utf8')) as {
      files: { file: string; sha256: string; archivedSha256: string }[];
    };
    const emls = manifest.files.filter((f) => f.file.endsWith('.eml'));
    expect(emls.length).toBe(TOTAL);
    expect(manifest.files.filter((f) => f.file.endsWith('.pdf')).length).toBe(TOTAL);
    expect(manifest.files.filter((f) => f.file.endsWith('.proof.zip')).length).toBe(TOTAL);
    for (const f of manifest.files)
      expect({ f: f.file, sha: sha(readFileSync(path.join(dir, 'x', f.file))) }).toEqual({
        f: f.file,
        sha: f.sha256,
      });
    // Nothing in the ZIP that the manifest does not list (and vice versa).
    expect(
      filesUnder(path.join(dir, 'x'))
        .map((f) => path.relative(path.join(dir, 'x'), f))
        .sort(),
    ).toEqual([...manifest.files.map((f) => f.file), 'manifest.csv', 'manifest.json'].sort());
    // The .eml files are the archived bytes: their hash is the ledger's — checked against what the
    // database holds and what was sent, not only against the manifest the export wrote itself.
    for (const f of emls) expect(f.sha256).toBe(f.archivedSha256);
    const stored = await sql<{ h: string }>`SELECT encode(sha256, 'hex') AS h FROM messages
      WHERE tenant_id = ${tenantA} AND deleted_at IS NULL`.execute(dba);
    expect(emls.map((f) => f.sha256).sort()).toEqual(stored.rows.map((r) => r.h).sort());
    for (const sent of Object.values(MAILS)) expect(emls.map((f) => f.sha256)).toContain(sha(sent));
    const csv = readFileSync(path.join(dir, 'x', 'manifest.csv'), 'utf8');
    expect(csv.split('\r\n').filter(Boolean).length).toBe(manifest.files.length + 1);
    // One proof from the export verifies against its mail.
    const plainEml = emls.find((f) => f.sha256 === sha(MAILS.plain))!;
    expect(
      await mailrepo(
        'verify',
        path.join(
          dir,
          'x',
          plainEml.file.replace('mails/', 'proofs/').replace(/\.eml$/, '.proof.zip'),
        ),
        path.join(dir, 'x', plainEml.file),
      ),
    ).toMatch(/VERIFIED/);

    const audit = await sql<{ action: string }>`SELECT action FROM audit_events
      WHERE tenant_id = ${tenantA} AND action LIKE 'export.%' ORDER BY seq`.execute(dba);
    expect(audit.rows.map((r) => r.action)).toEqual([
      'export.created',
      'export.mails_decrypted',
      'export.downloaded',
    ]);
    // The grant is gone once the export is written.
    const grants = await sql<{ n: number }>`SELECT count(*)::int AS n FROM decryption_grants
      WHERE tenant_id = ${tenantA} AND purpose = 'export'`.execute(dba);
    expect(grants.rows[0]!.n).toBe(0);
  }, 150_000);

  it("lists the tenant's workflows on the jobs page: filters, counts, archiving counted, links", async () => {
    const rowsAt = async (query: string) => {
      await owner.goto(`${BASE}/jobs${query}`);
      return owner
        .getByTestId('job')
        .evaluateAll((trs) => trs.map((tr) => tr.querySelector('td')!.textContent!));
    };
    // By default finished archiving jobs are counted, not listed: the mails they archived are.
    const types = await rowsAt('');
    expect(types.filter((x) => /archivieren/.test(x))).toEqual([]);
    expect(await owner.getByTestId('job-archiving').textContent()).toMatch(
      new RegExp(
        `^${TOTAL} Mails archiviert \\(letzte 7 Tage\\), 0 Archivierungsaufträge fehlgeschlagen`,
      ),
    );
    expect(await owner.getByTestId('job-counts').textContent()).toMatch(
      /^0 fehlgeschlagen · \d+ laufen · \d+ abgeschlossen$/,
    );
    expect(types.filter((x) => x.startsWith('Suchindex pflegen')).length).toBeGreaterThanOrEqual(1);
    const link = await owner
      .getByRole('link', { name: 'in Temporal' })
      .first()
      .getAttribute('href');
    expect(link).toMatch(/\/namespaces\/[^/]+\/workflows\/[^/]+\/[0-9a-f-]+\/history$/);
    // Filtered by type (the form, as a person uses it): the integrity check, linked to its page.
    await owner.getByLabel('Auftrag').selectOption('integrityCheck');
    await owner.getByRole('button', { name: 'Filtern' }).click();
    await owner.waitForURL(/type=integrityCheck/);
    expect(await owner.getByTestId('job').count()).toBe(1);
    expect(await owner.getByTestId('job-subject').getAttribute('href')).toBe('/settings/integrity');
    // Asked for by type, archiving jobs are listed: every mail in a batch (its count in
    // brackets) or, retried alone, its own — each linked to a mail.
    const batches = await rowsAt('?type=archiveBatch&state=completed&since=all');
    const inBatches = batches
      .map((x) => /^Mails archivieren \((\d+) Mails\)/.exec(x)?.[1])
      .reduce((n, m) => n + Number(m ?? 0), 0);
    expect(await owner.getByTestId('job-subject').first().getAttribute('href')).toMatch(
      /^\/mail\/[0-9a-f-]{36}$/,
    );
    const alone = await rowsAt('?type=archiveMail&state=completed&since=all');
    expect(inBatches + alone.length).toBe(TOTAL);
    // Nothing failed: the failed filter lists nothing.
    expect(await rowsAt('?state=failed')).toEqual([]);
  }, 60_000);

  it('an auditor answers "who opened this mail, and is the log intact?" from the portal alone', async () => {
    const AUDITOR = `pruefer@${DOMAIN}`;
    const auditor = (await join(browser, await invite(owner, BASE, AUDITOR, 'auditor'), AUDITOR))
      .page;
    const subject = '„Entwurf zur Unterschrift“';
    const shown = async () => {
      const events = auditor.getByTestId('audit-event');
      return Promise.all(
        (await events.all()).map(async (row) => ({
          action: await row.getAttribute('data-action'),
          who: (await row.getByTestId('audit-who').textContent())!.trim(),
          what: (await row.getByTestId('audit-what').textContent())!.trim(),
          seq: Number(await row.locator('td').first().textContent()),
        })),
      );
    };

    // The owner reads the mail, its attachment, its original and its PDF.
    await owner.goto(`${BASE}/mail/${ids.attachment}`);
    for (const part of ['attachments/0', 'original', 'pdf'])
      expect((await owner.request.get(`${BASE}/mail/${ids.attachment}/${part}`)).status()).toBe(
        200,
      );

    // From the mail to its events: who opened it, downloaded what, and when it was archived.
    await auditor.goto(`${BASE}/mail/${ids.attachment}`);
    await auditor.getByTestId('mail-audit-trail').click();
    await auditor.waitForURL(`${BASE}/audit?mail=${ids.attachment}`);
    expect(await auditor.getByTestId('audit-mail').textContent()).toContain(subject);
    const ofMail = await shown();
    const by = (what: string) => ofMail.filter((e) => e.what === what).map((e) => e.who);
    expect(by(`Mail ${subject} geöffnet`)).toContain(`chefin@${DOMAIN}`);
    expect(by(`Anhang „Vertrag-Müller.pdf“ der Mail ${subject} heruntergeladen`)).toContain(
      `chefin@${DOMAIN}`,
    );
    expect(by(`Original (.eml) der Mail ${subject} heruntergeladen`)).toContain(`chefin@${DOMAIN}`);
    const archived = ofMail.find((e) => e.action === 'mail.archived')!;
    expect(archived.what).toMatch(
      /^Mail „Entwurf zur Unterschrift“ archiviert \(Ledger-Index \d+\)$/,
    );
    expect(archived.who).toBe('System · Archivierung');
    // None is a code or has a blank left; each of the mail's own events names it, the others
    // are the exports or restores that decrypted it (in the full run, the export test's).
    expect(ofMail.every((e) => e.what !== e.action && !e.what.includes('{'))).toBe(true);
    const own = ofMail.filter((e) => e.action!.startsWith('mail.'));
    expect(own.every((e) => e.what.includes(subject))).toBe(true);
    expect(
      ofMail
        .filter((e) => !own.includes(e))
        .every((e) => /^(export|restore)\.mails_decrypted$/.test(e.action!)),
    ).toBe(true);

    // Person and area through the form: the owner's decryptions only.
    await auditor.goto(`${BASE}/audit`);
    await auditor.getByLabel('Person').selectOption({ label: `chefin@${DOMAIN} (Inhaber)` });
    await auditor.getByLabel('Bereich').selectOption({ label: 'Entschlüsselungen' });
    await auditor.getByRole('button', { name: 'Filtern', exact: true }).click();
    await auditor.waitForURL(/group=decryptions/);
    const decryptions = await shown();
    expect(decryptions.length).toBeGreaterThan(3);
    expect(new Set(decryptions.map((e) => e.who))).toEqual(new Set([`chefin@${DOMAIN}`]));
    expect(decryptions.every((e) => e.action!.startsWith('mail.'))).toBe(true);
    expect(decryptions.map((e) => e.what)).toContain(`Mail ${subject} als PDF heruntergeladen`);

    // Unfiltered, the log has more than a page (run alone, this test adds searches to have one):
    // older, then newer again, no event twice.
    for (let i = 0; i < 15; i++) await owner.request.get(`${BASE}/mail?q=seite${i}`);
    await auditor.goto(`${BASE}/audit`);
    const first = await shown();
    expect(first).toHaveLength(50);
    await auditor.getByTestId('audit-older').click();
    await auditor.waitForURL(/before=/);
    const second = await shown();
    expect(Math.max(...second.map((e) => e.seq))).toBeLessThan(
      Math.min(...first.map((e) => e.seq)),
    );
    await auditor.getByTestId('audit-newer').click();
    await auditor.waitForURL(/after=/);
    expect((await shown()).map((e) => e.seq)).toEqual(first.map((e) => e.seq));

    // The verification panel on the older page: intact, anchored, with its RFC 3161 time.
    await auditor.goto(`${BASE}/audit?before=${Math.min(...first.map((e) => e.seq))}`);
    const deadline = Date.now() + 60_000;
    for (;;) {
      await auditor.getByRole('button', { name: 'Angezeigte Ereignisse prüfen' }).click();
      await auditor.getByTestId('audit-verdict').waitFor();
      if (await auditor.getByTestId('audit-tsa-time').count()) break;
      if (Date.now() > deadline) throw new Error('the range was not anchored and timestamped');
      await new Promise((r) => setTimeout(r, 2000));
    }
    expect(await auditor.getByTestId('audit-verdict').getAttribute('data-intact')).toBe('yes');
    expect(await auditor.getByTestId('audit-verdict').getByRole('status').textContent()).toMatch(
      /^Intakt: Ereignisse #\d+ bis #\d+ sind vollständig und unverändert/,
    );
    expect(await auditor.getByTestId('audit-anchor').textContent()).toMatch(
      /Verankert durch den Kettenkopf #\d+ im Ledger des Mandanten \(.+\), Index \d+, im Checkpoint der Größe \d+/,
    );
    expect(await auditor.getByTestId('audit-tsa-time').textContent()).toMatch(
      /RFC 3161-Zeitstempel: \d{2}\.\d{2}\.\d{4}, \d{2}:\d{2}:\d{2} MEZ \(2 Zeitstempeldienste\)/,
    );

    // The auditor export of the filtered view, from the page's link: audited with who and where.
    await auditor.goto(`${BASE}/audit?mail=${ids.attachment}`);
    const href = await auditor.getByTestId('audit-export-link').getAttribute('href');
    const res = await auditor.request.get(`${BASE}${href}`);
    expect(res.status()).toBe(200);
    const zip = unzipSync(new Uint8Array(await res.body()));
    const exported = JSON.parse(Buffer.from(zip['events.json']!).toString('utf8')) as {
      action: string;
      target: { id: string } | null;
      details: { messageIds?: string[] };
      selected?: boolean;
    }[];
    const selected = exported.filter((e) => e.selected);
    expect(selected.map((e) => e.action)).toContain('mail.viewed');
    expect(
      selected.every(
        (e) => e.target?.id === ids.attachment || e.details.messageIds?.includes(ids.attachment!),
      ),
    ).toBe(true);
    expect(Object.keys(zip)).toEqual(expect.arrayContaining(['events.csv', 'verify-audit.py']));
    const logged = await sql<{ actor: string; ip: string | null; details: { filter: unknown } }>`
      SELECT u.email AS actor, e.ip, e.details FROM audit_events e JOIN users u ON u.id::text = e.actor_id
      WHERE e.tenant_id = ${tenantA} AND e.action = 'audit.exported'`.execute(dba);
    expect(logged.rows).toHaveLength(1);
    expect(logged.rows[0]).toMatchObject({
      actor: AUDITOR,
      details: { filter: { mail: ids.attachment } },
    });
    expect(logged.rows[0]!.ip).toBeTruthy();
    await auditor.goto(`${BASE}/audit?group=exports`);
    expect((await shown())[0]).toMatchObject({
      who: AUDITOR,
      what: expect.stringMatching(/^Protokoll für Prüfer exportiert \(\d+ Ereignisse\)$/),
    });

    // The same page in English; a filter that is not one is named, not guessed at.
    await auditor.getByRole('button', { name: 'English' }).click();
    await auditor.goto(`${BASE}/audit?mail=${ids.attachment}`);
    expect((await shown()).map((e) => e.what)).toContain(
      'Opened the mail “Entwurf zur Unterschrift”',
    );
    const bad = await auditor.goto(`${BASE}/audit?mail=nicht-eine-id&from=2026-02-31`);
    expect(bad!.status()).toBe(400);
    expect(await auditor.getByRole('alert').textContent()).toContain('Invalid filter: mail, from');
    await auditor.context().close();
  }, 180_000);

  it('the home page reports what the database holds, with a navigation bar for the role', async () => {
    await owner.goto(`${BASE}/`);
    const stat = async (id: string) => (await owner.getByTestId(`stat-${id}`).textContent()) ?? '';
    const db = await sql<{
      n: number;
      last: Date;
    }>`SELECT count(*)::int AS n, max(received_at) AS last
      FROM messages WHERE tenant_id = ${tenantA} AND deleted_at IS NULL`.execute(dba);
    expect(await stat('mails')).toContain(String(db.rows[0]!.n));
    expect(db.rows[0]!.n).toBe(TOTAL);
    expect(await stat('received')).toContain(
      db.rows[0]!.last.toLocaleString('de-DE', { timeZone: 'Europe/Berlin', timeStyle: 'short' }),
    );
    expect(await stat('unsealed')).toMatch(/Versiegelung\s*0$/);
    expect(await stat('sealed')).not.toMatch(/noch nie/);
    expect(await stat('index')).toMatch(/Suchindex\s*0$/);
    // The integrity check of the test before passed.
    expect(await stat('integrity')).toMatch(/bestanden/);
    expect(await stat('jobs')).toMatch(/\d+ laufen, 0 fehlgeschlagen/);
    expect(await stat('retention')).toMatch(/\d{2}:\d{2}/);

    const bar = owner.getByRole('navigation', { name: 'Hauptnavigation' });
    expect(await bar.getByRole('link', { name: 'Übersicht' }).getAttribute('aria-current')).toBe(
      'page',
    );
    await bar.getByRole('link', { name: 'Protokoll' }).click();
    await owner.waitForURL(`${BASE}/audit`);
    expect(
      await owner
        .getByRole('navigation', { name: 'Hauptnavigation' })
        .getByRole('link', { name: 'Protokoll' })
        .getAttribute('aria-current'),
    ).toBe('page');
  }, 60_000);

  it('confines a member to their mailbox and another tenant to nothing', async () => {
    const member = (await join(browser, await invite(owner, BASE, MEMBER, 'member'), MEMBER)).page;
    await member.goto(`${BASE}/mail`);
    expect(await rows(member)).toEqual(['Lieferung Heizkörper']);
    expect(await search(member, 'vertrag')).toEqual([]);
    // Their home counts their own mailbox; nothing of the tenant's state, no admin links.
    await member.goto(`${BASE}/`);
    expect(await member.getByTestId('stat-mails').textContent()).toMatch(
      /Ihre archivierten Mails\s*1$/,
    );
    for (const id of ['unsealed', 'sealed', 'integrity', 'jobs', 'retention'])
      expect(await member.getByTestId(`stat-${id}`).count()).toBe(0);
    const bar = member.getByRole('navigation', { name: 'Hauptnavigation' });
    expect(await bar.getByRole('link').allTextContents()).toEqual([
      'Übersicht',
      'Archiv',
      'Exporte',
      'Nachweis prüfen',
      'Sitzungen',
      'Anmeldeverfahren',
      'Passwort',
    ]);

    // No audit log for members: neither the page, nor its export, nor the mail page's link to it.
    for (const route of ['/audit', `/audit?mail=${ids.plain}`, '/audit/export'])
      expect((await member.request.get(`${BASE}${route}`, { maxRedirects: 0 })).status()).toBe(404);
    await member.goto(`${BASE}/mail/${ids.plain}`);
    expect(await member.getByTestId('mail-audit-trail').count()).toBe(0);

    const b = await createTenantInvite('E2E Fremd GmbH', 'chef@e2e-fremd.example', BASE);
    const other = (await join(browser, b.link, 'chef@e2e-fremd.example')).page;
    await other.goto(`${BASE}/mail`);
    expect(await rows(other)).toEqual([]);
    await other.goto(`${BASE}/jobs`);
    expect(await other.getByTestId('job').count()).toBe(0);

    const mailRoutes = (id: string) => [
      `/mail/${id}`,
      `/mail/${id}/body`,
      `/mail/${id}/original`,
      `/mail/${id}/attachments/0`,
      `/mail/${id}/cid/logo%40shop`,
      `/mail/${id}/proof`,
      `/mail/${id}/pdf`,
    ];
    /** GET, or POST with a form as the PDF page sends it; the answer with its nonce masked. */
    const answer = async (page: Page, method: 'GET' | 'POST', route: string) => {
      const res =
        method === 'GET'
          ? await page.request.get(`${BASE}${route}`, { maxRedirects: 0 })
          : await page.request.post(`${BASE}${route}`, {
              maxRedirects: 0,
              headers: { Origin: BASE },
              form: { password: 'ein Passwort für das PDF' },
            });
      const body = await res.text();
      // The CSP nonce differs per response (in attributes and in the loader data).
      const nonce = /nonce="([^"]+)"/.exec(body)?.[1];
      return { status: res.status(), body: nonce ? body.split(nonce).join('NONCE') : body };
    };
    // A mail that does not exist anywhere: what a forbidden one must look like, byte for byte.
    const nowhere = '00000000-0000-4000-8000-000000000000';
    for (const [who, page, mails] of [
      ['member', member, [ids.attachment, ids.inline]],
      ['other tenant', other, Object.values(ids)],
    ] as const)
      for (const id of mails) {
        const requests = [
          ...mailRoutes(id!).map((route) => ['GET', route] as const),
          ['POST', `/mail/${id}/pdf`] as const,
        ];
        for (const [method, route] of requests) {
          const got = await answer(page, method, route);
          const absent = await answer(page, method, route.replace(id!, nowhere));
          expect({ who, method, route, status: got.status }).toEqual({
            who,
            method,
            route,
            status: 404,
          });
          expect(got.body).toBe(absent.body);
          expect(got.body).not.toMatch(/Unterschrift|Vertrag|Logo|Heizk/);
        }
      }
    // Nor the owner's export, its page or its file.
    for (const [who, page] of [
      ['member', member],
      ['other tenant', other],
    ] as const)
      for (const route of [`/exports/${exportId}`, `/exports/${exportId}/parts/0`]) {
        const res = await page.request.get(`${BASE}${route}`, { maxRedirects: 0 });
        expect({ who, route, status: res.status() }).toEqual({ who, route, status: 404 });
      }
    // The member's own mail opens.
    expect((await member.request.get(`${BASE}/mail/${ids.plain}/original`)).status()).toBe(200);
  }, 120_000);

  it('clips a 12 KB subject and a long sender in the list; the mail page shows them whole', async () => {
    const subject = `Sehr lang ${'Betreff '.repeat(1500)}Ende`;
    const sender = `${'x'.repeat(200)}@lang.example`;
    const lmtp = await LmtpClient.connect(cfg.LMTP_PORT);
    const long = mime(
      { From: sender, To: `chefin@${DOMAIN}`, Subject: subject, 'Message-ID': `<lang@${DOMAIN}>` },
      'Content-Type: text/plain; charset=utf-8\n\nkurz\n',
    );
    expect((await lmtp.send(long, 'journal@mta.example', [INGEST])).data[INGEST]).toMatch(/^250/);
    lmtp.close();
    await untilIndexed(owner, TOTAL + 1);
    const link = owner.getByTestId('mail-subject').first();
    expect(((await link.textContent()) ?? '').length).toBeLessThanOrEqual(300);
    expect(await link.getAttribute('title')).toMatch(/^Sehr lang Betreff Betreff/);
    // One line per row, whatever the subject's length.
    const row = await owner.getByTestId('mail-row').first().boundingBox();
    expect(row!.height).toBeLessThan(80);
    await link.click();
    await owner.getByRole('heading', { name: /Sehr lang/ }).waitFor();
    expect(await owner.getByRole('heading', { name: /Sehr lang/ }).textContent()).toBe(subject);
  }, 120_000);

  it('a journal report over SMTP shows as its original with the Bcc it lists; the download is the report; a second report of it is one mail with two arrivals', async () => {
    const created = await mailrepo(
      'journal-address', 'create', '--tenant', tenantA, '--label', 'Microsoft 365',
    ); // prettier-ignore
    const address = /^\s+(j[a-z2-7]{52}@\S+)$/m.exec(created)![1]!;
    const subject = 'Journalisierte Quartalszahlen';
    const report = journalReport({
      subject,
      attached: original(subject, ' Stichwort: Zaunkönig'),
      encoding: 'base64',
    });
    const { replies } = await swaks(report, [
      '--server', '127.0.0.1', '--port', String(cfg.JOURNAL_SMTP_PORT), '--tls',
      '--from', 'journal@contoso.onmicrosoft.com', '--to', address,
    ]); // prettier-ignore
    expect(replies.at(-2)).toMatchObject({ code: 250 });
    const id = (await sealedIds(tenantA, TOTAL + 2)).get(sha(report))!;
    await untilIndexed(owner, TOTAL + 2);
    // Found by the original's words and by a recipient only the report names.
    expect(await search(owner, 'Zaunkönig')).toEqual([subject]);
    expect(await search(owner, 'erin@contoso.example')).toEqual([subject]);
    await owner.goto(`${BASE}/mail/${id}`);
    expect(await owner.getByRole('heading', { level: 1 }).textContent()).toBe(subject);
    expect(await owner.getByTestId('journal-notice').textContent()).toMatch(/Journalbericht/);
    expect(await owner.getByTestId('mail-bcc').textContent()).toMatch(/erin@contoso\.example/);
    // The evidence is the report as received, byte for byte.
    const raw = await owner.request.get(`${BASE}/mail/${id}/original`);
    expect(Buffer.from(await raw.body()).equals(report)).toBe(true);

    // A second journal rule reports the same original again, naming one more Bcc recipient:
    // still one mail in the archive, now with two arrivals, each its own evidence.
    const again = journalReport({
      subject,
      id: 'second-rule',
      lines: [`Subject: ${subject}`, ...REPORT_LINES, 'Bcc: heidi@contoso.example'],
      attached: original(subject, ' Stichwort: Zaunkönig'),
      encoding: 'base64',
    });
    const second = await swaks(again, [
      '--server', '127.0.0.1', '--port', String(cfg.JOURNAL_SMTP_PORT), '--tls',
      '--from', 'journal@contoso.onmicrosoft.com', '--to', address,
    ]); // prettier-ignore
    expect(second.replies.at(-2)).toMatchObject({ code: 250 });
    const againId = (await sealedIds(tenantA, TOTAL + 3)).get(sha(again))!;
    const { rows: grouped } = await sql<{ logical_id: string }>`
      SELECT logical_id FROM messages WHERE id = ${againId}`.execute(dba);
    expect(grouped[0]!.logical_id).toBe(id);
    await untilIndexed(owner, TOTAL + 2);
    expect(await search(owner, 'Zaunkönig')).toEqual([subject]);
    // Only the second report names heidi: searching for her finds the mail through it.
    expect(await search(owner, 'heidi@contoso.example')).toEqual([subject]);
    await owner.goto(`${BASE}/mail/${id}`);
    const arrivals = owner.getByTestId('mail-arrivals');
    expect(await arrivals.textContent()).toMatch(/2-mal eingegangen/);
    await arrivals.locator(`a[href="/mail/${againId}"]`).click();
    await owner.waitForURL(`${BASE}/mail/${againId}`);
    expect(await owner.getByTestId('mail-bcc').textContent()).toMatch(/heidi@contoso\.example/);
    const raw2 = await owner.request.get(`${BASE}/mail/${againId}/original`);
    expect(Buffer.from(await raw2.body()).equals(again)).toBe(true);
  }, 120_000);
});
