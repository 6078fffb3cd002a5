import { execFile } from 'node:child_process';
import http from 'node:http';
import path from 'node:path';
import { promisify } from 'node:util';
import type { Browser, Page } from 'playwright-core';
import { totpCodeAt, TOTP_PERIOD_S } from '../../lib/auth/totp';
import { launchChromium } from '../helpers/browser';
import { stackConfig } from '../helpers/stack-env';

/**
 * Issue 7 in a real browser: an operator creates a tenant, the owner accepts the invitation
 * (password → recovery key → TOTP enrolment), signs out and in again with TOTP; a replayed code
 * is refused; nothing is reachable with the password alone; brute force is throttled per account
 * and IP without locking the owner out from another address.
 */

const cfg = stackConfig();
const run = promisify(execFile);
const BASE = `http://127.0.0.1:${cfg.WEB_PORT}`;
const PASSWORD = 'Korrekt Pferd Batterie Heftklammer';
let browser: Browser;

beforeAll(async () => {
  browser = await launchChromium();
}, 60_000);
afterAll(() => browser?.close());

async function createTenant(name: string, email: string): Promise<string> {
  const { stdout } = await run(
    process.execPath,
    [
      path.join(__dirname, '../../bin/mailrepo.cjs'),
      'tenant',
      'create',
      '--name',
      name,
      '--admin',
      email,
    ],
    { env: process.env, encoding: 'utf8' },
  );
  const link = /https?:\/\/\S+\/invite\/([A-Za-z0-9_-]{43})/.exec(stdout);
  if (!link) throw new Error(`no invitation link in:\n${stdout}`);
  return `${BASE}/invite/${link[1]}`;
}

/** The next TOTP code that has not been used yet (codes are single-use per 30 s step). */
async function freshCode(secret: string, used: Set<string>): Promise<string> {
  for (;;) {
    const code = totpCodeAt(secret, Date.now());
    if (!used.has(code)) {
      used.add(code);
      return code;
    }
    await new Promise((r) => setTimeout(r, 1000));
  }
}

async function acceptInvitation(page: Page, link: string) {
  await page.goto(link);
  // The token left the address bar at once.
  expect(new URL(page.url()).pathname).toBe('/invite');
  // A common password is refused with a clear message.
  await page.getByLabel('Neues Passwort (mindestens 12 Zeichen)').fill('password1234');
  await page.getByLabel('Passwort wiederholen').fill('password1234');
  await page.getByRole('button', { name: 'Passwort festlegen' }).click();
  expect(await page.getByRole('alert').textContent()).toMatch(/zu verbreitet/);
  await page.getByLabel('Neues Passwort (mindestens 12 Zeichen)').fill(PASSWORD);
  await page.getByLabel('Passwort wiederholen').fill(PASSWORD);
  await page.getByRole('button', { name: 'Passwort festlegen' }).click();
  const recoveryKey = (await page.getByTestId('recovery-key').textContent())!.trim();
  expect(recoveryKey).toMatch(/^[A-Z0-9]{5}(-[A-Z0-9]{1,5})+$/);
  await page.getByLabel(/Block 3/).fill('XXXXX');
  await page.getByRole('button', { name: 'Ich habe den Schlüssel gesichert' }).click();
  expect(await page.getByRole('alert').textContent()).toMatch(/stimmt nicht/);
  await page.getByLabel(/Block 3/).fill(recoveryKey.split('-')[2]!);
  await page.getByRole('button', { name: 'Ich habe den Schlüssel gesichert' }).click();
  await page.waitForURL(`${BASE}/setup/second-factor`);
  return recoveryKey;
}

