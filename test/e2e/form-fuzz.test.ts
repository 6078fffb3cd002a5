import { sql } from 'kysely';
import fc from 'fast-check';
import type { Browser } from 'playwright-core';
import { createDb, type Db } from '../../lib/db';
import { launchChromium } from '../helpers/browser';
import {
  edgeCaseForms,
  hostileForm,
  responseFaults,
  scrapeForms,
  type ScrapedForm,
} from '../helpers/form-fuzz';
import { createTenantInvite, invite, join, PORTAL_PASSWORD } from '../helpers/portal';
import { stackConfig } from '../helpers/stack-env';
import { adminDb } from '../helpers/admin-db';

/**
 * Issue 27: every form of the portal, posted with hostile and edge-case values by a signed-in
 * user of each role (and by nobody, for the sign-in forms). No answer is a 5xx, none shows a stack
 * trace, an English sentence or a raw message key in a German page, and a refused post changes
 * nothing stored. fast-check with a fixed seed; `FUZZ_RUNS` / `FUZZ_SEED` for a longer run
 * (`npm run fuzz:forms`).
 */

const cfg = stackConfig();
// Inspects and tampers with what is stored as the database administrator; the code under test
// runs as the service role.
const dba = adminDb(cfg);
afterAll(() => dba.destroy());
const BASE = `http://localhost:${cfg.WEB_PORT}`;
const DOMAIN = 'e2e-formulare.example';
const RUNS = Number(process.env.FUZZ_RUNS ?? 4);
const SEED = Number(process.env.FUZZ_SEED ?? 27);

/** Pages whose forms are fuzzed; every route with an action is reached from one of them. */
const PAGES = [
  '/settings/retention',
  '/settings/users',
  '/settings/keys',
  '/settings/ingest',
  '/settings/tenant',
  '/settings/sso',
  '/settings/sessions',
  '/settings/security',
  '/settings/authenticator',
  '/settings/integrity',
  '/exports',
  '/imports',
  '/imports/imap',
  '/verify',
  '/reauth?to=/',
];
/** Posts that would end the fuzzing session or sign everyone out: their refusals are tested elsewhere. */
const SKIP = (form: ScrapedForm) =>
  form.action.startsWith('/logout') ||
  // A reset link ends the user's sessions (the other roles' fuzzing sessions among them). An IMAP
  // import would connect to whatever host the fuzzer makes up (its form is unit-tested instead).
  form.fields.some(
    (f) =>
      f.name === 'intent' && ['rotate', 'remove', 'run', 'reset', 'start', 'csv'].includes(f.value),
  ) ||
  (form.action.startsWith('/settings/sessions') && form.fields.some((f) => f.value === 'others'));
/** Fields kept at their rendered value so the post reaches its branch of the action. */
const KEEP = ['intent'];

let browser: Browser;
let db: Db;
let tenantId: string;
const sessions: Record<string, string> = {};

/** The tenant's stored state that a refused form must leave alone (jobs by id: they progress). */
async function fingerprint(): Promise<string> {
  const r = await sql<{ f: string }>`
    SELECT concat_ws('|',
      (SELECT md5(coalesce(string_agg(t::text, ',' ORDER BY t::text), '')) FROM retention_classes t WHERE tenant_id = ${tenantId}),
      (SELECT md5(coalesce(string_agg(t::text, ',' ORDER BY t::text), '')) FROM retention_rules t WHERE tenant_id = ${tenantId}),
      (SELECT md5(coalesce(string_agg(t::text, ',' ORDER BY t::text), '')) FROM legal_holds t WHERE tenant_id = ${tenantId}),
      (SELECT md5(coalesce(string_agg(t::text, ',' ORDER BY t::text), '')) FROM invites t WHERE tenant_id = ${tenantId}),
      (SELECT md5(coalesce(string_agg(id::text, ',' ORDER BY id), '')) FROM exports WHERE tenant_id = ${tenantId}),
      (SELECT md5(coalesce(string_agg(id::text, ',' ORDER BY id), '')) FROM imports WHERE tenant_id = ${tenantId}),
      (SELECT md5(coalesce(string_agg(t::text, ',' ORDER BY t::text), '')) FROM passkeys t WHERE tenant_id = ${tenantId}),
      (SELECT md5(coalesce(string_agg((id, role, disabled_at)::text, ',' ORDER BY id), '')) FROM users WHERE tenant_id = ${tenantId}),
      (SELECT md5((session_idle_minutes, session_absolute_hours, key_rotation_months)::text) FROM tenants WHERE id = ${tenantId})
    ) AS f`.execute(dba);
  return r.rows[0]!.f;
}

