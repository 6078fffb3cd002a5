import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { sql } from 'kysely';
import { createRestores } from '../../application/restores';
import { LmtpClient } from '../../infra/lmtp-client';
import { createSession, readSession, type SessionInfo } from '../../lib/auth/sessions';
import { withTenant } from '../../lib/db/tenant-scope';
import { addIngestAddress } from '../../lib/ingest/addresses';
import { isInputError } from '../../lib/input/input-error';
import { addMember, lock, unlock } from '../../lib/vault';
import { adminDb } from '../helpers/admin-db';
import { crlf, openArchiveContext, sha256, type ArchiveContext } from '../helpers/archive';
import { startDovecot, type DovecotInstance } from '../helpers/dovecot';
import { journalReport, original } from '../helpers/journal-reports';
import { FAST_ARGON2 } from '../helpers/ledger';
import { stackConfig } from '../helpers/stack-env';
import { unlockedTenant } from '../helpers/tenant';

/**
 * Restore into an IMAP mailbox (issue 22 §4/§5): archived mails appended to a private Dovecot's
 * mailbox, compared byte for byte with the files in Dovecot's storage; every mail decrypted is
 * audited; the grant ends with the work; members restore only their own mails into their own
 * mailbox.
 */

const cfg = stackConfig();
const dba = adminDb(cfg);
const PASSWORD = 'Restore-Passwort-456';
let ctx: ArchiveContext & { close(): Promise<void> };
let dovecot: DovecotInstance;

beforeAll(async () => {
  ctx = await openArchiveContext(cfg);
  dovecot = await startDovecot([
    { user: 'dora@restore-firma.example', password: PASSWORD },
    { user: 'member@restore-firma.example', password: PASSWORD },
  ]);
}, 60_000);
afterAll(async () => {
  await dovecot?.stop();
  await ctx.close();
  await dba.destroy();
});

const restores = () =>
  createRestores({
    db: ctx.db,
    temporal: async () => ({ client: ctx.temporal, taskQueue: cfg.TEMPORAL_TASK_QUEUE }),
  });

const form = (user: string, over: Record<string, unknown> = {}) => ({
  host: '127.0.0.1',
  port: String(dovecot.imapsPort),
  security: 'tls',
  user,
  password: PASSWORD,
  ca: dovecot.ca,
  folder: '',
  ...over,
});

/** A portal session of `email` (with its sealed keys), as the portal holds one. */
async function sessionOf(tenantId: string, email: string, password: string) {
  const unlocked = await unlock(ctx.db, { tenantId, email, password, argon2: FAST_ARGON2 });
  const cookie = await withTenant(ctx.db, tenantId, (tx) =>
    createSession(tx, { unlocked, ip: '192.0.2.1', secondFactor: true }),
  );
  lock(unlocked);
  const r = await readSession(ctx.db, cookie);
  if (r.status !== 'active') throw new Error('no session');
  return { session: r.session as SessionInfo, cookie };
}

const mail = (subject: string, to: string) =>
  crlf(
    `From: Kunde <kunde@extern.example>\nTo: ${to}\nSubject: ${subject}\nMessage-ID: <${subject.replace(/\W/g, '')}@extern.example>\n` +
      `Date: Wed, 02 Dec 2026 09:00:00 +0100\nContent-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: 8bit\n\nGrüße zum ${subject}.\n`,
  );

/** The files of a folder in Dovecot's Maildir (where the server keeps the bytes). */
function stored(user: string, folder: string): Buffer[] {
  const dir = path.join(dovecot.maildir(user), `.${folder}`);
  return ['new', 'cur'].flatMap((sub) => {
    const d = path.join(dir, sub);
    try {
      return readdirSync(d).map((f) => readFileSync(path.join(d, f)));
    } catch {
      return [];
    }
  });
}

async function archiveAll(tenantId: string, address: string, mails: Buffer[]) {
  const lmtp = await LmtpClient.connect(cfg.LMTP_PORT);
  for (const m of mails) {
    const d = await lmtp.send(m, 'journal@mta.example', [address]);
    expect(d.data[address]).toMatch(/^250/);
  }
  lmtp.close();
  const ids = new Map<string, string>();
  const deadline = Date.now() + 90_000;
  while (ids.size < mails.length && Date.now() < deadline) {
    const rows = await sql<{ id: string; sha256: Buffer; state: string }>`
      SELECT id, sha256, state FROM messages WHERE tenant_id = ${tenantId}`.execute(dba);
    for (const r of rows.rows) if (r.state === 'sealed') ids.set(r.sha256.toString('hex'), r.id);
    await new Promise((r) => setTimeout(r, 300));
  }
  return mails.map((m) => ids.get(sha256(m).toString('hex'))!);
}

