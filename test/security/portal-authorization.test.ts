import { createPrivateKey, randomBytes, randomUUID, X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { sql } from 'kysely';
import type { Browser } from 'playwright-core';
import { createDb, type Db } from '../../lib/db';
import { createTenant } from '../../lib/vault';
import { FAST_ARGON2 } from '../helpers/ledger';
import { launchChromium } from '../helpers/browser';
import { createTenantInvite, invite, join, PORTAL_PASSWORD } from '../helpers/portal';
import { stackConfig } from '../helpers/stack-env';
import { adminDb } from '../helpers/admin-db';

/**
 * Issue 17 §4, each finding as an attacker would try it over HTTP with real sessions: an open
 * redirect after the password prompt, the portal CSP dropped below the mail-body route, a GET
 * that starts a key rotation, an admin removing an owner through a rotation, a demoted admin's
 * exports and grants, and a half-finished login hidden from the session list.
 */
const cfg = stackConfig();
// Inspects and tampers with what is stored as the database administrator; the code under test
// runs as the service role.
const dba = adminDb(cfg);
afterAll(() => dba.destroy());
const BASE = `http://localhost:${cfg.WEB_PORT}`;
const DOMAIN = 'sicherheit-rollen.example';
let browser: Browser;
let db: Db;
let tenantId: string;
const cookies: Record<'owner' | 'admin', string> = { owner: '', admin: '' };

async function request(
  method: 'GET' | 'POST',
  path: string,
  cookie: string,
  form?: [string, string][],
) {
  const res = await fetch(`${BASE}${path}`, {
    method,
    redirect: 'manual',
    headers: {
      Origin: BASE,
      'Accept-Language': 'de-DE',
      Cookie: `mailrepo_session=${cookie}`,
      ...(form ? { 'Content-Type': 'application/x-www-form-urlencoded' } : {}),
    },
    body: form ? new URLSearchParams(form) : undefined,
  });
  const renewed = /mailrepo_session=([^;]+)/.exec(res.headers.get('set-cookie') ?? '')?.[1];
  return { res, body: await res.text(), renewed };
}

/** Confirms the password again (the session is replaced) and returns where it sends us. */
async function reauth(who: 'owner' | 'admin', to: string): Promise<string | null> {
  const r = await request('POST', '/reauth', cookies[who], [
    ['password', PORTAL_PASSWORD],
    ['to', to],
  ]);
  expect(r.res.status).toBe(303);
  cookies[who] = r.renewed!;
  return r.res.headers.get('location');
}

const userId = async (email: string) =>
  (await sql<{ id: string }>`SELECT id FROM users WHERE email = ${email}`.execute(dba)).rows[0]!.id;

beforeAll(async () => {
  db = createDb(cfg.DATABASE_URL, 2);
  browser = await launchChromium();
  const t = await createTenantInvite('Rollen GmbH', `inhaber@${DOMAIN}`, BASE);
  tenantId = t.tenantId;
  const owner = (await join(browser, t.link, `inhaber@${DOMAIN}`)).page;
  const admin = (
    await join(browser, await invite(owner, BASE, `admin@${DOMAIN}`, 'admin'), `admin@${DOMAIN}`)
  ).page;
  for (const [who, page] of [
    ['owner', owner],
    ['admin', admin],
  ] as const)
    cookies[who] = (await page.context().cookies()).find(
      (c) => c.name === 'mailrepo_session',
    )!.value;
}, 180_000);

afterAll(async () => {
  await browser?.close();
  await db?.destroy();
});

it('re-authentication redirects only to paths of the app', async () => {
  for (const evil of [
    '/\t/evil.example',
    '/%09/evil.example',
    '//evil.example',
    '/\\evil.example',
    'https://evil.example/',
    '/\n/evil.example',
    'javascript:alert(1)',
  ])
    expect({ evil, to: await reauth('owner', evil) }).toEqual({ evil, to: '/' });
  expect(await reauth('owner', '/settings/users?x=1')).toBe('/settings/users?x=1');
  // Eight password checks at the portal's Argon2 cost: ~5 s alone, longer on a busy machine.
}, 60_000);

it('re-authentication replaces the session: the old cookie no longer works', async () => {
  const before = cookies.owner;
  await reauth('owner', '/');
  expect(cookies.owner).not.toBe(before);
  const old = await request('GET', '/settings/sessions', before);
  expect([302, 303]).toContain(old.res.status);
  expect((await request('GET', '/settings/sessions', cookies.owner)).res.status).toBe(200);
}, 30_000);

it('the portal CSP stays on every path below a mail body route', async () => {
  const id = randomUUID();
  for (const path of [`/mail/${id}/body/x`, `/mail/${id}/body/`, `/mail/${id}/body/a/b`]) {
    const r = await request('GET', path, cookies.owner);
    expect({ path, csp: r.res.headers.get('content-security-policy') }).toEqual({
      path,
      csp: expect.stringContaining("frame-ancestors 'none'"),
    });
  }
});

it('opening the home page never starts a due key rotation', async () => {
  await sql`UPDATE tenants SET key_rotation_months = 1, created_at = now() - interval '3 months'
             WHERE id = ${tenantId}`.execute(dba);
  const rotations = async () =>
    Number(
      (
        await sql<{ n: string }>`SELECT count(*) AS n FROM key_rotations
                                  WHERE tenant_id = ${tenantId}`.execute(dba)
      ).rows[0]!.n,
    );
  const home = await request('GET', '/', cookies.owner);
  expect(home.res.status).toBe(200);
  expect(home.body).toContain('Eine planmäßige Schlüsselrotation ist fällig.');
  await new Promise((r) => setTimeout(r, 1000));
  expect(await rotations()).toBe(0);
  await sql`UPDATE tenants SET key_rotation_months = 0 WHERE id = ${tenantId}`.execute(dba);
});

it('an admin cannot remove an owner through a key rotation', async () => {
  await reauth('admin', '/settings/keys');
  const ownerId = await userId(`inhaber@${DOMAIN}`);
  const r = await request('POST', '/settings/keys', cookies.admin, [
    ['intent', 'remove'],
    ['user', ownerId],
  ]);
  expect(r.res.status).toBe(400);
  expect(r.body).toContain('Inhaber verwalten und ernennen nur Inhaber.');
  const started = await sql`SELECT 1 FROM key_rotations WHERE tenant_id = ${tenantId}`.execute(dba);
  expect(started.rows).toHaveLength(0);
});

it("a demoted admin's exports stop downloading and their grants are destroyed", async () => {
  const adminId = await userId(`admin@${DOMAIN}`);
  const exportId = randomUUID();
  await sql`INSERT INTO exports (id, tenant_id, created_by, format, include_pdfs, status, parts)
            VALUES (${exportId}, ${tenantId}, ${adminId}, 'eml', false, 'done',
                    '[{"n":0,"key":"nirgends","size":1,"mails":1}]')`.execute(dba);
  await sql`INSERT INTO decryption_grants (id, tenant_id, purpose, created_by, sealed_keys, expires_at)
            VALUES (${randomUUID()}, ${tenantId}, 'export', ${adminId}, ${randomBytes(80)},
                    now() + interval '1 hour')`.execute(dba);
  await reauth('owner', '/settings/users');
  const demote = await request('POST', '/settings/users', cookies.owner, [
    ['intent', 'role'],
    ['user', adminId],
    ['role', 'member'],
  ]);
  expect(demote.res.status).toBe(303);
  const exp = await sql<{
    status: string;
  }>`SELECT status FROM exports WHERE id = ${exportId}`.execute(dba);
  expect(exp.rows[0]!.status).toBe('expired');
  const grants = await sql`SELECT 1 FROM decryption_grants WHERE created_by = ${adminId}`.execute(
    dba,
  );
  expect(grants.rows).toHaveLength(0);
});

it('a login that stopped after the password shows in the session list', async () => {
  const login = await fetch(`${BASE}/login`, {
    method: 'POST',
    redirect: 'manual',
    headers: { Origin: BASE, 'Content-Type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ email: `inhaber@${DOMAIN}`, password: PORTAL_PASSWORD }),
  });
  expect(login.status).toBe(303);
  const list = await request('GET', '/settings/sessions', cookies.owner);
  expect(list.body).toContain('nur Passwort – zweiter Faktor nicht bestätigt');
});

it("an owner creates a mail server's credential in the portal: the secret is shown once, stored only as its hash", async () => {
  await reauth('owner', '/settings/ingest');
  const created = await request('POST', '/settings/ingest', cookies.owner, [
    ['intent', 'create'],
    ['label', 'Postfix Zentrale'],
  ]);
  expect(created.res.status).toBe(200);
  const id = /data-testid="ingest-user">([0-9a-f-]{36})</.exec(created.body)![1]!;
  const secret = /data-testid="ingest-password">([A-Za-z0-9_-]{43})</.exec(created.body)![1]!;
  const row = await sql<{ secret_sha256: Buffer; tenant_id: string }>`
    SELECT secret_sha256, tenant_id FROM ingest_credentials WHERE id = ${id}`.execute(dba);
  expect(row.rows[0]!.tenant_id).toBe(tenantId);
  expect(row.rows[0]!.secret_sha256.toString('hex')).toBe(
    (await import('node:crypto')).createHash('sha256').update(secret).digest('hex'),
  );
  const again = await request('GET', '/settings/ingest', cookies.owner);
  expect(again.body).toContain(id);
  expect(again.body).not.toContain(secret);
  const audited = await sql`SELECT 1 FROM audit_events WHERE tenant_id = ${tenantId}
                             AND action = 'ingest_credential.created'`.execute(dba);
  expect(audited.rows).toHaveLength(1);
  // Without a fresh password, no change: the form sends the owner to re-authenticate first.
  await sql`UPDATE sessions SET reauth_at = now() - interval '11 minutes'
             WHERE tenant_id = ${tenantId}`.execute(dba);
  const stale = await request('POST', '/settings/ingest', cookies.owner, [
    ['intent', 'revoke'],
    ['credential', id],
  ]);
  expect([302, 303]).toContain(stale.res.status);
  const live =
    await sql`SELECT 1 FROM ingest_credentials WHERE id = ${id} AND revoked_at IS NULL`.execute(
      dba,
    );
  expect(live.rows).toHaveLength(1);
});

/** The ingest page's form for a certificate credential, as the owner sends it. */
const issueCertificate = (label: string, csr: string) =>
  request('POST', '/settings/ingest', cookies.owner, [
    ['intent', 'create'],
    ['kind', 'certificate'],
    ['label', label],
    ['csr', csr],
  ]);

it('an owner issues a client certificate in the portal: the key is shown once, the certificate stays downloadable', async () => {
  await reauth('owner', '/settings/ingest');
  const issued = await issueCertificate('Exchange Zentrale', '');
  expect(issued.res.status).toBe(200);
  expect(issued.body).toContain('data-testid="ingest-key"');
  const id = /\/settings\/ingest\/([0-9a-f-]{36})\/certificate/.exec(issued.body)![1]!;
  const keyPem = /data-testid="ingest-key"[^>]*>([^<]+)<\/textarea>/.exec(issued.body)![1]!;
  expect(createPrivateKey(keyPem).asymmetricKeyType).toBe('ec');
  const keyHead = keyPem.split('\n')[1]!.slice(0, 20);
  const pem = await request('GET', `/settings/ingest/${id}/certificate`, cookies.owner);
  expect(pem.res.status).toBe(200);
  expect(pem.res.headers.get('content-disposition')).toContain('attachment');
  const cert = new X509Certificate(pem.body);
  expect(cert.subject).toBe(`CN=${id}`);
  expect(cert.checkIssued(new X509Certificate(readFileSync(cfg.INGEST_CA_CERT_FILE!)))).toBe(true);
  const row = await sql<{ kind: string; expires_at: Date; fp: Buffer }>`
    SELECT kind, expires_at, secret_sha256 AS fp FROM ingest_credentials WHERE id = ${id}`.execute(
    dba,
  );
  expect(row.rows[0]!.kind).toBe('certificate');
  expect(row.rows[0]!.fp.equals(Buffer.from(cert.fingerprint256.replace(/:/g, ''), 'hex'))).toBe(
    true,
  );
  // The list shows the expiry; the private key is nowhere any more.
  const list = await request('GET', '/settings/ingest', cookies.owner);
  expect(list.body).toContain(id);
  expect(list.body).not.toContain(keyHead);
  // Another tenant's credential id answers 404, as does garbage.
  expect(
    (await request('GET', `/settings/ingest/${randomUUID()}/certificate`, cookies.owner)).res
      .status,
  ).toBe(404);
  // A broken CSR is a form error, and nothing is stored.
  const before = await sql<{ n: number }>`SELECT count(*)::int AS n FROM ingest_credentials
                                           WHERE tenant_id = ${tenantId}`.execute(dba);
  const broken = await issueCertificate(
    'kaputt',
    '-----BEGIN CERTIFICATE REQUEST-----\nMIIB\n-----END CERTIFICATE REQUEST-----',
  );
  expect(broken.res.status).toBe(400);
  expect(broken.body).toContain('keine gültige Zertifikatsanforderung');
  const after = await sql<{ n: number }>`SELECT count(*)::int AS n FROM ingest_credentials
                                          WHERE tenant_id = ${tenantId}`.execute(dba);
  expect(after.rows[0]!.n).toBe(before.rows[0]!.n);
});

it('an owner creates a journal address in the portal: shown once, stored as a hash, revoked only in its own tenant', async () => {
  await reauth('owner', '/settings/ingest');
  const created = await request('POST', '/settings/ingest', cookies.owner, [
    ['intent', 'journal-create'],
    ['label', 'Microsoft 365'],
  ]);
  expect(created.res.status).toBe(200);
  const address = /data-testid="journal-address">([^<]+)</.exec(created.body)![1]!;
  const local = address.split('@')[0]!;
  expect(local).toMatch(/^j[a-z2-7]{52}$/);
  const row = await sql<{ id: string; token_sha256: Buffer; hint: string }>`
    SELECT id, token_sha256, hint FROM journal_addresses WHERE tenant_id = ${tenantId}`.execute(
    dba,
  );
  expect(row.rows).toHaveLength(1);
  expect(row.rows[0]!.token_sha256.toString('hex')).toBe(
    (await import('node:crypto')).createHash('sha256').update(local).digest('hex'),
  );
  const list = await request('GET', '/settings/ingest', cookies.owner);
  expect(list.body).toContain(`${row.rows[0]!.hint}.journal@`);
  expect(list.body).not.toContain(local);
  // Another tenant's address id is unknown here, and stays live.
  const other = await createTenant(db, {
    name: 'Journal Fremd GmbH',
    admin: { email: 'inhaber@journal-fremd.example', password: PORTAL_PASSWORD },
    argon2: FAST_ARGON2,
  });
  const foreign = randomUUID();
  await sql`INSERT INTO journal_addresses (id, tenant_id, token_sha256, hint, label, created_by)
            VALUES (${foreign}, ${other.tenantId}, ${randomBytes(32)}, 'jfremd1', 'x', 'test')`.execute(
    dba,
  );
  const cross = await request('POST', '/settings/ingest', cookies.owner, [
    ['intent', 'journal-revoke'],
    ['address', foreign],
  ]);
  expect(cross.res.status).toBe(400);
  expect(cross.body).toContain('Diese Journal-Adresse gibt es nicht');
  const still =
    await sql`SELECT 1 FROM journal_addresses WHERE id = ${foreign} AND revoked_at IS NULL`.execute(
      dba,
    );
  expect(still.rows).toHaveLength(1);
  // Its own is revoked and audited.
  const revoked = await request('POST', '/settings/ingest', cookies.owner, [
    ['intent', 'journal-revoke'],
    ['address', row.rows[0]!.id],
  ]);
  expect(revoked.res.status).toBe(200);
  // The DKIM rule: a bad domain is a form error that changes nothing; a good list is audited.
  const bad = await request('POST', '/settings/ingest', cookies.owner, [
    ['intent', 'journal-dkim'],
    ['domains', 'firma.de, kein domain'],
  ]);
  expect(bad.res.status).toBe(400);
  const good = await request('POST', '/settings/ingest', cookies.owner, [
    ['intent', 'journal-dkim'],
    ['domains', 'Firma.de, firma.onmicrosoft.com'],
  ]);
  expect(good.res.status).toBe(200);
  const rule = await sql<{
    d: string[];
  }>`SELECT journal_dkim_domains AS d FROM tenants WHERE id = ${tenantId}`.execute(dba);
  expect(rule.rows[0]!.d).toEqual(['firma.de', 'firma.onmicrosoft.com']);
  const events = await sql<{
    action: string;
  }>`SELECT action FROM audit_events WHERE tenant_id = ${tenantId}
    AND (action LIKE 'journal_address.%' OR (action = 'setting.changed' AND target_id = 'journal_dkim_domains'))
    ORDER BY seq`.execute(dba);
  expect(events.rows.map((e) => e.action)).toEqual([
    'journal_address.created',
    'journal_address.revoked',
    'setting.changed',
  ]);
});

it('the IMAP import and restore pages render for the owner and refuse bad input by field', async () => {
  const page = await request('GET', '/imports/imap', cookies.owner);
  expect(page.res.status).toBe(200);
  expect(page.body).toContain('Import aus einem IMAP-Postfach');
  await reauth('owner', '/imports/imap');
  const bad = await request('POST', '/imports/imap', cookies.owner, [
    ['intent', 'start'],
    ['host', 'kein host'],
    ['security', 'tls'],
    ['user', 'x@firma.example'],
    ['password', 'geheim'],
  ]);
  expect(bad.res.status).toBe(400);
  expect(bad.body).toContain('gültigen Servernamen');
  // A list uploaded as a CSV file: one bad line refuses the whole list before any import starts.
  const list = new FormData();
  list.append('intent', 'csv');
  list.append(
    'accountsFile',
    new Blob(
      [
        '# Server;Port;Sicherheit;Benutzer;Passwort\n' +
          'imap.firma.example;993;tls;anna@firma.example;geheim;mit;Semikolon\n' +
          'kein host;993;tls;bernd@firma.example;geheim\n',
      ],
      { type: 'text/csv' },
    ),
    'konten.csv',
  );
  const upload = await fetch(`${BASE}/imports/imap`, {
    method: 'POST',
    redirect: 'manual',
    headers: {
      Origin: BASE,
      'Accept-Language': 'de-DE',
      Cookie: `mailrepo_session=${cookies.owner}`,
    },
    body: list,
  });
  expect(upload.status).toBe(400);
  // Line 3 of the file (its first line is a comment), the second account.
  expect(await upload.text()).toContain('Zeile 3 der Liste ist nicht gültig');
  const none = await sql`SELECT 1 FROM imap_imports WHERE tenant_id = ${tenantId}`.execute(dba);
  expect(none.rows).toHaveLength(0);
  const restore = await request('GET', `/restores?id=${randomUUID()}`, cookies.owner);
  expect(restore.res.status).toBe(200);
  expect(restore.body).toContain('In ein Postfach wiederherstellen');
  // A selection from the archive list: every chosen id goes along as a hidden field.
  const [a, b] = [randomUUID(), randomUUID()];
  const selection = await request('GET', `/restores?id=${a}&id=${b}`, cookies.owner);
  expect(selection.body).toContain('2 ausgewählte Mails');
  expect(selection.body).toContain(`value="${a}"`);
  expect(selection.body).toContain(`value="${b}"`);
  await reauth('owner', '/restores');
  const folder = await request('POST', '/restores', cookies.owner, [
    ['id', randomUUID()],
    ['host', '127.0.0.1'],
    ['security', 'tls'],
    ['user', 'x@firma.example'],
    ['password', 'geheim'],
    ['folder', 'Archiv*'],
  ]);
  expect(folder.res.status).toBe(400);
  expect(folder.body).toContain('Ordnername');
});
