import type net from 'node:net';
import { ListObjectsV2Command } from '@aws-sdk/client-s3';
import { sql } from 'kysely';
import { freePort } from '../../infra/processes';
import { withTenant } from '../../lib/db/tenant-scope';
import { ArchiveBatcher } from '../../lib/ingest/archive-batcher';
import { createJournalAddress, revokeJournalAddress } from '../../lib/ingest/journal-addresses';
import { changeJournalDkimDomains } from '../../lib/ingest/journal-settings';
import {
  createSmtpJournalServer,
  type SmtpJournalOptions,
} from '../../lib/ingest/smtp-journal-server';
import { createLogger } from '../../lib/log';
import { adminDb } from '../helpers/admin-db';
import {
  archived,
  archiveTenant,
  openArchiveContext,
  sealedMessages,
  sha256,
  simpleMail,
  type ArchiveContext,
} from '../helpers/archive';
import { dkimDomain } from '../helpers/dkim';
import { journalReport, original } from '../helpers/journal-reports';
import { startPostfix, type PostfixInstance } from '../helpers/postfix';
import { stackConfig } from '../helpers/stack-env';
import { swaks } from '../helpers/swaks';

/**
 * SMTP journaling (issue 22 §1) through the stack's listener: only live journal addresses take
 * mail, the address never lands anywhere in clear, a tenant's DKIM rule refuses unsigned mail
 * (nothing stored, the refusal audited), swaks and a Postfix `always_bcc` deliver byte-exact.
 */

const cfg = stackConfig();
const dba = adminDb(cfg);
let ctx: ArchiveContext & { close(): Promise<void> };
beforeAll(async () => {
  ctx = await openArchiveContext(cfg);
});
afterAll(async () => {
  await ctx.close();
  await dba.destroy();
});

const operator = { type: 'operator', label: 'test' } as const;
const journalAddress = (tenantId: string, label = 'Microsoft 365') =>
  createJournalAddress(ctx.db, {
    tenantId,
    label,
    domain: cfg.JOURNAL_DOMAIN,
    actor: operator,
    createdBy: 'test',
  });

const smtpArgs = (to: string[], port = cfg.JOURNAL_SMTP_PORT, tls = true) => [
  '--server',
  '127.0.0.1',
  '--port',
  String(port),
  ...(tls ? ['--tls'] : []),
  '--from',
  'journal@firma.example',
  '--to',
  to.join(','),
];

const stored = async (tenantId: string, mail: Buffer) =>
  withTenant(ctx.db, tenantId, (tx) =>
    tx.selectFrom('messages').select('id').where('sha256', '=', sha256(mail)).execute(),
  );