async function post(path: string, body: [string, string][], cookie?: string) {
  const form = new URLSearchParams();
  for (const [k, v] of body) form.append(k, v);
  const res = await fetch(`${BASE}${path}`, {
    method: 'POST',
    redirect: 'manual',
    headers: {
      Origin: BASE,
      'Accept-Language': 'de-DE',
      'Content-Type': 'application/x-www-form-urlencoded',
      ...(cookie ? { Cookie: `mailrepo_session=${cookie}` } : {}),
    },
    body: form,
  });
  const renewed = /mailrepo_session=([^;]+)/.exec(res.headers.get('set-cookie') ?? '')?.[1];
  return { status: res.status, body: await res.text(), renewed };
}

async function get(path: string, cookie: string) {
  const res = await fetch(`${BASE}${path}`, {
    redirect: 'manual',
    headers: { 'Accept-Language': 'de-DE', Cookie: `mailrepo_session=${cookie}` },
  });
  return { status: res.status, body: await res.text() };
}

beforeAll(async () => {
  db = createDb(cfg.DATABASE_URL, 2);
  browser = await launchChromium();
  const t = await createTenantInvite('E2E Formulare GmbH', `inhaberin@${DOMAIN}`, BASE);
  tenantId = t.tenantId;
  const owner = (await join(browser, t.link, `inhaberin@${DOMAIN}`)).page;
  const people: Record<string, typeof owner> = { owner };
  for (const role of ['admin', 'auditor', 'member']) {
    const email = `${role}@${DOMAIN}`;
    people[role] = (await join(browser, await invite(owner, BASE, email, role), email)).page;
  }
  for (const [role, page] of Object.entries(people)) {
    const c = (await page.context().cookies()).find((k) => k.name === 'mailrepo_session');
    sessions[role] = c!.value;
  }
}, 240_000);

afterAll(async () => {
  await browser?.close();
  await db?.destroy();
});

/** Posts generated bodies to one form and checks every answer. */
async function fuzzForm(form: ScrapedForm, cookie: string | undefined, label: string) {
  await fc.assert(
    fc.asyncProperty(hostileForm(form, KEEP), async (body) => {
      const before = await fingerprint();
      const r = await post(form.action, body, cookie);
      const faults = responseFaults(r.body, true);
      if (r.status >= 500) faults.push(`status ${r.status}`);
      const after = r.status >= 400 && r.status < 500 ? await fingerprint() : before;
      if (after !== before) faults.push(`stored something on a ${r.status}: ${before} → ${after}`);
      if (faults.length)
        throw new Error(
          `${label} POST ${form.action} ${JSON.stringify(body).slice(0, 400)}: ${faults.join('; ')}`,
        );
    }),
    { numRuns: RUNS, seed: SEED, endOnFailure: true, examples: edgeCaseForms(form, KEEP) },
  );
}

