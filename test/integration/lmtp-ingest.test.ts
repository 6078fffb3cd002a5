import { execFile, execFileSync, spawn } from 'node:child_process';
import { ArchiveBatcher } from '../../lib/ingest/archive-batcher';
import { promisify } from 'node:util';
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { GetObjectCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';
import { Client, Connection } from '@temporalio/client';
import { createDb, type Db } from '../../lib/db';
import { withTenant } from '../../lib/db/tenant-scope';
import { freePort } from '../../infra/processes';
import { archivedOf } from '../../infra/mail-load';
import { createLmtpServer, type LmtpOptions } from '../../lib/ingest/lmtp-server';
import { createLogger } from '../../lib/log';
import { createS3 } from '../../lib/storage/s3';
import { connectTemporal } from '../../lib/temporal/client';
import { batchStagesQuery } from '../../contracts/archive';
import { MAIL_IDS, MAIL_STAGE, TENANT_ID } from '../../contracts/search-attributes';
import {
  archived as archived_,
  archiveTenant as archiveTenant_,
  archiveWorkflowOf,
  sealedMessages,
  crlf,
  sha256,
  simpleMail,
  type ArchiveContext,
} from '../helpers/archive';
import { stackConfig } from '../helpers/stack-env';
import { startOwnWorker } from '../helpers/worker';
import { foundIn } from '../helpers/needles';

const cfg = stackConfig();
const execFileAsync = promisify(execFile);
const s3 = createS3(cfg);
const SENDER = path.join(__dirname, '../helpers/lmtp_send.py');
let db: Db;
let temporal: Client;
let ctx: ArchiveContext;

beforeAll(async () => {
  db = createDb(cfg.DATABASE_URL, 6);
  temporal = await connectTemporal(cfg);
  ctx = { db, temporal, s3, bucket: cfg.S3_BUCKET };
});
afterAll(async () => {
  await db.destroy();
  await temporal.connection.close();
  s3.destroy();
});

interface SendResult {
  lhlo: [number, string];
  mail?: [number, string];
  rcpt: Record<string, [number, string]>;
  data: Record<string, [number, string]>[];
}

/** Asynchronous, so that a server in this process can answer meanwhile. */
async function send(
  mail: Buffer,
  rcpts: string[],
  opts: { port?: number; flags?: string[] } = {},
): Promise<SendResult> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'mailrepo-lmtp-'));
  try {
    writeFileSync(path.join(dir, 'mail.eml'), mail);
    const { stdout: out } = await execFileAsync(
      'python3',
      [
        SENDER,
        '127.0.0.1',
        String(opts.port ?? cfg.LMTP_PORT),
        path.join(dir, 'mail.eml'),
        'journal@kunde.example',
        ...rcpts,
        ...(opts.flags ?? []),
      ],
      { encoding: 'utf8', maxBuffer: 1 << 20, timeout: 120_000 },
    );
    return JSON.parse(out) as SendResult;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const archiveTenant = (name: string, address: string) => archiveTenant_(ctx, name, address);
const archived = (tenant: { tenantId: string; email: string }, mail: Buffer) =>
  archived_(ctx, tenant, mail);

describe('LMTP ingest on the real worker', () => {
  it('archives a mail for one recipient: 250 only after storage, byte-exact, sealed', async () => {
    const t = await archiveTenant('Eins GmbH', 'archiv@eins.example');
    const mail = simpleMail('Rechnung 4711 – Müller');
    const r = await send(mail, ['archiv@eins.example']);
    expect(r.lhlo[0]).toBe(250);
    expect(r.lhlo[1]).toMatch(/PIPELINING/);
    expect(r.lhlo[1]).toMatch(/8BITMIME/);
    expect(r.lhlo[1]).toMatch(/SMTPUTF8/);
    expect(r.lhlo[1]).toMatch(/STARTTLS/);
    expect(r.data[0]!['archiv@eins.example']![0]).toBe(250);

    const a = await archived(t, mail);
    expect(a.plaintext.equals(mail)).toBe(true);
    // Ops find the mail's workflow by its id or its SHA-256, and see how far it came.
    const handle = await archiveWorkflowOf(temporal, a.row.id);
    const bySha = temporal.workflow.list({
      query: `MailSha256 = '${sha256(mail).toString('hex')}'`,
    });
    for await (const wf of bySha) expect(wf.workflowId).toBe(handle.workflowId);
    expect(await handle.query(batchStagesQuery)).toEqual({ [a.row.id]: 'ledgered' });
    const desc = await handle.describe();
    expect(desc.typedSearchAttributes.get(MAIL_STAGE)).toBe('ledgered');
    expect(desc.typedSearchAttributes.get(TENANT_ID)).toBe(t.tenantId);
    expect(desc.typedSearchAttributes.get(MAIL_IDS)).toEqual([a.row.id]);
    expect(a.row.sha256.equals(sha256(mail))).toBe(true);
    expect(a.row.state).toBe('sealed');
    expect(a.metadata).toMatchObject({
      subject: 'Rechnung 4711 – Müller',
      from: [{ name: 'Buchhaltung', address: 'buchhaltung@kunde.example' }],
      envelope: { mailFrom: 'journal@kunde.example', rcptTo: ['archiv@eins.example'] },
    });
    expect(a.tokens).toEqual(expect.arrayContaining(['rechnung', '4711', 'muller', 'unterlagen']));
    // Nothing readable stored: not in the row, not in the object store.
    // Every column as its bytes (JSON.stringify would turn a bytea into a list of numbers).
    const columns = Buffer.concat(
      Object.values(a.row).map((v) =>
        Buffer.isBuffer(v) ? v : Buffer.from(v instanceof Date ? v.toISOString() : String(v)),
      ),
    );
    for (const word of ['Unterlagen', 'Rechnung 4711'])
      expect(foundIn(columns, Buffer.from(word), word)).toEqual([]);
    const raw = await s3.send(
      new GetObjectCommand({ Bucket: cfg.S3_BUCKET, Key: a.row.object_key! }),
    );
    const stored = Buffer.from(await raw.Body!.transformToByteArray());
    expect(foundIn(stored, Buffer.from('Unterlagen'), 'Unterlagen')).toEqual([]);
    // Stored once, where it stays: no staging copy beside it (decision 0020).
    expect(a.row.object_key).toMatch(new RegExp(`^mail/${t.tenantId}/`));
    const objects = await s3.send(
      new ListObjectsV2Command({ Bucket: cfg.S3_BUCKET, Prefix: `staging/${t.tenantId}/` }),
    );
    expect(objects.KeyCount ?? 0).toBe(0);
  }, 60_000);

  it('answers per recipient across two tenants, refusing an unknown one at RCPT', async () => {
    const a = await archiveTenant('Zwei A GmbH', 'archiv@zwei-a.example');
    const b = await archiveTenant('Zwei B GmbH', 'archiv@zwei-b.example');
    const mail = simpleMail('Gemeinsames Projekt');
    const r = await send(mail, [
      'archiv@zwei-a.example',
      'niemand@nirgends.example',
      'ARCHIV@zwei-b.example',
    ]);
    expect(r.rcpt['niemand@nirgends.example']![0]).toBe(550);
    expect(r.rcpt['niemand@nirgends.example']![1]).toMatch(/^5\.1\.1/);
    expect(r.data[0]!['archiv@zwei-a.example']![0]).toBe(250);
    expect(r.data[0]!['ARCHIV@zwei-b.example']![0]).toBe(250);
    const [inA, inB] = await Promise.all([archived(a, mail), archived(b, mail)]);
    expect(inA.plaintext.equals(mail) && inB.plaintext.equals(mail)).toBe(true);
    // One ciphertext per tenant, each under its own tenant's keys.
    expect(inA.row.object_key).not.toBe(inB.row.object_key);
    expect(inA.row.ciphertext_sha256.equals(inB.row.ciphertext_sha256)).toBe(false);
  }, 60_000);

  it('records a re-delivery as a duplicate receipt, not a second archive entry', async () => {
    const t = await archiveTenant('Doppelt GmbH', 'archiv@doppelt.example');
    const mail = simpleMail('Zweimal zugestellt');
    expect(
      (await send(mail, ['archiv@doppelt.example'])).data[0]!['archiv@doppelt.example']![0],
    ).toBe(250);
    await archived(t, mail);
    const again = await send(mail, ['archiv@doppelt.example']);
    // Accepted, recorded as a duplicate receipt; "already archived" is said only to the tenant's
    // own authenticated servers (test/security/lmtp-auth), not to this unauthenticated dev session.
    expect(again.data[0]!['archiv@doppelt.example']).toEqual([
      250,
      expect.stringMatching(/^2\.0\.0 \S+ archived$/),
    ]);
    const rows = await withTenant(db, t.tenantId, (tx) =>
      tx.selectFrom('messages').select('id').where('tenant_id', '=', t.tenantId).execute(),
    );
    expect(rows).toHaveLength(1);
    const receipts = await withTenant(db, t.tenantId, (tx) =>
      tx.selectFrom('message_receipts').select('duplicate').orderBy('received_at').execute(),
    );
    expect(receipts.map((x) => x.duplicate)).toEqual([false, true]);
    // The duplicate's own ciphertext was removed: one object for the one archive entry.
    const objects = await s3.send(
      new ListObjectsV2Command({ Bucket: cfg.S3_BUCKET, Prefix: `mail/${t.tenantId}/` }),
    );
    expect(objects.KeyCount ?? 0).toBe(1);
  }, 60_000);

  it('archives malformed MIME byte-exact, and 8-bit UTF-8 headers over SMTPUTF8', async () => {
    const t = await archiveTenant('Kaputt GmbH', 'archiv@kaputt.example');
    const malformed = crlf(
      'From: =?utf-8?B?broken\nSubject: Unvollständig\nContent-Type: multipart/mixed; boundary="x"\n\n' +
        '--x\nContent-Type: text/plain\n\nTeil eins ohne Ende\n--y\n\x00\x01 binär \xff\n',
    );
    const utf8 = crlf(
      'From: Jürgen Groß <jürgen@größe.example>\nSubject: Übergrößenträger ✓\n\nÄÖÜ\n',
    );
    expect(
      (await send(malformed, ['archiv@kaputt.example'])).data[0]!['archiv@kaputt.example']![0],
    ).toBe(250);
    const u = await send(utf8, ['archiv@kaputt.example'], { flags: ['--smtputf8'] });
    expect(u.data[0]!['archiv@kaputt.example']![0]).toBe(250);
    const m = await archived(t, malformed);
    expect(m.plaintext.equals(malformed)).toBe(true);
    const x = await archived(t, utf8);
    expect(x.plaintext.equals(utf8)).toBe(true);
    expect(x.metadata).toMatchObject({ subject: 'Übergrößenträger ✓' });
  }, 60_000);

  it('archives a 30 MB attachment through multipart staging, byte-exact', async () => {
    const t = await archiveTenant('Anhang GmbH', 'archiv@anhang.example');
    const attachment = randomBytes(30 * 1024 * 1024);
    const mail = crlf(
      'From: a@kunde.example\nTo: b@kunde.example\nSubject: Groß\nMIME-Version: 1.0\n' +
        'Content-Type: multipart/mixed; boundary="b1"\n\n--b1\nContent-Type: text/plain\n\nSiehe Anhang.\n' +
        '--b1\nContent-Type: application/octet-stream\nContent-Disposition: attachment; filename="daten.bin"\n' +
        `Content-Transfer-Encoding: base64\n\n${attachment.toString('base64').replace(/.{76}/g, '$&\n')}\n--b1--\n`,
    );
    const r = await send(mail, ['archiv@anhang.example']);
    expect(r.data[0]!['archiv@anhang.example']![0]).toBe(250);
    const a = await archived(t, mail);
    expect(a.row.sha256.equals(sha256(mail))).toBe(true);
    expect(a.plaintext.length).toBe(mail.length);
    expect(a.plaintext.equals(mail)).toBe(true);
    expect(a.metadata).toMatchObject({
      attachments: [
        {
          filename: 'daten.bin',
          size: attachment.length,
          sha256: sha256(attachment).toString('hex'),
        },
      ],
    });
  }, 120_000);

  it('takes several mails in one pipelined session', async () => {
    const t = await archiveTenant('Stapel GmbH', 'archiv@stapel.example');
    const mails = [1, 2, 3].map((i) => simpleMail(`Stapel ${i}`, `Inhalt ${i} ${randomUUID()}`));
    const transcript = await rawSession([
      'LHLO test.example',
      ...mails.flatMap((m) => [
        'MAIL FROM:<journal@kunde.example>',
        'RCPT TO:<archiv@stapel.example>',
        'DATA',
        `${m.toString()}.`,
      ]),
      'QUIT',
    ]);
    expect(transcript.match(/^250 2\.0\.0 \S+ archived/gm)).toHaveLength(3);
    for (const m of mails) expect((await archived(t, m)).plaintext.equals(m)).toBe(true);
  }, 60_000);
});

/**
 * A raw session that has sent LHLO, MAIL, RCPT and DATA and got 354: the caller writes the mail.
 * `retries` waits for a server that is still starting.
 */
async function intoData(port: number, rcpt: string, retries = 0) {
  const socket = await new Promise<net.Socket>((resolve, reject) => {
    const attempt = (n: number) => {
      const s = net.connect({ host: '127.0.0.1', port });
      s.once('connect', () => resolve(s));
      s.once('error', (e) => (n > 0 ? setTimeout(() => attempt(n - 1), 200) : reject(e)));
    };
    attempt(retries);
  });
  let text = '';
  socket.on('data', (d) => (text += d.toString()));
  socket.on('error', () => {});
  const until = async (re: RegExp) => {
    for (let i = 0; i < 200 && !re.test(text); i++) await new Promise((r) => setTimeout(r, 25));
    expect(text).toMatch(re);
  };
  await until(/^220 /m);
  socket.write(`LHLO t.example\r\nMAIL FROM:<j@kunde.example>\r\nRCPT TO:<${rcpt}>\r\nDATA\r\n`);
  await until(/^354 /m);
  return { socket, until, transcript: () => text };
}

/** A raw LMTP session that pipelines every command group (RFC 2920) and collects the replies. */
function rawSession(lines: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: '127.0.0.1', port: cfg.LMTP_PORT });
    let out = '';
    socket.setTimeout(60_000, () => socket.destroy(new Error(`timeout:\n${out}`)));
    socket.on('error', reject);
    socket.once('data', () => {
      // Greeting received: send everything up to each DATA at once, the data after its 354.
      let rest = [...lines];
      const flush = () => {
        const i = rest.indexOf('DATA');
        const batch = i < 0 ? rest : rest.slice(0, i + 1);
        rest = i < 0 ? [] : rest.slice(i + 1);
        socket.write(batch.map((l) => `${l}\r\n`).join(''));
      };
      socket.on('data', (d) => {
        out += d.toString();
        if (/^354 /m.test(d.toString()) && rest.length) {
          socket.write(`${rest.shift()}\r\n`);
          flush();
        }
      });
      flush();
    });
    socket.on('close', () => resolve(out));
  });
}