describe('SMTP journaling listener', () => {
  it('archives mail for a journal address byte-exact; the address itself is stored nowhere', async () => {
    const t = await archiveTenant(ctx, 'Journal Eins GmbH', 'archiv@journal-eins.example');
    const j = await journalAddress(t.tenantId);
    expect(j.address).toMatch(
      new RegExp(`^j[a-z2-7]{52}@${cfg.JOURNAL_DOMAIN.replace(/\./g, '\\.')}$`),
    );
    const local = j.address.split('@')[0]!;
    const mail = simpleMail('Journal über SMTP', 'Grüße, 8-bit: äöüß €\n.Zeile mit Punkt\n');
    // Upper case as some senders write it: the address is matched without regard to case.
    const { out, replies } = await swaks(mail, smtpArgs([j.address.toUpperCase()]));
    expect(out).toMatch(/TLS started/);
    expect(replies.at(-2)).toMatchObject({ code: 250, text: expect.stringMatching(/archived/) });
    const got = await archived(ctx, t, mail);
    expect(got.plaintext.equals(mail)).toBe(true);
    const envelope = got.metadata.envelope as Record<string, unknown>;
    expect(envelope.rcptTo).toEqual([`${local.slice(0, 7)}.journal@${cfg.JOURNAL_DOMAIN}`]);
    expect(envelope.journalAddressIds).toEqual([j.id]);
    // Sender checks ran and are recorded (no DNS here: SPF cannot pass).
    expect(envelope.senderAuth).toMatchObject({ dkim: [], spf: { result: expect.any(String) } });
    // Not in any row of the tenant: receipts, audit, the addresses table (a hash only).
    const leaks = await sql<{ n: string }>`
      SELECT (SELECT count(*) FROM message_receipts WHERE ingest_address ILIKE ${`%${local}%`})
           + (SELECT count(*) FROM audit_events WHERE details::text ILIKE ${`%${local}%`})
           + (SELECT count(*) FROM journal_addresses WHERE hint = ${local} OR label ILIKE ${`%${local}%`})
           AS n`.execute(dba);
    expect(Number(leaks.rows[0]!.n)).toBe(0);
    const audit = await sql<{ action: string }>`SELECT action FROM audit_events
      WHERE tenant_id = ${t.tenantId} AND action LIKE 'journal_address.%'`.execute(dba);
    expect(audit.rows.map((r) => r.action)).toEqual(['journal_address.created']);
  }, 90_000);

  it('refuses unknown, revoked and foreign-domain addresses alike; one tenant per transaction', async () => {
    const a = await archiveTenant(ctx, 'Journal Zwei GmbH', 'archiv@journal-zwei.example');
    const b = await archiveTenant(ctx, 'Journal Drei GmbH', 'archiv@journal-drei.example');
    const ja = await journalAddress(a.tenantId);
    const jb = await journalAddress(b.tenantId);
    const revoked = await journalAddress(a.tenantId, 'alt');
    await revokeJournalAddress(ctx.db, {
      tenantId: a.tenantId,
      addressId: revoked.id,
      actor: operator,
    });
    const guessed = `j${'a'.repeat(52)}@${cfg.JOURNAL_DOMAIN}`;
    const foreign = ja.address.replace(/@.*/, '@andere.example');
    const mail = simpleMail('Gemischte Empfänger');
    const { replies } = await swaks(
      mail,
      smtpArgs([guessed, revoked.address, foreign, ja.address, jb.address]),
    );
    const rcpt = replies.filter((r) => r.code !== 220 && r.code !== 221 && r.code !== 354);
    // greeting/EHLO/STARTTLS/EHLO/MAIL: 250s before the recipients.
    expect(rcpt.filter((r) => r.code === 550)).toHaveLength(3);
    for (const r of rcpt.filter((x) => x.code === 550))
      expect(r.text).toMatch(/^5\.1\.1 not a journal address/);
    expect(rcpt).toContainEqual({
      code: 452,
      text: expect.stringMatching(/one archive per transaction/),
    });
    expect(replies.at(-2)).toMatchObject({ code: 250, text: expect.stringMatching(/archived/) });
    await archived(ctx, a, mail);
    expect(await stored(b.tenantId, mail)).toEqual([]);
  }, 90_000);

  it("a tenant's DKIM rule refuses unsigned journal mail: 550, nothing stored, audited", async () => {
    const t = await archiveTenant(ctx, 'Journal Vier GmbH', 'archiv@journal-vier.example');
    const j = await journalAddress(t.tenantId);
    await changeJournalDkimDomains(ctx.db, { tenantId: t.tenantId, actor: operator }, [
      'journal-vier.example',
    ]);
    const mail = simpleMail('Ohne Signatur');
    const { replies } = await swaks(mail, smtpArgs([j.address]));
    expect(replies.at(-2)).toMatchObject({
      code: 550,
      text: expect.stringMatching(/^5\.7\.1 not signed \(DKIM\)/),
    });
    expect(await stored(t.tenantId, mail)).toEqual([]);
    const objects = await ctx.s3.send(
      new ListObjectsV2Command({ Bucket: ctx.bucket, Prefix: `mail/${t.tenantId}/` }),
    );
    expect(objects.KeyCount ?? 0).toBe(0);
    const events = await sql<{ action: string; details: { reason: string } }>`
      SELECT action, details FROM audit_events WHERE tenant_id = ${t.tenantId}
      AND action IN ('setting.changed', 'ingest.delivery_refused') ORDER BY seq`.execute(dba);
    expect(events.rows.map((e) => e.action)).toEqual([
      'setting.changed',
      'ingest.delivery_refused',
    ]);
    expect(events.rows[1]!.details.reason).toBe('dkim');
  }, 60_000);
});

