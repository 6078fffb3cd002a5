import type { Browser } from 'playwright-core';
import { loadConfig } from '../../lib/config';
import { seedDemo } from '../../lib/demo/seed-demo';
import { launchChromium } from '../helpers/browser';
import { enrolTotp, mailrepo } from '../helpers/portal';
import { stackConfig } from '../helpers/stack-env';

/**
 * Issue 25 §4–§5: a newcomer runs `mailrepo demo`, signs in with what it prints, enrols a second
 * factor and finds a populated archive — threads, attachments, a forwarded mail, newsletters —
 * delivered through the real LMTP path; `mailrepo send` adds one more. Production refuses it.
 */
const cfg = stackConfig();
const BASE = `http://127.0.0.1:${cfg.WEB_PORT}`;
let browser: Browser;
beforeAll(async () => {
  browser = await launchChromium();
}, 60_000);
afterAll(() => browser?.close(), 30_000);

it('mailrepo demo fills a tenant over LMTP; its owner signs in and sees the archive', async () => {
  const out = await mailrepo('demo', '--mails', '40');
  const email = /e-mail: +(\S+)/.exec(out)![1]!;
  const password = /password: +(\S+)/.exec(out)![1]!;
  const ingest = /delivered to (\S+)\./.exec(out)![1]!;
  expect(out).toMatch(/40 mails delivered/);
  expect(out).toContain(`${cfg.PORTAL_PUBLIC_URL.replace(/\/+$/, '')}/login`);

  // One more, as a customer's server would deliver it: STARTTLS, certificate checked.
  expect(await mailrepo('send', '--to', ingest)).toMatch(/^250 /m);

  const page = await (await browser.newContext({ locale: 'de-DE' })).newPage();
  await page.goto(`${BASE}/login`);
  await page.getByLabel('E-Mail-Adresse').fill(email);
  await page.getByLabel('Passwort').fill(password);
  await page.getByRole('button', { name: 'Weiter' }).click();
  await page.waitForURL(`${BASE}/setup/second-factor`);
  await enrolTotp(page, email);

  // Once archived and indexed (the first visit starts the index job), all 41 are listed.
  const deadline = Date.now() + 90_000;
  for (;;) {
    await page.goto(`${BASE}/mail`);
    const count = (await page.getByTestId('mail-count').textContent()) ?? '';
    if (/\b41 Mails/.test(count) && !(await page.getByTestId('mail-pending').count())) break;
    if (Date.now() > deadline) throw new Error(`archive not filled: ${count}`);
    await new Promise((r) => setTimeout(r, 1000));
  }
  const search = async (q: string) => {
    await page.goto(`${BASE}/mail?q=${encodeURIComponent(q)}`);
    return page.getByTestId('mail-row').count();
  };
  // Threads, a newsletter, attachments, a forward and the test mail are all there to find.
  expect(await search('subject:AW')).toBeGreaterThan(0);
  expect(await search('Steuer-Newsletter')).toBeGreaterThan(0);
  expect(await search('has:attachment')).toBeGreaterThan(0);
  expect(await search('subject:WG')).toBeGreaterThan(0);
  expect(await search('Testmail')).toBe(1);
}, 240_000);

it('is refused in production', async () => {
  const production = { ...loadConfig(process.env), NODE_ENV: 'production' as const };
  await expect(
    seedDemo(undefined as never, production, {
      mails: 1,
      actor: { type: 'operator', label: 'test' },
    }),
  ).rejects.toThrow(/refused in production/);
});