describe('LMTP limits and shutdown (the same server code, in process)', () => {
  const log = createLogger('lmtp-test', { level: 'silent' });
  async function start(opts: Partial<LmtpOptions>, store = s3, workflows = temporal) {
    const lmtp = createLmtpServer(
      {
        db,
        s3: store,
        bucket: cfg.S3_BUCKET,
        archive: new ArchiveBatcher(workflows, cfg.TEMPORAL_TASK_QUEUE),
        log,
      },
      {
        requireTls: false,
        maxMessageBytes: 1024 * 1024,
        maxConnections: 10,
        maxConcurrentMails: 4,
        maxRecipients: 100,
        maxConnectionsPerIp: 20,
        allowUnauthenticated: true,
        banner: 'test',
        ...opts,
      },
    );
    await new Promise<void>((r) => lmtp.server.listen(0, '127.0.0.1', r));
    return { lmtp, port: (lmtp.server.server.address() as net.AddressInfo).port };
  }

  it('refuses an oversize mail with 552 and leaves nothing behind', async () => {
    const t = await archiveTenant('Gross GmbH', 'archiv@gross.example');
    const { lmtp, port } = await start({});
    try {
      const big = Buffer.concat([
        simpleMail('Zu groß'),
        crlf(randomBytes(1024 * 1024).toString('base64')),
      ]);
      const r = await send(big, ['archiv@gross.example'], { port });
      expect(r.data[0]!['archiv@gross.example']![0]).toBe(552);
      const rows = await withTenant(db, t.tenantId, (tx) =>
        tx.selectFrom('messages').select('id').execute(),
      );
      expect(rows).toEqual([]);
      const objects = await s3.send(
        new ListObjectsV2Command({ Bucket: cfg.S3_BUCKET, Prefix: `mail/${t.tenantId}/` }),
      );
      expect(objects.KeyCount ?? 0).toBe(0);
    } finally {
      await lmtp.drain(1000);
    }
  }, 60_000);

  it('drains on shutdown: the mail in flight gets 250, new connections get 421', async () => {
    const t = await archiveTenant('Neustart GmbH', 'archiv@neustart.example');
    const { lmtp, port } = await start({});
    const mail = simpleMail('Während des Neustarts');
    // A client that stops in the middle of DATA until the drain has begun.
    const { socket, until } = await intoData(port, 'archiv@neustart.example');
    socket.write(mail.subarray(0, 40));
    while (lmtp.inFlight === 0) await new Promise((r) => setTimeout(r, 10));
    const drained = lmtp.drain(10_000);
    const late = await new Promise<string>((resolve) => {
      const c = net.connect({ host: '127.0.0.1', port });
      let out = '';
      c.on('data', (d) => (out += d.toString()));
      c.on('close', () => resolve(out));
      c.on('error', () => resolve(out || 'refused'));
    });
    expect(late).toMatch(/^421 /);
    socket.write(Buffer.concat([mail.subarray(40), Buffer.from('.\r\nQUIT\r\n')]));
    await drained;
    await until(/^250 2\.0\.0 \S+ archived/m);
    socket.destroy();
    expect((await archived(t, mail)).plaintext.equals(mail)).toBe(true);
  }, 60_000);

  it('answers 451 and keeps nothing when object storage is unreachable', async () => {
    const t = await archiveTenant('Ohne Speicher GmbH', 'archiv@ohne-speicher.example');
    const deadS3 = createS3({ ...cfg, S3_ENDPOINT: 'http://127.0.0.1:1' });
    const { lmtp, port } = await start({ maxMessageBytes: 50 * 1024 * 1024 }, deadS3);
    try {
      // Large enough for multipart, so the failure comes while data still streams in.
      const mail = Buffer.concat([
        simpleMail('Speicher weg'),
        crlf(
          `${randomBytes(8 * 1024 * 1024)
            .toString('base64')
            .replace(/.{76}/g, '$&\n')}\n`,
        ),
      ]);
      const r = await send(mail, ['archiv@ohne-speicher.example'], { port });
      expect(r.data[0]!['archiv@ohne-speicher.example']).toEqual([
        451,
        expect.stringMatching(/^4\.3\.0/),
      ]);
      const rows = await withTenant(db, t.tenantId, (tx) =>
        tx.selectFrom('messages').select('id').execute(),
      );
      expect(rows).toEqual([]);
    } finally {
      await lmtp.drain(1000);
      deadS3.destroy();
    }
  }, 120_000);

  it('answers 451 while Temporal is unreachable, and the retry is archived once', async () => {
    const t = await archiveTenant('Ohne Temporal GmbH', 'archiv@ohne-temporal.example');
    const dead = new Client({
      connection: Connection.lazy({ address: '127.0.0.1:1', connectTimeout: 1000 }),
      namespace: cfg.TEMPORAL_NAMESPACE,
    });
    const { lmtp, port } = await start({}, s3, dead);
    const mail = simpleMail('Temporal weg');
    try {
      const r = await send(mail, ['archiv@ohne-temporal.example'], { port });
      expect(r.data[0]!['archiv@ohne-temporal.example']![0]).toBe(451);
    } finally {
      await lmtp.drain(1000);
    }
    // The sender retries against the running product: the staged row does not block it.
    const retry = await send(mail, ['archiv@ohne-temporal.example']);
    expect(retry.data[0]!['archiv@ohne-temporal.example']![0]).toBe(250);
    expect((await archived(t, mail)).plaintext.equals(mail)).toBe(true);
    const rows = await withTenant(db, t.tenantId, (tx) =>
      tx.selectFrom('messages').select('id').execute(),
    );
    expect(rows).toHaveLength(1);
  }, 120_000);

  it('requires STARTTLS when configured', async () => {
    await archiveTenant('Tls GmbH', 'archiv@tls.example');
    const certDir = mkdtempSync(path.join(os.tmpdir(), 'mailrepo-tls-'));
    execFileSync('openssl', [
      'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes',
      '-subj', '/CN=localhost', '-days', '2', '-keyout', path.join(certDir, 'k.pem'),
      '-out', path.join(certDir, 'c.pem'),
    ], { stdio: 'pipe' }); // prettier-ignore
    const { readFileSync } = await import('node:fs');
    const { lmtp, port } = await start({
      requireTls: true,
      tls: {
        cert: readFileSync(path.join(certDir, 'c.pem')),
        key: readFileSync(path.join(certDir, 'k.pem')),
      },
    });
    try {
      const mail = simpleMail('Nur verschlüsselt');
      const plain = await send(mail, ['archiv@tls.example'], { port });
      expect(plain.mail?.[0]).toBe(530);
      const tls = await send(mail, ['archiv@tls.example'], { port, flags: ['--starttls'] });
      expect(tls.data[0]!['archiv@tls.example']![0]).toBe(250);
    } finally {
      await lmtp.drain(1000);
      rmSync(certDir, { recursive: true, force: true });
    }
  }, 60_000);
});

