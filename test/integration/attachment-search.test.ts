import { pagesPdf } from '../helpers/pdf-pages';
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { strToU8, zipSync } from 'fflate';
import PDFDocument from 'pdfkit';
import { LmtpClient } from '../../infra/lmtp-client';
import { withTenant } from '../../lib/db/tenant-scope';
import type { ExtractedText } from '../../lib/extract/mail-documents';
import { mailAttachmentText } from '../../lib/search/attachment-text';
import { openMail } from '../../lib/mail/open';
import { changeOcrSetting } from '../../lib/auth/tenant-settings';
import type { SessionInfo } from '../../lib/auth/sessions';
import { readMailView, streamAttachment } from '../../lib/mail/read';
import { BlockCache } from '../../lib/search/block-cache';
import { indexWorkflowId, startIndexMaintenance } from '../../lib/search/index-maintenance';
import { setHold } from '../../lib/retention/holds';
import { mergeAll } from '../../lib/search/index-store';
import { parseQuery } from '../../lib/search/query';
import { openIndex } from '../../lib/search/tenant-index';
import { lock, unlock, unlockEpoch } from '../../lib/vault';
import { EpochKeyring } from '../../lib/vault/epoch-keyring';
import { decryptMailPart } from '../../lib/vault/mail-envelope';
import {
  archiveTenant,
  crlf,
  openArchiveContext,
  PASSWORD,
  sealedMessages,
  sha256,
} from '../helpers/archive';
import { FAST_ARGON2 } from '../helpers/ledger';
import { mailrepo } from '../helpers/portal';
import { compressedRtf, tnef } from '../helpers/tnef';
import { stackConfig } from '../helpers/stack-env';

/**
 * Issue 20 §1–2: words that exist only inside a mail's PDF (on its second page too) or in the
 * names inside its ZIP are found once the index job has read them under its grant; an encrypted
 * PDF is recorded as such (a scan as holding no text) and the mail stays searchable by everything else; `in:anhang`,
 * `in:text` and `dateityp:` narrow where a word must be; forwarded mails and Outlook's winmail.dat
 * are opened for theirs. Until the job ran,
 * the mail waits for it instead of entering the index without its documents' text. The text is
 * stored only encrypted under the mail's key.
 */

const cfg = stackConfig();
const run = promisify(execFile);
const dir = mkdtempSync(path.join(os.tmpdir(), 'mailrepo-attachments-'));

const pdf = pagesPdf;

/** A "scan": one page holding only a picture. */
async function scannedPdf(): Promise<Buffer> {
  const png = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==', 'base64'); // prettier-ignore
  const doc = new PDFDocument();
  const chunks: Buffer[] = [];
  doc.on('data', (c: Buffer) => chunks.push(c));
  const done = new Promise((r) => doc.on('end', r));
  doc.image(png, 72, 72, { width: 400 });
  doc.end();
  await done;
  return Buffer.concat(chunks);
}

const base64 = (b: Uint8Array) => Buffer.from(b).toString('base64').replace(/.{76}/g, '$&\n');

function mailWith(subject: string, parts: { name: string; type: string; data: Uint8Array }[]) {
  const boundary = `b-${randomUUID()}`;
  return crlf(
    `From: Lieferant <rechnung@lieferant.example>\nTo: Buchhaltung <archiv@dokumente.example>\n` +
      `Subject: ${subject}\nMessage-ID: <${randomUUID()}@lieferant.example>\n` +
      `Date: Tue, 01 Dec 2026 09:00:00 +0100\nMIME-Version: 1.0\n` +
      `Content-Type: multipart/mixed; boundary="${boundary}"\n\n` +
      `--${boundary}\nContent-Type: text/plain; charset=utf-8\n\nAnbei die Unterlagen.\n` +
      parts
        .map(
          (p) =>
            `--${boundary}\nContent-Type: ${p.type}; name="${p.name}"\n` +
            `Content-Disposition: attachment; filename="${p.name}"\n` +
            // A forwarded mail goes as it is (RFC 2046 allows no base64 for message/rfc822).
            (p.type === 'message/rfc822'
              ? `Content-Transfer-Encoding: 8bit\n\n${Buffer.from(p.data).toString('utf8')}\n`
              : `Content-Transfer-Encoding: base64\n\n${base64(p.data)}\n`),
        )
        .join('') +
      `--${boundary}--\n`,
  );
}

