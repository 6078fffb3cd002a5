import { randomUUID } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { sql } from 'kysely';
import type { Browser, Page } from 'playwright-core';
import { LmtpClient } from '../../infra/lmtp-client';
import { createDb, type Db } from '../../lib/db';
import { crlf, sha256 } from '../helpers/archive';
import { launchChromium } from '../helpers/browser';
import { createTenantInvite, join, mailrepo } from '../helpers/portal';
import { stackConfig } from '../helpers/stack-env';
import { adminDb } from '../helpers/admin-db';

/**
 * Issue 9 in a real browser: an owner sets a one-minute retention class with a rule and a legal
 * hold, applies retention and sees what was deleted and what survived; releases the hold and sees
 * the epoch shredded; imports an MBOX; finds every job on the jobs page; rotates the tenant key and
 * is signed out with everyone else.
 */

const cfg = stackConfig();
// Inspects and tampers with what is stored as the database administrator; the code under test
// runs as the service role.
const dba = adminDb(cfg);
afterAll(() => dba.destroy());
const BASE = `http://localhost:${cfg.WEB_PORT}`;
const DOMAIN = 'e2e-lebenszyklus.example';
const INGEST = `journal@${DOMAIN}`;
let browser: Browser;
let db: Db;
let owner: Page;
let tenantId: string;

const mail = (from: string, subject: string) =>
  crlf(
    `From: <${from}>\nTo: <chefin@${DOMAIN}>\nSubject: ${subject}\nMessage-ID: <${randomUUID()}@${DOMAIN}>\n` +
      `Date: Fri, 27 Nov 2026 08:00:00 +0100\n\nInhalt ${randomUUID()}\n`,
  );

const rows = async () =>
  (
    await sql<{ id: string; sha256: Buffer; state: string; deleted_at: Date | null }>`
      SELECT id, sha256, state, deleted_at FROM messages WHERE tenant_id = ${tenantId}`.execute(dba)
  ).rows;

async function until<T>(what: string, f: () => Promise<T | undefined>, ms = 90_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await f();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 500));
  }
}

beforeAll(async () => {
  db = createDb(cfg.DATABASE_URL, 2);
  browser = await launchChromium();
  const t = await createTenantInvite('E2E Lebenszyklus GmbH', `chefin@${DOMAIN}`, BASE);
  tenantId = t.tenantId;
  owner = (await join(browser, t.link, `chefin@${DOMAIN}`)).page;
  await mailrepo('ingest-address', 'add', INGEST, '--tenant', tenantId);
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await db?.destroy();
});

const retentionPage = () => owner.goto(`${BASE}/settings/retention`);