describe('LMTP worker killed in the middle of DATA', () => {
  it('acknowledged nothing, archived nothing, and the retry is archived once', async () => {
    const t = await archiveTenant('Absturz GmbH', 'archiv@absturz.example');
    const port = await freePort();
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', path.join(__dirname, '../../workers/lmtp.ts')],
      { env: { ...process.env, LMTP_PORT: String(port), LMTP_METRICS_PORT: '0' }, stdio: 'ignore' },
    );
    try {
      // Stop half-way through a large mail, then kill -9.
      const { socket, transcript } = await intoData(port, 'archiv@absturz.example', 100);
      const mail = Buffer.concat([
        simpleMail('Abgebrochen'),
        // Ends with a line break, as every mail does on the wire.
        crlf(
          `${randomBytes(12 * 1024 * 1024)
            .toString('base64')
            .replace(/.{76}/g, '$&\n')}\n`,
        ),
      ]);
      socket.write(mail.subarray(0, 9 * 1024 * 1024));
      await new Promise((r) => setTimeout(r, 1500));
      child.kill('SIGKILL');
      await new Promise((r) => child.once('exit', r));
      socket.destroy();
      expect(transcript()).not.toMatch(/^250 2\.0\.0/m);
      const rows = await withTenant(db, t.tenantId, (tx) =>
        tx.selectFrom('messages').select('id').execute(),
      );
      expect(rows).toEqual([]);

      // The sender retries against the running worker: archived, exactly once.
      const retry = await send(mail, ['archiv@absturz.example']);
      expect(retry.data[0]!['archiv@absturz.example']![0]).toBe(250);
      expect((await archived(t, mail)).plaintext.equals(mail)).toBe(true);
      const after = await withTenant(db, t.tenantId, (tx) =>
        tx.selectFrom('messages').select('id').execute(),
      );
      expect(after).toHaveLength(1);
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
    }
  }, 120_000);
});