type Tenant = Awaited<ReturnType<typeof archiveTenant>>;
interface SignedIn {
  session: Awaited<ReturnType<typeof unlock>>;
  keyring: EpochKeyring;
  search: (q: string) => Promise<string[]>;
  runJob: () => Promise<number>;
}

describe('search inside attachments', () => {
  let ctx: Awaited<ReturnType<typeof openArchiveContext>>;
  beforeAll(async () => {
    ctx = await openArchiveContext(cfg);
  });
  afterAll(() => ctx.close());

  /** Sends `mail` to `address` over LMTP; its id once sealed (the tenant's `count`-th mail). */
  async function deliverSealed(t: Tenant, address: string, mail: Buffer, count = 1) {
    const lmtp = await LmtpClient.connect(cfg.LMTP_PORT);
    try {
      const reply = await lmtp.send(mail, 'journal@mta.example', [address]);
      expect(reply.data[address]).toMatch(/^250/);
    } finally {
      lmtp.close();
    }
    const sealed = await sealedMessages(ctx, t, count);
    return sealed.find((m) => m.row.sha256.equals(sha256(mail)))!.row.id;
  }

  /** The admin signed in: a keyring, the index job run, and searches as the portal does them. */
  async function signedIn(t: Tenant, fn: (s: SignedIn) => Promise<void>) {
    const session = await unlock(ctx.db, { tenantId: t.tenantId, email: t.email, password: PASSWORD, argon2: FAST_ARGON2 }); // prettier-ignore
    const keyring = new EpochKeyring(ctx.db, session);
    const search = async (q: string) => {
      await mergeAll(ctx.db, session, keyring);
      const index = await openIndex(ctx.db, t.tenantId, keyring, new BlockCache(16 * 2 ** 20));
      return (await index.search(parseQuery(q))).hits.map((d) => d.id);
    };
    const runJob = async () => {
      await startIndexMaintenance({ db: ctx.db, temporal: ctx.temporal, taskQueue: cfg.TEMPORAL_TASK_QUEUE }, session); // prettier-ignore
      return ctx.temporal.workflow.getHandle(indexWorkflowId(t.tenantId)).result();
    };
    try {
      await fn({ session, keyring, search, runJob });
    } finally {
      keyring.dispose();
      lock(session);
    }
  }

  it('finds words only a PDF or a ZIP holds, after the index job read them', async () => {
    const t = await archiveTenant(ctx, 'Dokumente GmbH', 'archiv@dokumente.example');
    writeFileSync(path.join(dir, 'offen.pdf'), await pdf(['Geheimwort Fischotter']));
    await run('qpdf', ['--encrypt', 'u', 'o', '256', '--', path.join(dir, 'offen.pdf'), path.join(dir, 'zu.pdf')]); // prettier-ignore
    const mail = mailWith('Rechnung November', [
      { name: 'Rechnung.pdf', type: 'application/pdf', data: await pdf(['Seite eins Zaunkönig', 'Seite zwei Kolibrirechnung']) }, // prettier-ignore
      { name: 'Vertraulich.pdf', type: 'application/pdf', data: readFileSync(path.join(dir, 'zu.pdf')) }, // prettier-ignore
      { name: 'Fotos.zip', type: 'application/octet-stream', data: zipSync({ 'Baustelle-Seeadlerweg.jpg': strToU8('jpg') }) }, // prettier-ignore
      { name: 'Scan.pdf', type: 'application/pdf', data: await scannedPdf() },
    ]);
    const id = await deliverSealed(t, 'archiv@dokumente.example', mail);
    await signedIn(t, async ({ session, keyring, search, runJob }) => {
      // Before the job read its documents, the mail waits: a merge leaves it queued.
      expect(await search('rechnung')).toEqual([]);
      const waiting = await withTenant(ctx.db, t.tenantId, (tx) =>
        tx.selectFrom('search_extract_queue').select('message_id').execute(),
      );
      expect(waiting.map((w) => w.message_id)).toEqual([id]);
      // The mail page says so, per attachment.
      expect((await mailAttachmentText(ctx.db, t.tenantId, keyring, id))!.status).toEqual([
        'pending',
        'pending',
        'pending',
        'pending',
      ]);

      expect(await runJob()).toBe(1);

      expect(await search('zaunkönig')).toEqual([id]);
      expect(await search('kolibrirechnung')).toEqual([id]);
      expect(await search('seeadlerweg')).toEqual([id]);
      expect(await search('kolibri*')).toEqual([id]);
      // The encrypted PDF's words are not there; the mail is found by everything else.
      expect(await search('fischotter')).toEqual([]);
      expect(await search('unterlagen')).toEqual([id]);
      // Where a word is: in:anhang / in:text (in:attachment / in:body), and file types.
      expect(await search('in:anhang zaunkönig')).toEqual([id]);
      expect(await search('in:text zaunkönig')).toEqual([]);
      expect(await search('in:body unterlagen')).toEqual([id]);
      expect(await search('in:attachment unterlagen')).toEqual([]);
      expect(await search('filetype:pdf kolibri*')).toEqual([id]);
      expect(await search('dateityp:docx')).toEqual([]);

      // What is stored: the text only under the mail's key, and each document's outcome.
      const row = await withTenant(ctx.db, t.tenantId, (tx) =>
        tx.selectFrom('messages').select(['enc_extracted', 'sealed_dek', 'epoch_id']).where('id', '=', id).executeTakeFirstOrThrow(),
      ); // prettier-ignore
      expect(row.enc_extracted!.includes(Buffer.from('Zaunk'))).toBe(false);
      const epoch = await unlockEpoch(ctx.db, session, row.epoch_id);
      const extracted = JSON.parse(
        (await decryptMailPart(epoch, t.tenantId, id, row.sealed_dek!, 'mail-extracted', row.enc_extracted!)).toString(),
      ) as ExtractedText; // prettier-ignore
      expect(extracted.parts).toEqual([
        { index: 0, filename: 'Rechnung.pdf', kind: 'pdf', status: 'indexed' },
        { index: 1, filename: 'Vertraulich.pdf', kind: 'pdf', status: 'encrypted' },
        { index: 2, filename: 'Fotos.zip', kind: 'zip', status: 'indexed' },
        { index: 3, filename: 'Scan.pdf', kind: 'pdf', status: 'no-text' },
      ]);
      expect(extracted.texts.filter((x) => x.index === 0).map((x) => x.page)).toEqual([1, 2]);
      // …and the mail page names the unreadable one, with its reason.
      expect((await mailAttachmentText(ctx.db, t.tenantId, keyring, id))!.status).toEqual([
        'indexed',
        'encrypted',
        'indexed',
        'no-text',
      ]);

      // A mail archived before documents were read (as every mail before this release): its
      // PDF's words are not found — until an operator rebuilds the index, which reads them.
      await withTenant(ctx.db, t.tenantId, (tx) =>
        tx.updateTable('messages').set({ enc_extracted: null }).where('id', '=', id).execute(),
      );
      await deliverSealed(t, 'archiv@dokumente.example', mailWith('Nur Text', []), 2);
      // As an operator does it: `mailrepo search rebuild`.
      expect(await mailrepo('search', 'rebuild', '--tenant', t.tenantId)).toMatch(
        /^2 mails queued/,
      );
      expect(await search('unterlagen')).toEqual([]);
      const again = await withTenant(ctx.db, t.tenantId, (tx) =>
        tx.selectFrom('search_extract_queue').select('message_id').execute(),
      );
      expect(again).toHaveLength(2);
      const audited = await withTenant(ctx.db, t.tenantId, (tx) =>
        tx.selectFrom('audit_events').select(['action', 'actor_type']).where('action', '=', 'search.rebuilt').execute(),
      ); // prettier-ignore
      expect(audited).toEqual([{ action: 'search.rebuilt', actor_type: 'operator' }]);
      expect(await runJob()).toBe(2);
      expect(await search('kolibrirechnung')).toEqual([id]);
      expect((await search('unterlagen')).sort()).toHaveLength(2);
      // The mail without documents was let through on its metadata: nothing read, nothing stored.
      const plainRow = await withTenant(ctx.db, t.tenantId, (tx) =>
        tx.selectFrom('messages').select('enc_extracted').where('id', '!=', id).executeTakeFirstOrThrow(),
      ); // prettier-ignore
      expect(plainRow.enc_extracted).toBeNull();
    });
  }, 240_000);

  it('reads a PDF inside a forwarded mail inside a forwarded mail, and holds it for its words', async () => {
    const t = await archiveTenant(ctx, 'Weiterleitung GmbH', 'archiv@weiter.example');
    // Holds set before the mail comes: one on a word only the inner PDF holds, one on the subject.
    const actor = { tenantId: t.tenantId, userId: t.adminUserId, ip: '127.0.0.1' };
    const byPdf = await setHold(ctx.db, actor, { query: 'wanderfalke', reason: 'Verfahren 1' }, []);
    const bySubject = await setHold(
      ctx.db,
      actor,
      { query: 'subject:original', reason: 'Verfahren 2' },
      [],
    );
    const inner = mailWith('Original mit Anhang', [
      { name: 'Angebot.pdf', type: 'application/pdf', data: await pdf(['Angebot Wanderfalke']) },
    ]);
    const middle = mailWith('Fwd: Original', [
      { name: 'original.eml', type: 'message/rfc822', data: inner },
    ]);
    const outer = mailWith('Fwd: Fwd: Original', [
      { name: 'weitergeleitet.eml', type: 'message/rfc822', data: middle },
    ]);
    const id = await deliverSealed(t, 'archiv@weiter.example', outer);
    await signedIn(t, async ({ keyring, search: ids, runJob }) => {
      expect(await runJob()).toBe(1);
      expect(await ids('wanderfalke')).toEqual([id]);
      expect(await ids('in:anhang wanderfalke')).toEqual([id]);
      expect(await ids('in:text wanderfalke')).toEqual([]);
      const text = (await mailAttachmentText(ctx.db, t.tenantId, keyring, id))!;
      expect(text.status).toEqual(['indexed']);
      expect(text.nested).toEqual([
        {
          index: 0,
          filename: 'weitergeleitet.eml › original.eml › Angebot.pdf',
          status: 'indexed',
        },
      ]);
      // Held by the PDF's word once it was read; the subject's hold (from ingest) counted once.
      const held = await withTenant(ctx.db, t.tenantId, (tx) =>
        tx.selectFrom('legal_holds').select(['id', 'matched']).execute(),
      );
      expect(new Map(held.map((h) => [h.id, h.matched]))).toEqual(
        new Map([
          [byPdf.holdId, 1],
          [bySubject.holdId, 1],
        ]),
      );
      const members = await withTenant(ctx.db, t.tenantId, (tx) =>
        tx.selectFrom('legal_hold_messages').select(['hold_id', 'message_id']).execute(),
      );
      expect(members).toHaveLength(2);
      expect(members.every((m) => m.message_id === id)).toBe(true);
    });
  }, 120_000);

  it("reads the attachments and body inside Outlook's winmail.dat", async () => {
    const t = await archiveTenant(ctx, 'Outlook GmbH', 'archiv@outlook-kunde.example');
    // Outlook sends the body as compressed RTF among the message properties, often with no plain
    // body beside it; both are read.
    const winmail = tnef(
      'Textkörper mit Eisvogelbrücke',
      [
        { name: 'Angebot Seeschwalbe.pdf', data: await pdf(['Angebot Seeschwalbenweg']) },
        { name: 'liste.txt', data: Buffer.from('Teichrohrsänger') },
      ],
      { rtfCompressed: compressedRtf('{\\rtf1\\ansi Brief vom Wiedehopfhof\\par}') },
    );
    const mail = mailWith('Outlook-Mail', [
      { name: 'winmail.dat', type: 'application/ms-tnef', data: winmail },
    ]);
    const id = await deliverSealed(t, 'archiv@outlook-kunde.example', mail);
    await signedIn(t, async ({ keyring, search: ids, runJob }) => {
      expect(await runJob()).toBe(1);
      for (const word of [
        'seeschwalbenweg',
        'teichrohrsanger',
        'eisvogelbrucke',
        'wiedehopfhof',
        'in:anhang seeschwalbe',
      ])
        expect({ word, ids: await ids(word) }).toEqual({ word, ids: [id] });
      const text = (await mailAttachmentText(ctx.db, t.tenantId, keyring, id))!;
      expect(text.status).toEqual(['indexed']);
      expect(text.nested).toEqual([
        { index: 0, filename: 'winmail.dat › Angebot Seeschwalbe.pdf', status: 'indexed' },
      ]);
    });
  }, 120_000);

  it('reads files uuencoded in the text of a mail without MIME, and offers them as attachments', async () => {
    const t = await archiveTenant(ctx, 'Altbestand GmbH', 'archiv@uralt.example');
    const report = await pdf(['Bericht vom Uhuweg']);
    const uu = async (name: string, data: Buffer) =>
      `begin 644 ${name}\n` +
      (await run('python3', ['-c', `import sys,binascii\nd=bytes.fromhex(sys.argv[1])\nfor i in range(0,len(d),45): sys.stdout.write(binascii.b2a_uu(d[i:i+45],backtick=True).decode())`, data.toString('hex')])) // prettier-ignore
      .stdout +
      '`\nend\n';
    const mail = crlf(
      `From: Alt <alt@lieferant.example>\nTo: archiv@uralt.example\nSubject: Altes Programm\n` +
        `Message-ID: <${randomUUID()}@lieferant.example>\nDate: Tue, 01 Dec 2026 09:00:00 +0100\n\n` +
        `Hallo, anbei mit uuencode wie früher: Neuntöter.\n\n` +
        (await uu('bericht.pdf', report)) +
        '\n' +
        (await uu('notiz.txt', Buffer.from('Notiz zum Zilpzalp\n'))),
    );
    const id = await deliverSealed(t, 'archiv@uralt.example', mail);
    await signedIn(t, async ({ keyring, search: ids, runJob }) => {
      expect(await runJob()).toBe(1);
      for (const word of ['uhuweg', 'in:anhang zilpzalp', 'neuntoter', 'dateityp:pdf bericht'])
        expect({ word, ids: await ids(word) }).toEqual({ word, ids: [id] });
      // The encoded lines are no words of the text.
      expect(await ids('in:text zilpzalp')).toEqual([]);
      expect((await mailAttachmentText(ctx.db, t.tenantId, keyring, id))!.status).toEqual([
        'indexed',
        'indexed',
      ]);
      const view = await readMailView((await openMail(ctx, t.tenantId, keyring, id))!.plain);
      expect(view.attachments.map((a) => [a.index, a.filename, a.size, a.sha256])).toEqual([
        [0, 'bericht.pdf', report.length, sha256(report).toString('hex')],
        [1, 'notiz.txt', 19, sha256(Buffer.from('Notiz zum Zilpzalp\n')).toString('hex')],
      ]);
      expect(view.text).toMatch(/Neuntöter\.\n\n\[bericht\.pdf\]\n\n\[notiz\.txt\]/);
      const chunks: Buffer[] = [];
      const found = await streamAttachment(
        (await openMail(ctx, t.tenantId, keyring, id))!.plain,
        { index: 0 },
        async (info, content) => {
          expect(info.filename).toBe('bericht.pdf');
          for await (const c of content) chunks.push(c as Buffer);
        },
      );
      expect(found).toBe(true);
      expect(Buffer.concat(chunks)).toEqual(report);
    });
  }, 120_000);

  it('recognises the text of scans and images once the tenant switches OCR on (off by default)', async () => {
    const t = await archiveTenant(ctx, 'Scanbüro GmbH', 'archiv@scanbuero.example');
    // A "scanned" letter: text typeset, then made an image-only PDF by Ghostscript; and a photo
    // of a receipt as PNG (a page rendered by pdftoppm).
    writeFileSync(path.join(dir, 'brief.pdf'), await pdf(['Mahnung wegen Rohrdommelstraße', 'Zweite Seite Schellentenweg'])); // prettier-ignore
    await run('gs', ['-q', '-sDEVICE=pdfimage24', '-r150', '-o', path.join(dir, 'scan.pdf'), path.join(dir, 'brief.pdf')]); // prettier-ignore
    await run('pdftoppm', ['-f', '2', '-l', '2', '-png', '-r', '150', '-singlefile', path.join(dir, 'brief.pdf'), path.join(dir, 'seite')]); // prettier-ignore
    const scan = readFileSync(path.join(dir, 'scan.pdf'));
    expect((await run('pdftotext', [path.join(dir, 'scan.pdf'), '-'])).stdout.trim()).toBe('');
    const mailOf = (subject: string) =>
      mailWith(subject, [
        { name: 'Scan.pdf', type: 'application/pdf', data: scan },
        { name: 'Beleg.png', type: 'image/png', data: readFileSync(path.join(dir, 'seite.png')) },
      ]);
    const before = await deliverSealed(t, 'archiv@scanbuero.example', mailOf('Vor dem Einschalten')); // prettier-ignore
    const owner = { tenantId: t.tenantId, userId: t.adminUserId, role: 'owner' } as SessionInfo;
    const member = { ...owner, role: 'member' } as SessionInfo;
    await signedIn(t, async ({ keyring, search: ids, runJob }) => {
      // Off by default: the scan holds no text, the image only its name.
      expect(await runJob()).toBe(1);
      expect((await mailAttachmentText(ctx.db, t.tenantId, keyring, before))!.status).toEqual([
        'no-text',
        'name',
      ]);
      expect(await ids('schellentenweg')).toEqual([]);

      // Only owners and admins may switch it on; the change is audited in its transaction.
      expect(await changeOcrSetting(ctx.db, member, true, '192.0.2.7')).toBe(false);
      expect(await changeOcrSetting(ctx.db, owner, true, '192.0.2.7')).toBe(true);
      const audited = await withTenant(ctx.db, t.tenantId, (tx) =>
        tx.selectFrom('audit_events').select(['target_id', 'details']).where('action', '=', 'setting.changed').execute(),
      ); // prettier-ignore
      expect(audited).toEqual([{ target_id: 'ocr_enabled', details: { from: false, to: true } }]);

      const after = await deliverSealed(t, 'archiv@scanbuero.example', mailOf('Nach dem Einschalten'), 2); // prettier-ignore
      // A mail with only a picture waits for the job too, now that there is something to read.
      const picture = mailWith('Nur ein Foto', [{ name: 'Foto.png', type: 'image/png', data: readFileSync(path.join(dir, 'seite.png')) }]); // prettier-ignore
      const photo = await deliverSealed(t, 'archiv@scanbuero.example', picture, 3);
      expect(await runJob()).toBe(2);
      expect((await ids('schellentenweg')).sort()).toEqual([after, photo].sort());
      expect(await ids('schellentenweg nach')).toEqual([after]);
      // Page 2 of the scan, and the image, by words only their pictures hold.
      expect(await ids('rohrdommelstrasse')).toEqual([after]);
      expect(await ids('dateityp:pdf einschalten')).toEqual(
        expect.arrayContaining([before, after]),
      );
      expect((await mailAttachmentText(ctx.db, t.tenantId, keyring, after))!.status).toEqual([
        'ocr',
        'ocr',
      ]);
      // Kept per page, as the text of other PDFs is.
      const row = await withTenant(ctx.db, t.tenantId, (tx) =>
        tx.selectFrom('messages').select(['enc_extracted', 'sealed_dek', 'epoch_id']).where('id', '=', after).executeTakeFirstOrThrow(),
      ); // prettier-ignore
      const extracted = JSON.parse(
        (await decryptMailPart(await keyring.get(row.epoch_id), t.tenantId, after, row.sealed_dek!, 'mail-extracted', row.enc_extracted!)).toString(),
      ) as ExtractedText; // prettier-ignore
      expect(extracted.texts.filter((x) => x.index === 0).map((p) => p.page)).toEqual([1, 2]);
    });
  }, 180_000);
});