it.each(['owner', 'admin', 'auditor', 'member'])(
  'every form answers hostile input as %s without a fault',
  async (role) => {
    const signedIn = sessions[role]!;
    // Fresh password for the pages that need it (their forms are then reachable).
    const re = await post(
      '/reauth',
      [
        ['password', PORTAL_PASSWORD],
        ['to', '/'],
      ],
      signedIn,
    );
    expect(re.status).toBe(303);
    // Re-authentication replaced the session (issue 17 §4): the old cookie is worth nothing now.
    const cookie = re.renewed!;
    sessions[role] = cookie;
    expect(cookie).not.toBe(signedIn);
    expect([302, 303]).toContain((await get('/settings/sessions', signedIn)).status);
    let fuzzed = 0;
    for (const page of PAGES) {
      const g = await get(page, cookie);
      expect(g.status).toBeLessThan(500);
      if (g.status !== 200) continue; // a page this role does not have (404)
      expect(responseFaults(g.body, true)).toEqual([]);
      for (const form of scrapeForms(g.body, page.split('?')[0]!)) {
        if (SKIP(form) || form.action.startsWith('/lang')) continue;
        await fuzzForm(form, cookie, role);
        fuzzed++;
      }
    }
    // Owners and admins have far more forms than the rest; every role has some.
    expect(fuzzed).toBeGreaterThan(role === 'owner' || role === 'admin' ? 10 : 2);
    // The fuzzing never ended the session.
    expect((await get('/settings/sessions', cookie)).status).toBe(200);
  },
  600_000,
);

it('the sign-in and invitation forms answer hostile input without a session', async () => {
  const forms: ScrapedForm[] = [
    {
      action: '/login',
      fields: [
        { name: 'email', value: '' },
        { name: 'password', value: '' },
      ],
    },
    { action: '/login/sso', fields: [{ name: 'email', value: '' }] },
    { action: '/login/unlock', fields: [{ name: 'password', value: '' }] },
    {
      action: '/login/recover',
      fields: [
        { name: 'email', value: '' },
        { name: 'recoveryKey', value: '' },
      ],
    },
    { action: '/login/second-factor', fields: [{ name: 'code', value: '' }] },
    {
      action: '/setup/second-factor',
      fields: [
        { name: 'secret', value: '' },
        { name: 'code', value: '' },
      ],
    },
    {
      action: '/invite',
      fields: [
        { name: 'intent', value: '' },
        { name: 'password', value: '' },
        { name: 'confirm', value: '' },
        { name: 'recoveryKey', value: '' },
        { name: 'block', value: '' },
      ],
    },
    {
      action: '/lang',
      fields: [
        { name: 'lang', value: 'de' },
        { name: 'to', value: '/' },
      ],
    },
    {
      action: '/mail/00000000-0000-0000-0000-000000000000/pdf',
      fields: [{ name: 'password', value: '' }],
    },
  ];
  for (const form of forms) await fuzzForm(form, undefined, 'anonymous');
}, 300_000);

it('retention rules for real German addresses and domains of every letter are accepted in German', async () => {
  const cookie = sessions.owner!;
  const patterns = [
    '@steuerberater.de',
    'buchhaltung@muster-gmbh.de',
    '@müller-bäckerei.de',
    'Vertrieb@Schäfer-Söhne.DE',
    '@s.de',
    ...[...'abcdefghijklmnopqrstuvwxyzäöüß'].map((l) => `@${l}${l}-kanzlei.de`),
  ];
  for (const pattern of patterns) {
    const r = await post(
      '/settings/retention',
      [
        ['intent', 'rule'],
        ['pattern', pattern],
        ['class', 'default'],
      ],
      cookie,
    );
    expect({ pattern, status: r.status }).toEqual({ pattern, status: 200 });
    expect(r.body).toContain('Die Regel wurde hinzugefügt.');
  }
  const stored = await sql<{ pattern: string }>`
    SELECT pattern FROM retention_rules WHERE tenant_id = ${tenantId}`.execute(dba);
  expect(stored.rows.map((r) => r.pattern)).toEqual(
    expect.arrayContaining(['@steuerberater.de', 'vertrieb@schäfer-söhne.de']),
  );
  // A refusal names the problem in German and stores nothing.
  const before = await fingerprint();
  const bad = await post(
    '/settings/retention',
    [
      ['intent', 'rule'],
      ['pattern', 'kein muster'],
      ['class', 'default'],
    ],
    cookie,
  );
  expect(bad.status).toBe(400);
  expect(bad.body).toContain('Eine Regel nennt eine Adresse');
  expect(await fingerprint()).toBe(before);
}, 120_000);