describe('Temporal worker killed in the middle of archive workflows', () => {
  it('finishes every acknowledged mail after a restart, one archive entry each', async () => {
    const t = await archiveTenant('Neustart Worker GmbH', 'archiv@worker-neustart.example');
    // A task queue of its own, served only by a worker this test starts, kills and restarts.
    const taskQueue = `fault-${randomUUID()}`;
    const startWorker = () => startOwnWorker(taskQueue);
    const log = createLogger('lmtp-fault', { level: 'silent' });
    const lmtp = createLmtpServer(
      { db, s3, bucket: cfg.S3_BUCKET, archive: new ArchiveBatcher(temporal, taskQueue), log },
      {
        requireTls: false,
        maxMessageBytes: 10 * 1024 * 1024,
        maxConnections: 10,
        maxConcurrentMails: 8,
        maxRecipients: 100,
        maxConnectionsPerIp: 20,
        allowUnauthenticated: true,
        banner: 'fault',
      },
    );
    await new Promise<void>((r) => lmtp.server.listen(0, '127.0.0.1', r));
    const port = (lmtp.server.server.address() as net.AddressInfo).port;
    let worker = startWorker();
    try {
      const mails = Array.from({ length: 12 }, (_, i) =>
        simpleMail(`Fehlertest ${i}`, `Inhalt ${randomUUID()}`),
      );
      let acknowledged = 0;
      let inFlightAtKill: string[] = [];
      for (const [i, m] of mails.entries()) {
        const r = await send(m, ['archiv@worker-neustart.example'], { port });
        if (r.data[0]!['archiv@worker-neustart.example']![0] === 250) acknowledged++;
        if (i === 5) {
          // Kill it while workflows are under way: once some mail is stored but not yet sealed.
          for (let n = 0; n < 400 && !inFlightAtKill.length; n++) {
            const states = await withTenant(db, t.tenantId, (tx) =>
              tx.selectFrom('messages').select('state').execute(),
            );
            // Acknowledged means its workflow started: staged or stored is a workflow under way.
            inFlightAtKill = states
              .map((x) => x.state)
              .filter((s) => s === 'staged' || s === 'stored');
            if (!inFlightAtKill.length) await new Promise((r) => setTimeout(r, 25));
          }
          worker.kill('SIGKILL');
          await new Promise((r) => worker.once('exit', r));
        }
      }
      worker = startWorker();
      await sealedMessages(ctx, t, mails.length, 120_000);
      const rows = await withTenant(db, t.tenantId, (tx) =>
        tx.selectFrom('messages').select(['state', 'ledger_index']).execute(),
      );
      const hashes = new Set(mails.map((m) => sha256(m).toString('hex')));
      const counts = await archivedOf(
        { db, tenantId: t.tenantId, s3, bucket: cfg.S3_BUCKET },
        hashes,
        0,
      );
      // The figures first, so a failing run says what it lost.
      console.log(
        `worker kill -9 with ${inFlightAtKill.length} mails in flight: sent ${mails.length}, ` +
          `acknowledged ${acknowledged}, sealed in the database ${counts.sealed}, intact in the ` +
          `object store ${counts.stored}, lost ${mails.length - counts.archived}`,
      );
      // The kill met workflows under way, or the test proved nothing about them.
      expect(inFlightAtKill.length).toBeGreaterThan(0);
      expect(acknowledged).toBe(mails.length);
      expect(counts.archived).toBe(mails.length);
      expect(rows).toHaveLength(mails.length);
      expect(rows.every((r) => r.state === 'sealed')).toBe(true);
      // Exactly one ledger entry per mail: distinct indices, no duplicates after the retries.
      expect(new Set(rows.map((r) => r.ledger_index)).size).toBe(mails.length);
      const mailEntries = await withTenant(db, t.tenantId, (tx) =>
        tx
          .selectFrom('ledger_entries')
          .select((e) => e.fn.countAll<string>().as('n'))
          .where('tenant_id', '=', t.tenantId)
          .where('kind', '=', 'mail')
          .executeTakeFirstOrThrow(),
      );
      expect(Number(mailEntries.n)).toBe(mails.length);
    } finally {
      worker.kill('SIGKILL');
      await lmtp.drain(1000);
    }
  }, 180_000);
});