describe('SMTP journaling, the same server in process with DNS the test answers', () => {
  const log = createLogger('journal-test', { level: 'silent' });
  const firma = dkimDomain('journal-fuenf.example');
  /** The listener with the test's limits, on a free port. */
  async function start(opts: Partial<SmtpJournalOptions>) {
    const journal = createSmtpJournalServer(
      {
        db: ctx.db,
        s3: ctx.s3,
        bucket: ctx.bucket,
        archive: new ArchiveBatcher(ctx.temporal, cfg.TEMPORAL_TASK_QUEUE),
        log,
      },
      {
        requireTls: false,
        domain: cfg.JOURNAL_DOMAIN,
        hostname: 'archiv.test',
        maxMessageBytes: 64 * 1024,
        maxConnections: 10,
        maxConcurrentMails: 4,
        maxRecipients: 10,
        maxConnectionsPerIp: 10,
        senderAuth: { resolver: firma.resolver, timeoutMs: 5_000 },
        ...opts,
      },
    );
    await new Promise<void>((r) => journal.server.listen(0, '127.0.0.1', r));
    return { journal, port: (journal.server.server.address() as net.AddressInfo).port };
  }
  let server: Awaited<ReturnType<typeof start>>['journal'];
  let port: number;
  beforeAll(async () => {
    ({ journal: server, port } = await start({}));
  });
  afterAll(() => server.drain(1_000));

  it('DKIM-signed by a listed domain: archived, the passing signature recorded', async () => {
    const t = await archiveTenant(ctx, 'Journal Fünf GmbH', 'archiv@journal-fuenf.example');
    const j = await journalAddress(t.tenantId);
    await changeJournalDkimDomains(ctx.db, { tenantId: t.tenantId, actor: operator }, [
      'journal-fuenf.example',
    ]);
    const mail = await firma.sign(simpleMail('Signiertes Journal'));
    const { replies } = await swaks(mail, smtpArgs([j.address], port, false));
    expect(replies.at(-2)).toMatchObject({ code: 250 });
    const got = await archived(ctx, t, mail);
    expect(got.plaintext.equals(mail)).toBe(true);
    expect((got.metadata.envelope as { senderAuth: unknown }).senderAuth).toMatchObject({
      dkim: [{ domain: 'journal-fuenf.example', result: 'pass' }],
    });
  }, 60_000);

  it('past the size limit: 552 and nothing stored', async () => {
    const t = await archiveTenant(ctx, 'Journal Sechs GmbH', 'archiv@journal-sechs.example');
    const j = await journalAddress(t.tenantId);
    const mail = simpleMail('Zu groß', 'x'.repeat(200 * 1024));
    const { replies } = await swaks(mail, smtpArgs([j.address], port, false));
    expect(replies.at(-2)).toMatchObject({ code: 552 });
    expect(await stored(t.tenantId, mail)).toEqual([]);
  }, 60_000);

  it('with TLS required, MAIL FROM before STARTTLS gets 530', async () => {
    const { journal: strict, port: p } = await start({ requireTls: true });
    try {
      const { replies } = await swaks(
        simpleMail('Klartext'),
        smtpArgs([`x@${cfg.JOURNAL_DOMAIN}`], p, false),
      );
      expect(replies).toContainEqual({ code: 530, text: expect.stringMatching(/STARTTLS/) });
    } finally {
      await strict.drain(500);
    }
  }, 30_000);
});

describe('Postfix journaling with always_bcc over SMTP', () => {
  let postfix: PostfixInstance | undefined;
  afterAll(() => postfix?.stop());

  it('every mail Postfix relays reaches the archive as a journal copy over STARTTLS', async () => {
    const t = await archiveTenant(ctx, 'Journal Postfix GmbH', 'archiv@journal-pf.example');
    const j = await journalAddress(t.tenantId, 'Postfix always_bcc');
    postfix = await startPostfix({
      smtpPort: await freePort(),
      lmtpPort: cfg.LMTP_PORT,
      relayDomains: ['kunde-pf.example'],
      journal: { address: j.address, domain: cfg.JOURNAL_DOMAIN, smtpPort: cfg.JOURNAL_SMTP_PORT },
    });
    // A journal report relayed like any mail (Exchange in front of Postfix), and a plain mail.
    const report = journalReport({
      subject: 'Über Postfix journalt',
      attached: original('Über Postfix journalt'),
      id: 'postfix',
    });
    const mails = [report, simpleMail('Noch eine', 'Zweite')];
    for (const m of mails) {
      const { replies } = await swaks(m, [
        '--server', '127.0.0.1', '--port', String(postfix.smtpPort),
        '--from', 'vertrieb@absender.example', '--to', 'jemand@kunde-pf.example',
      ]); // prettier-ignore
      expect(replies.at(-2)).toMatchObject({ code: 250 });
    }
    const got = await sealedMessages(ctx, t, mails.length, 90_000);
    for (const m of mails) {
      // Postfix prepends its Received: header; the rest is the mail as sent.
      const one = got.find((g) => g.plaintext.subarray(-m.length).equals(m));
      expect(one).toBeDefined();
      expect(one!.row.sha256.equals(sha256(one!.plaintext))).toBe(true);
    }
    // The report is read as the original it carries, Bcc included.
    const fromReport = got.find((g) => g.plaintext.subarray(-report.length).equals(report))!;
    expect(fromReport.metadata).toMatchObject({
      subject: 'Über Postfix journalt',
      journal: { parts: [0] },
      bcc: expect.arrayContaining([{ name: '', address: 'erin@contoso.example' }]),
    });
    expect(postfix.log()).toMatch(/TLS connection established to 127\.0\.0\.1/);
  }, 150_000);
});