describe('restore into an IMAP mailbox', () => {
  it('appends the chosen mails byte for byte, audits each decryption, ends its grant', async () => {
    const t = await unlockedTenant(ctx.db, 'RestoreEins');
    await addIngestAddress(ctx.db, t.tenantId, 'archiv@restore-eins.example', {
      type: 'operator',
      label: 'test',
    });
    const inner = original('Journal zum Wiederherstellen');
    const mails = [
      mail('Auftrag 1', 'dora@restore-firma.example'),
      mail('Auftrag 2', 'dora@restore-firma.example'),
      journalReport({
        subject: 'Journal zum Wiederherstellen',
        attached: inner,
        encoding: 'base64',
      }),
      mail('Nicht gewählt', 'dora@restore-firma.example'),
    ];
    const ids = await archiveAll(t.tenantId, 'archiv@restore-eins.example', mails);
    const { session, cookie } = await sessionOf(t.tenantId, t.email, 'ein langes Passwort');
    const restoreId = await restores().start(
      session,
      cookie,
      form('dora@restore-firma.example', { messageIds: ids.slice(0, 3) }),
      '192.0.2.1',
    );
    expect(await ctx.temporal.workflow.getHandle(`restore-${restoreId}`).result()).toBe(3);
    const files = stored('dora@restore-firma.example', 'Wiederhergestellt');
    expect(files).toHaveLength(3);
    // Byte for byte: the two mails as archived, the journal report as the original it carries.
    for (const expected of [mails[0]!, mails[1]!, inner])
      expect(files.filter((f) => f.equals(expected))).toHaveLength(1);
    const row = await sql<{ status: string; done: number; total: number }>`
      SELECT status, done, total FROM restores WHERE id = ${restoreId}`.execute(dba);
    expect(row.rows[0]).toEqual({ status: 'done', done: 3, total: 3 });
    const audited = await sql<{
      ids: string[];
    }>`SELECT details->'messageIds' AS ids FROM audit_events
      WHERE tenant_id = ${t.tenantId} AND action = 'restore.mails_decrypted'`.execute(dba);
    expect(audited.rows.flatMap((r) => r.ids).sort()).toEqual(ids.slice(0, 3).sort());
    const grants = await sql`SELECT 1 FROM decryption_grants WHERE tenant_id = ${t.tenantId}
      AND purpose = 'restore'`.execute(dba);
    expect(grants.rows).toHaveLength(0);
  }, 180_000);

  it('a member restores only their own mails, and only into their own mailbox', async () => {
    const t = await unlockedTenant(ctx.db, 'RestoreZwei');
    await addIngestAddress(ctx.db, t.tenantId, 'archiv@restore-zwei.example', {
      type: 'operator',
      label: 'test',
    });
    await addMember(
      ctx.db,
      t.session,
      {
        email: 'member@restore-firma.example',
        password: 'ein Passwort des Mitglieds',
        role: 'member',
      },
      FAST_ARGON2,
    );
    const mine = mail('Meine Mail', 'member@restore-firma.example');
    const other = mail('Fremde Mail', 'chef@restore-firma.example');
    const [mineId, otherId] = await archiveAll(t.tenantId, 'archiv@restore-zwei.example', [
      mine,
      other,
    ]);
    const { session, cookie } = await sessionOf(
      t.tenantId,
      'member@restore-firma.example',
      'ein Passwort des Mitglieds',
    );
    let refused: unknown;
    try {
      await restores().start(
        session,
        cookie,
        form('dora@restore-firma.example', { messageIds: [mineId] }),
        '192.0.2.1',
      );
    } catch (e) {
      refused = e;
    }
    expect(isInputError(refused) && refused.code).toBe('restore.error.ownMailbox');
    const restoreId = await restores().start(
      session,
      cookie,
      form('member@restore-firma.example', {
        messageIds: [mineId, otherId],
        folder: 'Aus dem Archiv',
      }),
      '192.0.2.1',
    );
    expect(await ctx.temporal.workflow.getHandle(`restore-${restoreId}`).result()).toBe(1);
    expect(
      stored('member@restore-firma.example', 'Aus dem Archiv').map((f) => f.equals(mine)),
    ).toEqual([true]);
  }, 180_000);
});