it('retention and a legal hold: unheld mail deleted, held mail kept, then shredded on release', async () => {
  await retentionPage();
  await owner.getByLabel('Name der Klasse (a–z, 0–9, -)').fill('kurz');
  await owner.getByLabel('Aufbewahren für').fill('1');
  await owner.getByLabel('Einheit').selectOption('minutes');
  await owner.getByRole('button', { name: 'Klasse speichern' }).click();
  // Shorter than six years needs the confirmation.
  await owner.getByText('muss die Bestätigung angekreuzt sein').waitFor();
  await owner.getByLabel(/Mir ist bewusst/).check();
  await owner.getByRole('button', { name: 'Klasse speichern' }).click();
  await owner.getByText('Die Aufbewahrungsklasse wurde gespeichert.').waitFor();
  await owner.getByLabel('Adresse oder @Domain').fill('@kurz.example');
  await owner.getByLabel('Klasse', { exact: true }).selectOption('kurz');
  await owner.getByRole('button', { name: 'Regel hinzufügen' }).click();
  await owner.getByText('Die Regel wurde hinzugefügt.').waitFor();

  const gone = mail('weg@kurz.example', 'Kurzlebig');
  const held = mail('streit@kurz.example', 'Beweismittel');
  const kept = mail('kunde@lang.example', 'Zehn Jahre');
  const lmtp = await LmtpClient.connect(cfg.LMTP_PORT);
  for (const m of [gone, held, kept])
    expect((await lmtp.send(m, 'journal@mta.example', [INGEST])).data[INGEST]).toMatch(/^250/);
  lmtp.close();
  const byHash = await until('sealed mails', async () => {
    const r = await rows();
    return r.filter((m) => m.state === 'sealed').length === 3 ? r : undefined;
  });
  const idOf = (m: Buffer) => byHash.find((r) => r.sha256.equals(sha256(m)))!.id;

  // The hold is resolved through the owner's index: wait until the list shows the mails.
  await until('the index', async () => {
    await owner.goto(`${BASE}/mail`);
    return (await owner.getByTestId('mail-row').count()) === 3 || undefined;
  });
  await retentionPage();
  await owner
    .getByLabel('Suche (mailbox:, after:, before:, Wörter)')
    .fill('mailbox:streit@kurz.example');
  await owner
    .getByLabel('Begründung', { exact: true })
    .fill('Rechtsstreit Streit ./. Lebenszyklus');
  await owner.getByRole('button', { name: 'Legal Hold setzen' }).click();
  await owner.getByText('er sperrt jetzt 1 Mails').waitFor();

  // Time passes for the mails instead of the test waiting a minute: as the database
  // administrator, their receipt moves two minutes back, so the one-minute class has run out
  // (the expiry arithmetic itself is tested against a moved clock in retention.test.ts).
  await sql`UPDATE messages SET received_at = received_at - interval '2 minutes'
    WHERE tenant_id = ${tenantId}`.execute(dba);
  await owner.getByRole('button', { name: 'Aufbewahrung jetzt anwenden' }).click();
  await owner.getByText('Der Lauf wurde gestartet').waitFor();
  await until('the deletion', async () => {
    await retentionPage();
    const shred = owner.getByTestId('shred');
    return (
      ((await shred.count()) === 1 && !(await shred.textContent())!.includes('…')) || undefined
    );
  });
  await expect(owner.getByTestId('shred').textContent()).resolves.toMatch(
    /1 Mails der Klasse kurz/,
  );

  await owner.goto(`${BASE}/mail/${idOf(gone)}`);
  await expect(owner.getByTestId('mail-deleted').textContent()).resolves.toMatch(
    /nach Ablauf der Aufbewahrung gelöscht/,
  );
  await owner.goto(`${BASE}/mail/${idOf(held)}`);
  await owner.getByRole('heading', { name: 'Beweismittel' }).waitFor();
  await owner.goto(`${BASE}/mail/${idOf(kept)}`);
  await owner.getByRole('heading', { name: 'Zehn Jahre' }).waitFor();
  await owner.goto(`${BASE}/mail`);
  expect(await owner.getByTestId('mail-row').count()).toBe(2);

  await retentionPage();
  await owner.getByLabel('Begründung der Aufhebung').fill('Verfahren rechtskräftig beendet');
  await owner.getByRole('button', { name: 'Legal Hold aufheben' }).click();
  await owner.getByText('Der Legal Hold wurde aufgehoben.').waitFor();
  await owner.getByRole('button', { name: 'Aufbewahrung jetzt anwenden' }).click();
  await until('the shred', async () => {
    await retentionPage();
    const shreds = owner.getByTestId('shred');
    return (
      ((await shreds.count()) === 2 && !(await shreds.first().textContent())!.includes('…')) ||
      undefined
    );
  });
  await expect(owner.getByTestId('shred').first().textContent()).resolves.toMatch(
    /Schlüssel vernichtet/,
  );
  await owner.goto(`${BASE}/mail/${idOf(held)}`);
  await owner.getByTestId('mail-deleted').waitFor();
  expect(
    (await rows())
      .filter((r) => r.deleted_at)
      .map((r) => r.id)
      .sort(),
  ).toEqual([idOf(gone), idOf(held)].sort());
}, 240_000);

