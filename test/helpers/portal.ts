import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import type { Browser, Page } from 'playwright-core';
import { totpCodeAt } from '../../lib/auth/totp';

/** Portal steps shared by the browser tests: tenants from the CLI, invitations, sign-in. */

const run = promisify(execFile);
export const PORTAL_PASSWORD = 'Korrekt Pferd Batterie Heftklammer';

/** `mailrepo <args>` against the test stack (the environment names its services). */
export async function mailrepo(...args: string[]): Promise<string> {
  const { stdout } = await run(
    process.execPath,
    [path.join(__dirname, '../../bin/mailrepo.cjs'), ...args],
    { env: process.env, encoding: 'utf8' },
  );
  return stdout;
}

/** A new tenant: its id and the owner's invitation link (pointing at `base`). */
export async function createTenantInvite(name: string, email: string, base: string) {
  const stdout = await mailrepo('tenant', 'create', '--name', name, '--admin', email);
  const link = /https?:\/\/\S+\/invite\/([A-Za-z0-9_-]{43})/.exec(stdout);
  const tenant = /tenant ([0-9a-f-]{36})/.exec(stdout);
  if (!link || !tenant) throw new Error(`no invitation link in:\n${stdout}`);
  return { tenantId: tenant[1]!, link: `${base}/invite/${link[1]}` };
}

/**
 * Accepts an invitation in a fresh browser context: password, recovery key (for an owner), TOTP.
 * Returns the signed-in page and the TOTP secret.
 */
export async function join(browser: Browser, link: string, email: string) {
  const page = await (await browser.newContext({ locale: 'de-DE' })).newPage();
  await page.goto(link);
  await page.getByLabel('Neues Passwort (mindestens 12 Zeichen)').fill(PORTAL_PASSWORD);
  await page.getByLabel('Passwort wiederholen').fill(PORTAL_PASSWORD);
  await page.getByRole('button', { name: 'Passwort festlegen' }).click();
  const recovery = page.getByTestId('recovery-key');
  const secretField = page.getByTestId('totp-secret');
  await Promise.race([recovery.waitFor(), secretField.waitFor()]);
  if (await recovery.isVisible()) {
    const key = (await recovery.textContent())!.trim();
    await page.getByLabel(/Block 3/).fill(key.split('-')[2]!);
    await page.getByRole('button', { name: 'Ich habe den Schlüssel gesichert' }).click();
  }
  return { page, secret: await enrolTotp(page, email) };
}

/**
 * On the second-factor set-up page (after an invitation, a reset or a first sign-in): the app's
 * code, the recovery codes, on to the archive. Returns the TOTP secret.
 */
export async function enrolTotp(page: Page, email: string): Promise<string> {
  const secret = (await page.getByTestId('totp-secret').textContent())!.trim();
  await page.getByLabel('Code aus der App').fill(totpCodeAt(secret, Date.now()));
  await page.getByRole('button', { name: 'Bestätigen', exact: true }).click();
  await page.getByRole('link', { name: 'Weiter zum Archiv' }).click();
  await page.getByText(`Angemeldet als ${email}`).waitFor();
  return secret;
}

/** The owner invites `email` as `role`; returns the invitation link (pointing at `base`). */
export async function invite(owner: Page, base: string, email: string, role: string) {
  await owner.goto(`${base}/settings/users`);
  await owner.getByLabel('E-Mail-Adresse').fill(email);
  await owner.getByLabel('Rolle', { exact: true }).selectOption(role);
  await owner.getByRole('button', { name: 'Einladung erstellen' }).click();
  return (await owner.getByTestId('invite-link').textContent())!
    .trim()
    .replace(/^https?:\/\/[^/]+/, base);
}
