import type { Browser, Page } from 'playwright-core';
import { launchChromium } from '../helpers/browser';
import { adminDb } from '../helpers/admin-db';
import { startOidcProvider } from '../helpers/oidc';
import { createTenantInvite, join, PORTAL_PASSWORD } from '../helpers/portal';
import { stackConfig } from '../helpers/stack-env';

/**
 * Issue 21 §5 in Chromium against a real OpenID provider on loopback (oidc-provider): an owner
 * sets up single sign-on; an existing user signs in through the provider and unlocks with the
 * archive password; someone new asks for access and is approved with the role their groups give;
 * the tenant can require SSO. Refused: a replayed state, a nonce that does not match, an ID token
 * for another audience, a provider whose issuer differs, an address of another domain, an
 * unverified address — each audited, none signs anyone in.
 */

const cfg = stackConfig();
const dba = adminDb(cfg);
// WebAuthn is not involved, but the redirect URI is the portal's public URL.
const BASE = cfg.PORTAL_PUBLIC_URL.replace(/\/+$/, '');
const DOMAIN = 'e2e-sso.example';
const OWNER = `chefin@${DOMAIN}`;
const SECRET = 'ein-Client-Geheimnis-nur-fuer-Tests-2026';
let browser: Browser;
let provider: Awaited<ReturnType<typeof startOidcProvider>>;
let owner: Page;
let tenantId: string;

beforeAll(async () => {
  browser = await launchChromium();
  provider = await startOidcProvider({
    clients: [
      { client_id: 'mailrepo-e2e', client_secret: SECRET, redirect_uris: [`${BASE}/login/sso/callback`] }, // prettier-ignore
    ],
    accounts: {
      chefin: { email: OWNER, email_verified: true },
      neu: { email: `neu@${DOMAIN}`, email_verified: true, groups: ['staff', 'archiv-admins'] },
      fremd: { email: 'fremd@anders.example', email_verified: true },
      offen: { email: `offen@${DOMAIN}`, email_verified: false },
    },
  });
  const invite = await createTenantInvite('E2E SSO GmbH', OWNER, BASE);
  tenantId = invite.tenantId;
  owner = (await join(browser, invite.link, OWNER)).page;
}, 120_000);
afterAll(async () => {
  provider?.stop();
  await browser?.close();
  await dba.destroy();
});

async function saveSettings(page: Page, fields: Record<string, string>, required = false) {
  // Saving needs a fresh password (the tests together may take longer than its 10 minutes).
  await page.goto(`${BASE}/reauth?to=/settings/sso`);
  await page.locator('input[name=password]').fill(PORTAL_PASSWORD);
  await page.getByRole('button', { name: 'Bestätigen' }).first().click();
  await page.waitForURL(`${BASE}/settings/sso`);
  for (const [label, value] of Object.entries(fields)) await page.getByLabel(label).fill(value);
  const box = page.getByLabel(/Anmeldung nur über Single Sign-on/);
  if ((await box.isChecked()) !== required) await box.click();
  await page.getByRole('button', { name: 'Speichern' }).click();
  await page.waitForLoadState('load');
}

const settings = (issuer = provider.issuer) => ({
  'Aussteller (Issuer-URL)': issuer,
  'Client-ID': 'mailrepo-e2e',
  'Erlaubte E-Mail-Domains (durch Komma getrennt)': DOMAIN,
  'Claim mit den Gruppen': 'groups',
});

/** From the portal's SSO page through the provider's login and consent, back to the portal. */
async function throughProvider(typed: string, login: string, tamper?: () => Promise<void>) {
  const page = await (await browser.newContext({ locale: 'de-DE' })).newPage();
  let callback = '';
  page.on('request', (r) => r.url().includes('/login/sso/callback') && (callback = r.url()));
  await page.goto(`${BASE}/login`);
  await page.getByRole('link', { name: 'Mit Single Sign-on anmelden' }).click();
  await page.waitForURL(`${BASE}/login/sso`);
  await page.getByLabel('E-Mail-Adresse').fill(typed);
  await page.getByRole('button', { name: 'Weiter' }).click();
  await page.locator('input[name=login]').fill(login);
  await page.locator('input[name=password]').fill('beliebig');
  await tamper?.();
  await page.getByRole('button', { name: 'Sign-in' }).click();
  await page.getByRole('button', { name: 'Continue' }).click();
  await page.waitForURL((u) => u.origin === new URL(BASE).origin);
  await page.waitForLoadState('load');
  return { page, callback };
}