it('imports an MBOX through the upload form', async () => {
  const a = mail('alt@historie.example', 'Altbestand eins');
  const b = mail('alt@historie.example', 'Altbestand zwei');
  const mbox = Buffer.concat([
    Buffer.from('From alt@historie.example Tue Mar 18 10:00:00 2025\n'),
    a,
    Buffer.from('\nFrom alt@historie.example Tue Mar 18 11:00:00 2025\nkein Kopf\n\n'),
    Buffer.from('From alt@historie.example Tue Mar 18 12:00:00 2025\n'),
    b,
  ]);
  const file = path.join(mkdtempSync(path.join(os.tmpdir(), 'import-')), 'altbestand.mbox');
  writeFileSync(file, mbox);
  await owner.goto(`${BASE}/imports`);
  await owner.getByLabel('MBOX- oder ZIP-Datei').setInputFiles(file);
  await owner.getByRole('button', { name: 'Hochladen und importieren' }).click();
  await owner.getByText('Die Datei ist (verschlüsselt) gespeichert').waitFor();
  await until('the import', async () => {
    await owner.goto(`${BASE}/imports`);
    return (
      (await owner.getByTestId('import').first().textContent())!.includes('abgeschlossen') ||
      undefined
    );
  });
  await expect(owner.getByTestId('import-counts').first().textContent()).resolves.toBe(
    '3 Einträge: 2 archiviert, 0 Duplikate, 1 übersprungen',
  );
  await owner.getByText('Eintrag 2 : beginnt nicht mit einem Mail-Header').waitFor();
  const id = await until(
    'the imported mail',
    async () => (await rows()).find((r) => r.sha256.equals(sha256(a)) && r.state === 'sealed')?.id,
  );
  await until('the imported mail in the index', async () => {
    await owner.goto(`${BASE}/mail/${id}`);
    return (await owner.getByTestId('original-received').count()) > 0 || undefined;
  });
  await expect(owner.getByTestId('original-received').textContent()).resolves.toMatch(/2025/);
}, 120_000);

it('switches text recognition (OCR) on in the settings, audited', async () => {
  await owner.goto(`${BASE}/settings/tenant`);
  const box = owner.getByLabel(/Texterkennung \(OCR\)/);
  expect(await box.isChecked()).toBe(false);
  await box.check();
  await owner.getByRole('button', { name: 'Texterkennung speichern' }).click();
  await owner.getByText('Gespeichert.').waitFor();
  await owner.goto(`${BASE}/settings/tenant`);
  expect(await owner.getByLabel(/Texterkennung \(OCR\)/).isChecked()).toBe(true);
  const audited = await sql<{ details: unknown }>`
    SELECT details FROM audit_events
     WHERE tenant_id = ${tenantId} AND action = 'setting.changed' AND target_id = 'ocr_enabled'`.execute(
    dba,
  );
  expect(audited.rows.map((r) => r.details)).toEqual([{ from: false, to: true }]);
}, 60_000);

it('lists the jobs, then rotates the key and signs everyone out', async () => {
  await owner.goto(`${BASE}/jobs`);
  const types = await owner.getByTestId('job').locator('td:first-child').allTextContents();
  for (const name of ['Aufbewahrungslauf', 'Import'])
    expect(types.some((t) => t.startsWith(name))).toBe(true);
  // Finished archiving jobs are counted as the mails they archived, not listed one by one.
  expect(await owner.getByTestId('job-archiving').textContent()).toMatch(
    /^[1-9][\d.]* Mails archiviert \(letzte 7 Tage\), 0 Archivierungsaufträge fehlgeschlagen/,
  );

  await owner.goto(`${BASE}/settings/keys`);
  await expect(owner.getByTestId('key-version').textContent()).resolves.toMatch(/Version 1/);
  await owner.getByRole('button', { name: 'Schlüssel jetzt rotieren' }).click();
  await owner.getByText('Die Schlüsselrotation wurde gestartet.').waitFor();
  const done = await until('the rotation', async () => {
    const r = await sql<{ status: string; epochs_done: number }>`
      SELECT status, epochs_done FROM key_rotations WHERE tenant_id = ${tenantId}`.execute(dba);
    return r.rows[0]?.status === 'done' ? r.rows[0] : undefined;
  });
  expect(done.epochs_done).toBeGreaterThan(0);
  // Every session held the old key: the owner is signed out.
  await owner.goto(`${BASE}/settings/keys`);
  await owner.waitForURL(/\/login/);
}, 120_000);