describe('portal accounts in Chromium', () => {
  it('invitation → password → recovery key → TOTP → sign out → sign in with TOTP', async () => {
    const email = 'inhaberin@e2e-eins.example';
    const link = await createTenant('E2E Eins GmbH', email);
    const context = await browser.newContext({ locale: 'de-DE' });
    const page = await context.newPage();
    // Uncaught script errors and CSP violations (our own scripts must all carry the nonce).
    const scriptErrors: string[] = [];
    page.on('pageerror', (e) => scriptErrors.push(e.message));
    page.on(
      'console',
      (m) => /Content Security Policy/.test(m.text()) && scriptErrors.push(m.text()),
    );
    await acceptInvitation(page, link);

    // Nothing but enrolment is reachable before a second factor exists.
    await page.goto(`${BASE}/`);
    expect(new URL(page.url()).pathname).toBe('/setup/second-factor');

    const secret = (await page.getByTestId('totp-secret').textContent())!.trim();
    const used = new Set<string>();
    const enrolCode = await freshCode(secret, used);
    await page.getByLabel('Code aus der App').fill(enrolCode);
    await page.getByRole('button', { name: 'Bestätigen' }).click();
    await page.getByTestId('recovery-codes').waitFor();
    const codes = await page.getByTestId('recovery-codes').locator('li').allTextContents();
    expect(codes).toHaveLength(10);
    await page.getByRole('link', { name: 'Weiter zum Archiv' }).click();
    await page.getByText(`Angemeldet als ${email} (Inhaber)`).waitFor();

    await page.getByRole('button', { name: 'Abmelden' }).click();
    await page.waitForURL(/\/login\?bye=1/);
    await page.goto(`${BASE}/`);
    expect(new URL(page.url()).pathname).toBe('/login');

    await page.getByLabel('E-Mail-Adresse').fill(email);
    await page.getByLabel('Passwort').fill(PASSWORD);
    await page.getByRole('button', { name: 'Weiter' }).click();
    await page.waitForURL(`${BASE}/login/second-factor`);
    // The password alone opens nothing.
    await page.goto(`${BASE}/`);
    expect(new URL(page.url()).pathname).toBe('/login/second-factor');
    // The code used at enrolment is spent: a replay is refused.
    await page.getByLabel('Code').fill(enrolCode);
    await page.getByRole('button', { name: 'Anmelden' }).click();
    expect(await page.getByRole('alert').textContent()).toMatch(/schon verwendet/);
    // A code of a later step works (the app shows it within 30 s).
    const next = totpCodeAt(secret, Date.now() + TOTP_PERIOD_S * 1000);
    await page.getByLabel('Code').fill(next);
    await page.getByRole('button', { name: 'Anmelden' }).click();
    await page.getByText(`Angemeldet als ${email} (Inhaber)`).waitFor();

    // A recovery code also works, once.
    await page.getByRole('button', { name: 'Abmelden' }).click();
    await page.getByLabel('E-Mail-Adresse').fill(email);
    await page.getByLabel('Passwort').fill(PASSWORD);
    await page.getByRole('button', { name: 'Weiter' }).click();
    await page.getByLabel('Code').fill(codes[0]!.toLowerCase());
    await page.getByRole('button', { name: 'Anmelden' }).click();
    await page.getByText(`Angemeldet als ${email}`).waitFor();

    // The English switch.
    await page.getByRole('button', { name: 'English' }).click();
    await page.getByText(`Signed in as ${email} (Owner)`).waitFor();
    expect(scriptErrors).toEqual([]);
    await context.close();
  }, 120_000);

  it('throttles brute force per account and IP; the owner still signs in from another IP', async () => {
    const email = 'chef@e2e-zwei.example';
    const page = await (await browser.newContext({ locale: 'de-DE' })).newPage();
    await acceptInvitation(page, await createTenant('E2E Zwei GmbH', email));

    const login = (password: string, localAddress: string) =>
      new Promise<{ status: number; retryAfter?: string; location?: string }>((resolve, reject) => {
        const body = new URLSearchParams({ email, password }).toString();
        const req = http.request(
          `${BASE}/login`,
          {
            method: 'POST',
            localAddress,
            headers: { 'content-type': 'application/x-www-form-urlencoded', origin: BASE },
          },
          (res) => {
            res.resume();
            resolve({
              status: res.statusCode!,
              retryAfter: res.headers['retry-after'] as string | undefined,
              location: res.headers.location,
            });
          },
        );
        req.on('error', reject);
        req.end(body);
      });

    const attacker = '127.0.0.2';
    const statuses: number[] = [];
    for (let i = 0; i < 11; i++)
      statuses.push((await login('falsches Passwort!', attacker)).status);
    expect(statuses.slice(0, 10)).toEqual(Array(10).fill(401));
    const blocked = await login(PASSWORD, attacker);
    expect(blocked.status).toBe(429);
    expect(Number(blocked.retryAfter)).toBeGreaterThan(0);
    // The real owner, from her own address, is not locked out.
    const owner = await login(PASSWORD, '127.0.0.1');
    expect(owner.status).toBe(303);
    expect(owner.location).toBe('/setup/second-factor');
  }, 120_000);

  it('refuses cross-origin form posts', async () => {
    const res = await fetch(`${BASE}/login`, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        origin: 'https://evil.example',
      },
      body: 'email=a%40b.example&password=x',
      redirect: 'manual',
    });
    expect(res.status).toBe(403);
  });

  it('sends the security headers', async () => {
    const res = await fetch(`${BASE}/login`);
    const csp = res.headers.get('content-security-policy')!;
    expect(csp).toMatch(/script-src 'nonce-[A-Za-z0-9+/=]+' 'strict-dynamic'/);
    expect(csp).toMatch(/frame-ancestors 'none'/);
    expect(csp).not.toMatch(/unsafe-inline|unsafe-eval/);
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    expect(res.headers.get('referrer-policy')).toBe('same-origin');
    expect(res.headers.get('x-frame-options')).toBe('SAMEORIGIN');
  });
});