const failures = async () =>
  (
    await dba
      .selectFrom('audit_events')
      .select('details')
      .where('tenant_id', '=', tenantId)
      .where('action', '=', 'auth.sso.failed')
      .orderBy('seq')
      .execute()
  ).map((e) => (e.details as { reason: string }).reason);

describe('single sign-on with OpenID Connect', () => {
  it('is set up by the owner; the secret is stored wrapped, the change audited without it', async () => {
    // An issuer that is not https (nor a local test provider) is refused with a clear message.
    await saveSettings(owner, { ...settings('ftp://idp.example'), 'Client-Geheimnis': SECRET });
    expect(await owner.getByRole('alert').first().textContent()).toMatch(/https:\/\//);
    await saveSettings(owner, { ...settings(), 'Client-Geheimnis': SECRET });
    await owner.getByText('Die Einstellungen sind gespeichert.').waitFor();
    await owner.getByLabel(/Gruppen → Rollen/).fill('archiv-admins = admin\nprüfer = auditor');
    await owner.getByRole('button', { name: 'Speichern' }).click();
    await owner.getByText('Die Einstellungen sind gespeichert.').waitFor();
    const row = await dba.selectFrom('tenant_sso').selectAll().where('tenant_id', '=', tenantId).executeTakeFirstOrThrow(); // prettier-ignore
    expect(row.client_secret_wrapped.includes(Buffer.from(SECRET))).toBe(false);
    expect(row.role_map).toEqual([
      { group: 'archiv-admins', role: 'admin' },
      { group: 'prüfer', role: 'auditor' },
    ]);
    const changes = await dba.selectFrom('audit_events').select('details').where('tenant_id', '=', tenantId).where('action', '=', 'setting.changed').execute(); // prettier-ignore
    expect(changes.length).toBeGreaterThanOrEqual(2);
    expect(JSON.stringify(changes)).not.toContain(SECRET);
  }, 120_000);

  it('signs an existing user in: the provider proves who, the archive password unlocks', async () => {
    const { page, callback } = await throughProvider(OWNER, 'chefin');
    expect(new URL(page.url()).pathname).toBe('/login/unlock');
    await page.getByText(/als chefin@e2e-sso.example bestätigt/).waitFor();
    // Nothing is reachable with the provider's word alone.
    const before = await page.context().request.get(`${BASE}/mail`, { maxRedirects: 0 });
    expect(before.status()).toBe(303);
    await page.getByLabel('Passwort').fill('falsch falsch falsch');
    await page.getByRole('button', { name: 'Entsperren', exact: true }).click();
    expect(await page.getByRole('alert').textContent()).toMatch(/Passwort ist falsch/);
    await page.getByLabel('Passwort').fill(PORTAL_PASSWORD);
    await page.getByRole('button', { name: 'Entsperren', exact: true }).click();
    await page.getByText(`Angemeldet als ${OWNER}`).waitFor();
    await page.goto(`${BASE}/mail`);
    expect(new URL(page.url()).pathname).toBe('/mail');

    // The provider's answer replayed: its state is spent, nobody is signed in or given a ticket.
    const proven = async () => (await dba.selectFrom('audit_events').select('id').where('tenant_id', '=', tenantId).where('action', '=', 'auth.sso.succeeded').execute()).length; // prettier-ignore
    const provenBefore = await proven();
    const again = await (await browser.newContext()).newPage();
    await again.goto(callback);
    expect(new URL(again.url()).pathname + new URL(again.url()).search).toBe('/login/sso?failed=1');
    expect((await again.context().cookies()).map((c) => c.name)).toEqual([]);
    expect(await proven()).toBe(provenBefore);
  }, 120_000);

  it('lets someone new ask for access; an admin approves with the role from the groups', async () => {
    const { page } = await throughProvider(`neu@${DOMAIN}`, 'neu');
    expect(new URL(page.url()).pathname).toBe('/login/sso/request');
    const PASSWORD = 'Ein eigenes Archiv-Passwort 2026';
    await page.getByLabel('Neues Passwort (mindestens 12 Zeichen)').fill(PASSWORD);
    await page.getByLabel('Passwort wiederholen').fill(PASSWORD);
    await page.getByRole('button', { name: 'Zugang beantragen' }).click();
    await page.getByText(/Ihr Antrag ist gestellt/).waitFor();
    // Not a user yet: the password alone opens nothing.
    expect(await dba.selectFrom('users').select('id').where('email', '=', `neu@${DOMAIN}`).execute()).toEqual([]); // prettier-ignore

    await owner.goto(`${BASE}/settings/users`);
    expect(await owner.getByTestId('sso-requests').textContent()).toMatch(/neu@e2e-sso.example \(Administrator/); // prettier-ignore
    await owner.getByRole('button', { name: `Freigeben: neu@${DOMAIN}` }).click();
    await owner.waitForLoadState('load');
    const user = await dba.selectFrom('users').select(['id', 'role']).where('email', '=', `neu@${DOMAIN}`).executeTakeFirstOrThrow(); // prettier-ignore
    expect(user.role).toBe('admin');

    const back = await throughProvider(`neu@${DOMAIN}`, 'neu');
    expect(new URL(back.page.url()).pathname).toBe('/login/unlock');
    await back.page.getByLabel('Passwort').fill(PASSWORD);
    await back.page.getByRole('button', { name: 'Entsperren', exact: true }).click();
    await back.page.getByText(`Angemeldet als neu@${DOMAIN}`).waitFor();
    await back.page.goto(`${BASE}/mail`);
    expect(new URL(back.page.url()).pathname).toBe('/mail');
  }, 180_000);

  it('refuses other domains, unverified addresses, a wrong nonce and a forged audience', async () => {
    const refused = async (typed: string, login: string, reason: string, tamper?: () => Promise<void>) => {
      const { page } = await throughProvider(typed, login, tamper);
      expect(new URL(page.url()).pathname + new URL(page.url()).search).toBe('/login/sso?failed=1');
      await page.getByText(/Single Sign-on ist fehlgeschlagen/).waitFor();
      expect((await failures()).at(-1)).toBe(reason);
    }; // prettier-ignore
    await refused(`jemand@${DOMAIN}`, 'fremd', 'domain');
    await refused(`offen@${DOMAIN}`, 'offen', 'email-unverified');
    // The nonce kept for this sign-in no longer matches the one the provider puts in the token.
    await refused(OWNER, 'chefin', 'token', async () => {
      await dba.updateTable('sso_logins').set({ nonce: 'ein anderer nonce' }).where('tenant_id', '=', tenantId).where('ticket_hash', 'is', null).execute(); // prettier-ignore
    });
    await provider.forgeAudience('ein-anderer-client');
    try {
      await refused(OWNER, 'chefin', 'token');
    } finally {
      await provider.forgeAudience('');
    }
    const errors = await dba.selectFrom('audit_events').select('details').where('tenant_id', '=', tenantId).where('action', '=', 'auth.sso.failed').orderBy('seq', 'desc').limit(2).execute(); // prettier-ignore
    // The audit names the check that failed.
    const [audience, nonce] = errors.map((e) => (e.details as { error: string }).error);
    expect(audience).toMatch(/"aud" \(audience\)/);
    expect(nonce).toMatch(/"nonce"/);
  }, 180_000);

  it('refuses a provider whose issuer differs from the one configured', async () => {
    await saveSettings(owner, settings(provider.issuer.replace('127.0.0.1', 'localhost')));
    const page = await (await browser.newContext({ locale: 'de-DE' })).newPage();
    await page.goto(`${BASE}/login/sso`);
    await page.getByLabel('E-Mail-Adresse').fill(OWNER);
    await page.getByRole('button', { name: 'Weiter' }).click();
    await page.getByText(/nicht erreichbar/).waitFor();
    expect((await failures()).at(-1)).toBe('discovery');
    await saveSettings(owner, settings());
  }, 120_000);

  it('when required, refuses the password alone; SSO and the password still sign in', async () => {
    await saveSettings(owner, settings(), true);
    const page = await (await browser.newContext({ locale: 'de-DE' })).newPage();
    await page.goto(`${BASE}/login`);
    await page.getByLabel('E-Mail-Adresse').fill(OWNER);
    await page.getByLabel('Passwort', { exact: true }).fill(PORTAL_PASSWORD);
    await page.getByRole('button', { name: 'Weiter' }).click();
    expect(await page.getByRole('alert').textContent()).toMatch(/verlangt die Anmeldung über Single Sign-on/); // prettier-ignore
    const { page: sso } = await throughProvider(OWNER, 'chefin');
    await sso.getByLabel('Passwort').fill(PORTAL_PASSWORD);
    await sso.getByRole('button', { name: 'Entsperren', exact: true }).click();
    await sso.getByText(`Angemeldet als ${OWNER}`).waitFor();
    await saveSettings(owner, settings(), false);
  }, 120_000);
});
