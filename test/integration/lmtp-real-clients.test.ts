import type { Client } from '@temporalio/client';
import { createDb, type Db } from '../../lib/db';
import { freePort } from '../../infra/processes';
import { createS3 } from '../../lib/storage/s3';
import { connectTemporal } from '../../lib/temporal/client';
import {
  archived,
  archiveTenant,
  crlf,
  sealedMessages,
  sha256,
  simpleMail,
  type ArchiveContext,
} from '../helpers/archive';
import { startPostfix, type PostfixInstance } from '../helpers/postfix';
import { stackConfig } from '../helpers/stack-env';
import { swaks } from '../helpers/swaks';

/**
 * Issue 6 with the clients customers' servers really use: swaks speaking LMTP to the worker, and
 * a Postfix instance that takes SMTP and delivers over LMTP with STARTTLS, as a journaling MTA.
 * Both come from Debian (installed by `npm test`'s pre-step).
 */

const cfg = stackConfig();
const s3 = createS3(cfg);
let db: Db;
let temporal: Client;
let ctx: ArchiveContext;

beforeAll(async () => {
  db = createDb(cfg.DATABASE_URL, 4);
  temporal = await connectTemporal(cfg);
  ctx = { db, temporal, s3, bucket: cfg.S3_BUCKET };
});
afterAll(async () => {
  await db.destroy();
  await temporal.connection.close();
  s3.destroy();
});

const lmtpArgs = (to: string[]) => [
  '--protocol',
  'LMTP',
  '--server',
  '127.0.0.1',
  '--port',
  String(cfg.LMTP_PORT),
  '--tls',
  '--from',
  'journal@kunde.example',
  '--to',
  to.join(','),
];

describe('swaks over LMTP', () => {
  it('STARTTLS, two tenants and an unknown recipient: per-recipient replies, byte-exact', async () => {
    const a = await archiveTenant(ctx, 'Swaks A GmbH', 'archiv@swaks-a.example');
    const b = await archiveTenant(ctx, 'Swaks B GmbH', 'archiv@swaks-b.example');
    const mail = simpleMail('Lieferschein Nr. 99', 'Grüße aus Köln, 8-bit im Text: äöüß €');
    const { out, replies } = await swaks(
      mail,
      lmtpArgs(['archiv@swaks-a.example', 'niemand@swaks-a.example', 'archiv@swaks-b.example']),
    );
    expect(out).toMatch(/TLS started/);
    expect(replies).toContainEqual({ code: 550, text: expect.stringMatching(/^5\.1\.1/) });
    // After DATA: one 250 per accepted recipient (LMTP), none for the refused one.
    expect(replies.filter((r) => /archived/.test(r.text))).toHaveLength(2);
    const [inA, inB] = await Promise.all([archived(ctx, a, mail), archived(ctx, b, mail)]);
    expect(inA.plaintext.equals(mail)).toBe(true);
    expect(inB.plaintext.equals(mail)).toBe(true);
    expect(inA.metadata).toMatchObject({
      envelope: { rcptTo: ['archiv@swaks-a.example'] },
    });
  }, 60_000);

  it('archives malformed MIME byte-exact', async () => {
    const t = await archiveTenant(ctx, 'Swaks Kaputt GmbH', 'archiv@swaks-kaputt.example');
    const malformed = crlf(
      'From: =?utf-8?B?broken\nSubject: Halb\nContent-Type: multipart/mixed; boundary="x"\n' +
        'Content-Transfer-Encoding: base64\n\n--x\nContent-Type: text/html\n\n<p>ohne Ende\n' +
        '--y\n\x01 binär \xff\n.starts with a dot\n',
    );
    const { replies } = await swaks(malformed, lmtpArgs(['archiv@swaks-kaputt.example']));
    expect(replies.filter((r) => /archived/.test(r.text))).toHaveLength(1);
    const m = await archived(ctx, t, malformed);
    expect(m.plaintext.equals(malformed)).toBe(true);
    expect(m.row.sha256.equals(sha256(malformed))).toBe(true);
  }, 60_000);
});

describe('Postfix delivering over LMTP', () => {
  let postfix: PostfixInstance;
  beforeAll(async () => {
    postfix = await startPostfix({
      smtpPort: await freePort(),
      lmtpPort: cfg.LMTP_PORT,
      relayDomains: ['pf-a.example', 'pf-b.example'],
    });
  }, 60_000);
  afterAll(() => postfix?.stop());

  const viaPostfix = (mail: Buffer, to: string[]) =>
    swaks(mail, [
      '--server',
      '127.0.0.1',
      '--port',
      String(postfix.smtpPort),
      '--from',
      'vertrieb@absender.example',
      '--to',
      to.join(','),
    ]);

  async function delivered(): Promise<string> {
    for (let i = 0; i < 120 && !postfix.queueEmpty(); i++)
      await new Promise((r) => setTimeout(r, 500));
    return postfix.log();
  }

  it('journals to two tenants over STARTTLS; the unknown recipient bounces; mails intact', async () => {
    const a = await archiveTenant(ctx, 'Postfix A GmbH', 'archiv@pf-a.example');
    const b = await archiveTenant(ctx, 'Postfix B GmbH', 'archiv@pf-b.example');
    const mails = [
      simpleMail('Über Postfix', 'Zeile mit Umlauten: äöü\n.Zeile mit Punkt am Anfang\n'),
      crlf(
        'From: =?utf-8?B?broken\nSubject: Kaputt über Postfix\nContent-Type: multipart/mixed; boundary="x"\n\n' +
          '--x\nContent-Type: text/plain\n\nTeil eins ohne Ende\n--y\n',
      ),
    ];
    for (const m of mails) {
      const { replies } = await viaPostfix(m, [
        'archiv@pf-a.example',
        'unbekannt@pf-a.example',
        'archiv@pf-b.example',
      ]);
      expect(replies.at(-2)).toMatchObject({ code: 250, text: expect.stringMatching(/queued/) });
    }
    const log = await delivered();
    expect(log).toMatch(/TLS connection established to 127\.0\.0\.1/);
    expect(log.match(/to=<archiv@pf-a\.example>.*status=sent/g)).toHaveLength(mails.length);
    expect(log.match(/to=<archiv@pf-b\.example>.*status=sent/g)).toHaveLength(mails.length);
    expect(log.match(/to=<unbekannt@pf-a\.example>.*status=bounced.*5\.1\.1/g)).toHaveLength(
      mails.length,
    );
    for (const tenant of [a, b]) {
      const got = await sealedMessages(ctx, tenant, mails.length);
      expect(got).toHaveLength(mails.length);
      for (const m of mails) {
        // Postfix prepends its Received: header; everything after it is the sent mail, unchanged,
        // and the archive's hash is over exactly the bytes Postfix delivered.
        const one = got.find((g) => g.plaintext.subarray(-m.length).equals(m));
        expect(one).toBeDefined();
        expect(one!.plaintext.toString('latin1')).toMatch(/^Received: from /);
        expect(one!.row.sha256.equals(sha256(one!.plaintext))).toBe(true);
      }
    }
  }, 120_000);
});
