import { auditLedgerKeyCreated } from '../../lib/audit/ledger-keys';
import { spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { strFromU8, strToU8, unzipSync } from 'fflate';
import { sql } from 'kysely';
import { openAuditDetails } from '../../lib/audit/audit-key';
import { chainHash } from '../../lib/audit/canonical';
import {
  auditPage,
  eventsInRange,
  type AuditCursor,
  type AuditFilter,
} from '../../lib/audit/audit-page';
import { exportAuditLog } from '../../lib/audit/export';
import { verifyAuditRange } from '../../lib/audit/verify-range';
import { auditQuery } from '../../web/app/lib/audit-filter.server';
import { chainedFromRow, recordAudit } from '../../lib/audit/record';
import { verifyAuditChain } from '../../lib/audit/verify-chain';
import { tsaRootsPem } from '../../lib/config';
import type { Db } from '../../lib/db';
import { withTenant } from '../../lib/db/tenant-scope';
import { addIngestAddress, removeIngestAddress } from '../../lib/ingest/addresses';
import { checkpointRound } from '../../lib/checkpoint/round';
import { ensureLog } from '../../lib/ledger/store';
import {
  addMember,
  changePassword,
  createTenant,
  recoverAccess,
  rotateTenantKey,
  unlock,
} from '../../lib/vault';
import { FAST_ARGON2 } from '../helpers/ledger';
import { ownDatabase } from '../helpers/own-database';
import { stackConfig, stackTsas } from '../helpers/stack-env';

const cfg = stackConfig();
const wrapKey = Buffer.from(cfg.LEDGER_KEY_WRAP_KEY, 'base64');
const caPem = () => tsaRootsPem(cfg);
const own = ownDatabase(cfg, 'audit');
const PASSWORD = 'ein langes Passwort';
const operator = { type: 'operator' as const, label: 'test' };

const round = (db: Db) =>
  checkpointRound({
    db,
    wrapKey,
    originPrefix: cfg.LEDGER_ORIGIN,
    onKeyCreated: auditLedgerKeyCreated,
    tsa: stackTsas(cfg),
  });

async function newTenant(db: Db, name = 'Prüfung GmbH') {
  const t = await createTenant(db, {
    name,
    admin: { email: 'admin@pruefung.example', password: PASSWORD },
    argon2: FAST_ARGON2,
  });
  const session = () =>
    unlock(db, {
      tenantId: t.tenantId,
      email: 'admin@pruefung.example',
      password: PASSWORD,
      argon2: FAST_ARGON2,
    });
  return { ...t, session };
}

const events = (db: Db, tenantId: string) =>
  withTenant(db, tenantId, (tx) =>
    tx
      .selectFrom('audit_events')
      .selectAll()
      .where('tenant_id', '=', tenantId)
      .orderBy('seq')
      .execute(),
  );

async function failure(p: Promise<unknown>): Promise<Error | undefined> {
  return p.then(
    () => undefined,
    (e: unknown) => e as Error,
  );
}

describe('audit log', () => {
  let db: Db;
  beforeAll(() => {
    db = own.db();
  });

  it('writes the event in the action’s transaction: both commit or neither', async () => {
    const t = await newTenant(db);
    const before = (await events(db, t.tenantId)).length;
    const err = await failure(
      withTenant(db, t.tenantId, async (tx) => {
        await recordAudit(tx, t.tenantId, { action: 'setting.changed', actor: operator });
        throw new Error('the action failed after its event was written');
      }),
    );
    expect(err?.message).toMatch(/action failed/);
    expect(await events(db, t.tenantId)).toHaveLength(before);
    await withTenant(db, t.tenantId, (tx) =>
      recordAudit(tx, t.tenantId, { action: 'setting.changed', actor: operator }),
    );
    expect(await events(db, t.tenantId)).toHaveLength(before + 1);
  });

  it('emits the events of every vault, ledger and ingest-address action that exists', async () => {
    const t = await newTenant(db);
    let admin = await t.session();
    const memberId = await addMember(
      db,
      admin,
      { email: 'kollegin@pruefung.example', password: PASSWORD, role: 'member' },
      FAST_ARGON2,
    );
    await changePassword(db, {
      tenantId: t.tenantId,
      email: 'admin@pruefung.example',
      currentPassword: PASSWORD,
      newPassword: `${PASSWORD} neu`,
      argon2: FAST_ARGON2,
    });
    await recoverAccess(db, {
      tenantId: t.tenantId,
      email: 'admin@pruefung.example',
      recoveryKey: t.recoveryKey,
      newPassword: PASSWORD,
      argon2: FAST_ARGON2,
    });
    admin = await t.session();
    await rotateTenantKey(db, admin, { removeUserIds: [memberId] });
    await withTenant(db, t.tenantId, (tx) =>
      ensureLog(tx, {
        tenantId: t.tenantId,
        originPrefix: cfg.LEDGER_ORIGIN,
        onKeyCreated: auditLedgerKeyCreated,
        wrapKey,
      }),
    );
    await addIngestAddress(db, t.tenantId, 'Journal@Pruefung.example', operator);
    await removeIngestAddress(db, t.tenantId, 'journal@pruefung.example', operator);
    await exportAuditLog(db, { tenantId: t.tenantId, tsaCaPem: caPem(), actor: operator });

    const rows = await events(db, t.tenantId);
    expect(rows.map((r) => r.action)).toEqual([
      'tenant.created',
      'key.created',
      'user.added',
      'user.added',
      'password.changed',
      'key.recovered',
      'key.rotated',
      'user.removed',
      'key.created',
      'ingest_address.added',
      'ingest_address.removed',
      'audit.exported',
    ]);
    const by = (a: string) => rows.filter((r) => r.action === a);
    expect(by('user.added')[1]).toMatchObject({
      actor_type: 'user',
      actor_id: admin.userId,
      target_id: memberId,
      details: { email: 'kollegin@pruefung.example', role: 'member' },
    });
    expect(by('key.rotated')[0]!.details).toMatchObject({ from: 1, to: 2 });
    expect(by('user.removed')[0]!.target_id).toBe(memberId);
    expect(by('key.created')[1]!.details).toMatchObject({ purpose: 'ledger-signing' });
    expect(by('ingest_address.added')[0]!.details).toEqual({
      address: 'journal@pruefung.example',
    });
    // Secrets never appear: no password, recovery key or key material in any event.
    const all = JSON.stringify(rows);
    for (const secret of [PASSWORD, t.recoveryKey, 'neu']) expect(all.includes(secret)).toBe(false);
    expect((await verifyAuditChain(db, t.tenantId)).problems).toEqual([]);
  }, 60_000);

  it('refuses UPDATE, DELETE and TRUNCATE to the service role, the tenant role and the table owner', async () => {
    const t = await newTenant(db);
    await round(db); // gives the tenant an anchor row, so the anchor statements have a target
    const attempts = [
      sql`UPDATE audit_events SET details = '{"x":1}'::jsonb WHERE seq = 1`,
      sql`DELETE FROM audit_events WHERE seq = 1`,
      sql`TRUNCATE audit_events`,
      sql`UPDATE audit_anchors SET seq = seq`,
      sql`DELETE FROM audit_anchors`,
      sql`TRUNCATE audit_anchors`,
    ];
    // Each role is refused for its own reason: the service and tenant roles hold no such
    // privilege; the owner holds every privilege, and the triggers (on) refuse it. The owner is
    // reached through the administrator's connection: the service role may not become it.
    const cases = [
      { as: 'service role', on: db, role: null, refusal: /^permission denied for table/ },
      { as: 'mailrepo_app', on: db, role: 'mailrepo_app', refusal: /^permission denied for table/ },
      {
        as: 'mailrepo_audit_owner',
        on: own.admin(),
        role: 'mailrepo_audit_owner',
        refusal: /^audit log is append-only/,
      },
    ];
    for (const c of cases)
      for (const statement of attempts) {
        const err = await failure(
          c.on.transaction().execute(async (tx) => {
            if (c.role) await sql`SET LOCAL ROLE ${sql.raw(c.role)}`.execute(tx);
            await sql`SELECT set_config('app.tenant_id', ${t.tenantId}, true)`.execute(tx);
            // The rows are visible to the role, so a silent "0 rows" cannot pass for a refusal.
            const visible = await sql<{ n: number }>`SELECT
                (SELECT count(*)::int FROM audit_events) + (SELECT count(*)::int FROM audit_anchors)
                AS n`.execute(tx);
            expect(visible.rows[0]!.n).toBeGreaterThan(1);
            await statement.execute(tx);
          }),
        );
        expect({ as: c.as, sql: statement.compile(db).sql, refused: err?.message }).toEqual({
          as: c.as,
          sql: statement.compile(db).sql,
          refused: expect.stringMatching(c.refusal),
        });
      }
    // Creation's three events, and the ledger signing key created when the head was anchored.
    expect(await events(db, t.tenantId)).toHaveLength(4);
  });

  it('catches the owner switching the triggers off, and a superuser cutting off the chain’s end', async () => {
    const t = await newTenant(db, 'Abschneider GmbH');
    await withTenant(db, t.tenantId, (tx) =>
      recordAudit(tx, t.tenantId, { action: 'setting.changed', actor: operator }),
    );
    await round(db);
    await round(db);
    expect((await verifyAuditChain(db, t.tenantId)).problems).toEqual([]);
    const su = own.admin();
    // The owning role may disable its own triggers (ownership allows it); then it edits a row.
    await su.transaction().execute(async (tx) => {
      await sql`SET LOCAL ROLE mailrepo_audit_owner`.execute(tx);
      await sql`SELECT set_config('app.tenant_id', ${t.tenantId}, true)`.execute(tx);
      await sql`ALTER TABLE audit_events DISABLE TRIGGER USER`.execute(tx);
      await sql`UPDATE audit_events SET actor_label = 'jemand anderes' WHERE seq = 2`.execute(tx);
      await sql`ALTER TABLE audit_events ENABLE TRIGGER USER`.execute(tx);
    });
    expect((await verifyAuditChain(db, t.tenantId)).problems[0]).toMatchObject({
      seq: 2,
      what: expect.stringMatching(/altered/),
    });

    // A superuser deletes the newest events, head row moved back: the chain looks whole, but the
    // ledger holds a head it no longer reaches.
    const u = await newTenant(db, 'Kuerzer GmbH');
    for (let i = 0; i < 2; i++)
      await withTenant(db, u.tenantId, (tx) =>
        recordAudit(tx, u.tenantId, { action: 'setting.changed', actor: operator }),
      );
    await round(db);
    await round(db);
    const before = await verifyAuditChain(db, u.tenantId);
    expect(before.problems).toEqual([]);
    await sql`ALTER TABLE audit_events DISABLE TRIGGER USER`.execute(su);
    try {
      await sql`DELETE FROM audit_events WHERE tenant_id = ${u.tenantId} AND seq > 3`.execute(su);
      await sql`UPDATE audit_heads SET seq = 3, hash = (SELECT hash FROM audit_events
                  WHERE tenant_id = ${u.tenantId} AND seq = 3) WHERE tenant_id = ${u.tenantId}`.execute(
        su,
      );
    } finally {
      await sql`ALTER TABLE audit_events ENABLE TRIGGER USER`.execute(su);
    }
    const after = await verifyAuditChain(db, u.tenantId);
    expect(after.events).toBe(3);
    expect(after.problems.map((p) => p.what).join('\n')).toMatch(/not in the intact chain/);
  }, 60_000);

  it('keeps tenants apart: no reading or writing another tenant’s events', async () => {
    const a = await newTenant(db, 'A GmbH');
    const b = await newTenant(db, 'B GmbH');
    const seen = await withTenant(db, b.tenantId, (tx) =>
      tx.selectFrom('audit_events').selectAll().where('tenant_id', '=', a.tenantId).execute(),
    );
    expect(seen).toEqual([]);
    const err = await failure(
      withTenant(db, b.tenantId, (tx) =>
        recordAudit(tx, a.tenantId, { action: 'setting.changed', actor: operator }),
      ),
    );
    expect(err?.message).toMatch(/row-level security|violates/);
  });

  it('serialises concurrent events into one chain without gaps', async () => {
    const t = await newTenant(db);
    await Promise.all(
      Array.from({ length: 25 }, (_, i) =>
        withTenant(db, t.tenantId, (tx) =>
          recordAudit(tx, t.tenantId, {
            action: 'setting.changed',
            actor: operator,
            details: { key: `s${i}`, old: null, new: i },
          }),
        ),
      ),
    );
    const rows = await events(db, t.tenantId);
    expect(rows.map((r) => Number(r.seq))).toEqual(Array.from({ length: 28 }, (_, i) => i + 1));
    expect((await verifyAuditChain(db, t.tenantId)).problems).toEqual([]);
  });

  it('seals content-derived details to the tenant key, readable after a key rotation', async () => {
    const t = await newTenant(db);
    await withTenant(db, t.tenantId, (tx) =>
      recordAudit(tx, t.tenantId, {
        action: 'mail.searched',
        actor: operator,
        details: { results: 3 },
        sealed: { query: 'Rechnung Müller' },
      }),
    );
    const row = (await events(db, t.tenantId)).at(-1)!;
    expect(row.sealed_details).not.toBeNull();
    expect(JSON.stringify(row).includes('Müller')).toBe(false);
    expect(row.sealed_details!.includes(Buffer.from('Rechnung'))).toBe(false);
    const admin = await t.session();
    const open = (s: typeof admin) =>
      withTenant(db, t.tenantId, (tx) => openAuditDetails(tx, s, row));
    expect(await open(admin)).toEqual({ query: 'Rechnung Müller' });
    const rotated = await rotateTenantKey(db, admin);
    expect(await open(rotated)).toEqual({ query: 'Rechnung Müller' });
  });

  describe('anchored in the ledger', () => {
    let tenantId: string;
    beforeAll(async () => {
      ({ tenantId } = await newTenant(db, 'Anker Audit GmbH'));
      for (let i = 0; i < 4; i++)
        await withTenant(db, tenantId, (tx) =>
          recordAudit(tx, tenantId, {
            action: 'setting.changed',
            actor: operator,
            details: { key: 'retention', old: `${i}y`, new: `${i + 1}y` },
          }),
        );
      await round(db); // anchors the head and creates the tenant log (a key.created event)
      await round(db); // anchors that event's head too, and timestamps it
    }, 60_000);

    it('appends each new chain head to the tenant ledger at checkpoint time', async () => {
      const anchors = await db
        .selectFrom('audit_anchors')
        .selectAll()
        .where('tenant_id', '=', tenantId)
        .orderBy('seq')
        .execute();
      expect(anchors.map((a) => Number(a.seq))).toEqual([7, 8]);
      const report = await verifyAuditChain(db, tenantId);
      expect(report).toMatchObject({ events: 8, anchoredHeads: 2, problems: [] });
      const cli = spawnSync(
        'node',
        [path.join(__dirname, '../../bin/mailrepo.cjs'), 'audit', 'verify', '--tenant', tenantId],
        { encoding: 'utf8', env: { ...process.env, DATABASE_URL: own.url } },
      );
      expect(cli.stdout).toContain('8 events, 2 heads in the ledger');
      expect(cli.status).toBe(0);
    });

    it('gives auditors an export that the bundled script verifies, and catches a changed row', async () => {
      const { zip } = await exportAuditLog(db, { tenantId, tsaCaPem: caPem(), actor: operator });
      const files = unzipSync(zip);
      expect(Object.keys(files)).toEqual(
        expect.arrayContaining(['events.json', 'events.csv', 'anchors/8.zip', 'verify-audit.py']),
      );
      expect(strFromU8(files['events.csv']!).split('\r\n')[0]).toMatch(/^seq,at,action,/);
      const run = (f: Record<string, Uint8Array>) => {
        const dir = mkdtempSync(path.join(os.tmpdir(), 'mailrepo-audit-'));
        try {
          for (const [name, bytes] of Object.entries(f)) {
            mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
            writeFileSync(path.join(dir, name), bytes);
          }
          const r = spawnSync('python3', ['verify-audit.py'], { cwd: dir, encoding: 'utf8' });
          return { status: r.status, out: r.stdout + r.stderr };
        } finally {
          rmSync(dir, { recursive: true, force: true });
        }
      };
      const ok = run(files);
      expect(ok.out).toContain('VERIFIED');
      expect(ok.status).toBe(0);
      const json = JSON.parse(strFromU8(files['events.json']!)) as { details: unknown }[];
      json[2]!.details = { key: 'retention', old: '1y', new: '99y' };
      const bad = run({ ...files, 'events.json': strToU8(JSON.stringify(json)) });
      expect(bad.out).toContain('FAILED: event 3');
      expect(bad.status).toBe(1);
    }, 60_000);

    it('names the first bad event after a superuser edits a row behind the triggers', async () => {
      // Only a superuser gets past the triggers; the service role the suite runs as cannot.
      const su = own.admin();
      const tamper = async (fn: () => Promise<unknown>) => {
        await sql`ALTER TABLE audit_events DISABLE TRIGGER USER`.execute(su);
        try {
          await fn();
        } finally {
          await sql`ALTER TABLE audit_events ENABLE TRIGGER USER`.execute(su);
        }
      };
      // A plain edit: event 3's details change, its stored hash does not.
      await tamper(() =>
        sql`UPDATE audit_events SET details = '{"key":"retention","old":"1y","new":"99y"}'::jsonb
            WHERE tenant_id = ${tenantId} AND seq = 3`.execute(su),
      );
      let report = await verifyAuditChain(db, tenantId);
      expect(report.problems[0]).toMatchObject({ seq: 3, what: expect.stringMatching(/altered/) });
      const cli = spawnSync(
        'node',
        [path.join(__dirname, '../../bin/mailrepo.cjs'), 'audit', 'verify', '--tenant', tenantId],
        { encoding: 'utf8', env: { ...process.env, DATABASE_URL: own.url } },
      );
      expect(cli.stderr.split('\n')[0]).toMatch(/^FAILED at event 3: .*altered/);
      expect(cli.status).toBe(1);

      // A careful forger recomputes every hash from there on: the chain is consistent again,
      // but no longer ends in the heads the ledger holds.
      await tamper(async () => {
        const rows = await su
          .selectFrom('audit_events')
          .selectAll()
          .where('tenant_id', '=', tenantId)
          .orderBy('seq')
          .execute();
        let prev = rows[1]!.hash;
        for (const r of rows.slice(2)) {
          const hash = chainHash(prev, chainedFromRow(r));
          await su
            .updateTable('audit_events')
            .set({ prev_hash: prev, hash })
            .where('tenant_id', '=', tenantId)
            .where('seq', '=', r.seq)
            .execute();
          prev = hash;
        }
      });
      report = await verifyAuditChain(db, tenantId);
      expect(report.problems.length).toBeGreaterThan(0);
      expect(report.problems[0]!.what).toMatch(
        /not in the intact chain: an event after 0 and up to 7/,
      );
      expect(report.problems.every((p) => !/altered \(/.test(p.what))).toBe(true);
    });
  });

  describe("the portal's audit page (issue 25 §1)", () => {
    let t: Awaited<ReturnType<typeof newTenant>>;
    let adminId = '';
    const mail = randomUUID();
    const otherMail = randomUUID();
    const page = (filter: AuditFilter, cursor: AuditCursor = {}, size = 50) =>
      withTenant(db, t.tenantId, (tx) => auditPage(tx, t.tenantId, filter, cursor, size));
    const seqs = (p: { rows: { seq: number }[] }) => p.rows.map((r) => r.seq);

    beforeAll(async () => {
      t = await newTenant(db, 'Seitenweise GmbH');
      adminId = (await t.session()).userId;
      const admin = { type: 'user' as const, id: adminId };
      await withTenant(db, t.tenantId, async (tx) => {
        for (let i = 0; i < 30; i++)
          await recordAudit(tx, t.tenantId, { action: 'setting.changed', actor: operator, details: { i } });
        await recordAudit(tx, t.tenantId, { action: 'mail.viewed', actor: admin, target: { type: 'message', id: mail }, ip: '192.0.2.7' });
        await recordAudit(tx, t.tenantId, { action: 'mail.viewed', actor: admin, target: { type: 'message', id: otherMail } });
        await recordAudit(tx, t.tenantId, {
          action: 'export.mails_decrypted',
          actor: { type: 'system', label: 'exportMailbox' },
          target: { type: 'export', id: randomUUID() },
          details: { part: 1, mails: 2, messageIds: [otherMail, mail] },
        });
        for (let i = 0; i < 30; i++)
          await recordAudit(tx, t.tenantId, { action: 'auth.login.succeeded', actor: admin, details: { i } });
      }); // prettier-ignore
    });

    it('filters by person, area, mail and Berlin days, and refuses what is not a filter', async () => {
      const all = await page({}, {}, 1000);
      const n = all.rows.length;
      expect(n).toBeGreaterThan(60);
      expect(seqs(all)).toEqual([...seqs(all)].sort((a, b) => b - a));

      const byAdmin = await page({ actor: adminId }, {}, 1000);
      expect(byAdmin.rows.every((r) => r.actor.type === 'user' && r.actor.id === adminId)).toBe(
        true,
      );
      expect(byAdmin.rows.filter((r) => r.action === 'auth.login.succeeded')).toHaveLength(30);
      const byOperator = await page({ actor: 'operator' }, {}, 1000);
      expect(byOperator.rows.map((r) => r.action)).toEqual(Array(30).fill('setting.changed'));
      expect((await page({ actor: 'system' }, {}, 1000)).rows.map((r) => r.action)).toContain(
        'export.mails_decrypted',
      );

      const decryptions = await page({ group: 'decryptions' }, {}, 1000);
      expect(decryptions.rows.map((r) => r.action).sort()).toEqual([
        'export.mails_decrypted',
        'mail.viewed',
        'mail.viewed',
      ]);
      // A mail's events: its own and the export that decrypted it, not another mail's view.
      const ofMail = await page({ mail }, {}, 1000);
      expect(ofMail.rows.map((r) => r.action)).toEqual(['export.mails_decrypted', 'mail.viewed']);
      expect(ofMail.rows[1]!.ip).toBe('192.0.2.7');
      expect((await page({ mail, actor: adminId }, {}, 1000)).rows).toHaveLength(1);
      expect((await page({ mail: randomUUID() }, {}, 1000)).rows).toEqual([]);
      expect((await page({ mail: 'x OR 1=1' }, {}, 1000)).rows).toEqual([]);
      expect((await page({ actor: 'nobody' }, {}, 1000)).rows).toEqual([]);

      const today = new Date().toLocaleDateString('sv-SE', { timeZone: 'Europe/Berlin' });
      const q = (s: string) => auditQuery(new URL(`http://portal/audit?${s}`));
      expect((await page(q(`from=${today}&to=${today}`).filter, {}, 1000)).rows).toHaveLength(n);
      const tomorrow = new Date(Date.now() + 86_400_000).toLocaleDateString('sv-SE', {
        timeZone: 'Europe/Berlin',
      });
      expect((await page(q(`from=${tomorrow}`).filter, {}, 1000)).rows).toEqual([]);
      // Berlin days: 29 March 2026 had 23 hours.
      expect(q('from=2026-03-29&to=2026-03-29').filter).toEqual({
        from: new Date('2026-03-28T23:00:00Z'),
        to: new Date('2026-03-29T22:00:00Z'),
      });
      expect(q('from=2026-02-31&mail=abc&group=alles&actor=root').problem).toBe(
        'actor, group, mail, from',
      );
    });

    it('pages newest first by sequence number, both ways, without gaps or repeats', async () => {
      const all = seqs(await page({}, {}, 1000));
      const first = await page({}, {}, 25);
      expect(seqs(first)).toEqual(all.slice(0, 25));
      expect(first.newer).toBeUndefined();
      const second = await page({}, { before: first.older! }, 25);
      expect(seqs(second)).toEqual(all.slice(25, 50));
      let p = second;
      const seen = [...seqs(first), ...seqs(second)];
      while (p.older !== undefined) {
        p = await page({}, { before: p.older }, 25);
        seen.push(...seqs(p));
      }
      expect(seen).toEqual(all);
      const back = await page({}, { after: second.newer! }, 25);
      expect(seqs(back)).toEqual(seqs(first));
      expect(back.newer).toBeUndefined();
      expect(back.older).toBe(first.older);
      // A filtered view pages the same way.
      const logins = await page({ group: 'signins' }, {}, 20);
      const more = await page({ group: 'signins' }, { before: logins.older! }, 20);
      expect([...logins.rows, ...more.rows].every((r) => r.action.startsWith('auth.'))).toBe(true);
      expect(more.rows).toHaveLength(10);
      expect(more.older).toBeUndefined();
    });

    it("checks a page's range up to the head that anchors it, with its checkpoint and RFC 3161 time", async () => {
      await round(db);
      await round(db);
      const shown = await page({}, {}, 20);
      const range = { from: shown.rows.at(-1)!.seq, to: shown.rows[0]!.seq };
      const ok = await verifyAuditRange(db, { tenantId: t.tenantId, ...range, tsaCaPem: caPem() });
      expect(ok.problems).toEqual([]);
      expect(ok.intact).toBe(true);
      expect(ok.anchor).toMatchObject({
        seq: expect.any(Number),
        tenantLog: { origin: expect.stringContaining(cfg.LEDGER_ORIGIN), checkpointSize: expect.any(Number) },
        genTime: expect.any(String),
      }); // prettier-ignore
      expect(ok.anchor!.seq).toBeGreaterThanOrEqual(range.to);
      expect(ok.anchor!.steps.length).toBeGreaterThan(3);
      expect(ok.anchor!.steps.every((s) => s.status === 'passed')).toBe(true);
      expect(Math.abs(Date.parse(ok.anchor!.genTime!) - Date.now())).toBeLessThan(10 * 60_000);

      // A new event after the newest anchored head: checked, reported as not yet anchored.
      await withTenant(db, t.tenantId, (tx) =>
        recordAudit(tx, t.tenantId, { action: 'setting.changed', actor: operator }),
      );
      const newest = await page({}, {}, 5);
      const tail = await verifyAuditRange(db, {
        tenantId: t.tenantId,
        from: newest.rows.at(-1)!.seq,
        to: newest.rows[0]!.seq,
        tsaCaPem: caPem(),
      });
      expect(tail.intact).toBe(true);
      expect(tail.unanchored).toEqual({ from: newest.rows[0]!.seq, to: newest.rows[0]!.seq });

      // A row edited behind the triggers inside the shown range: named, not intact.
      const victim = range.from + 3;
      const su = own.admin();
      await sql`ALTER TABLE audit_events DISABLE TRIGGER USER`.execute(su);
      try {
        await sql`UPDATE audit_events SET ip = '203.0.113.9'
                  WHERE tenant_id = ${t.tenantId} AND seq = ${victim}`.execute(su);
      } finally {
        await sql`ALTER TABLE audit_events ENABLE TRIGGER USER`.execute(su);
      }
      const bad = await verifyAuditRange(db, { tenantId: t.tenantId, ...range, tsaCaPem: caPem() });
      expect(bad.intact).toBe(false);
      expect(bad.problems[0]).toMatchObject({
        seq: victim,
        what: expect.stringMatching(/altered/),
      });
    }, 60_000);

    it('exports the time range with the filtered events marked, audited with who and where', async () => {
      // The page's count of a range stops one past its cap.
      const counted = (cap: number) =>
        withTenant(db, t.tenantId, (tx) => eventsInRange(tx, t.tenantId, {}, cap));
      expect(await counted(10)).toBe(11);
      expect(await counted(100_000)).toBe((await page({}, {}, 1000)).rows.length);
      const out = await exportAuditLog(db, {
        tenantId: t.tenantId,
        tsaCaPem: caPem(),
        actor: { type: 'user', id: adminId },
        ip: '198.51.100.4',
        select: { mail },
      });
      const json = JSON.parse(strFromU8(unzipSync(out.zip)['events.json']!)) as {
        action: string;
        selected?: boolean;
      }[];
      expect(json.filter((e) => e.selected).map((e) => e.action)).toEqual([
        'mail.viewed',
        'export.mails_decrypted',
      ]);
      expect(json.filter((e) => e.selected === false).length).toBeGreaterThan(60);
      const [last] = await withTenant(db, t.tenantId, (tx) =>
        tx.selectFrom('audit_events').selectAll().where('tenant_id', '=', t.tenantId)
          .orderBy('seq', 'desc').limit(1).execute(),
      ); // prettier-ignore
      expect(last).toMatchObject({
        action: 'audit.exported',
        actor_id: adminId,
        ip: '198.51.100.4',
      });
      expect(last!.details).toMatchObject({ selected: 2, filter: { mail } });
    }, 60_000);
  });
});
