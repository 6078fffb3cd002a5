import { createHash } from 'node:crypto';
import { PassThrough, Readable, Transform, Writable } from 'node:stream';
import type { S3Client } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { configure, TextReader, Uint8ArrayReader, ZipWriter } from '@zip.js/zip.js';
import type { Db } from '../db';
import type { ExportPart } from '../db/schema';
import { withTenant } from '../db/tenant-scope';
import { openMail } from '../mail/open';
import { renderMailPdf } from '../mail/pdf';
import { readOriginalView } from '../mail/journal-original';
import { buildProofBundle, ProofUnavailableError } from '../proof/build-bundle';
import type { EpochKeyring } from '../vault/epoch-keyring';
import { mboxEntry } from './mbox';

/**
 * One part of an export: an AES-256 ZIP (WinZip AE-2, which 7-Zip and every current unzip tool
 * open) of a fixed range of the export's mails — the original `.eml` files (or one `mails.mbox`),
 * optional PDFs, each mail's proof bundle, and a manifest (CSV and JSON) with every file's
 * SHA-256. Streamed into object storage; nothing unencrypted is written anywhere.
 */

configure({ useWebWorkers: false });

export interface PartInput {
  tenantId: string;
  exportId: string;
  n: number;
  from: number;
  to: number;
  password: string;
  format: 'eml' | 'mbox';
  includePdfs: boolean;
}

export interface PartDeps {
  db: Db;
  s3: S3Client;
  bucket: string;
  tsaCaPem: () => string;
}

interface ManifestRow {
  file: string;
  sha256: string;
  size: number;
  messageId: string;
  receivedAt: string;
  archivedSha256: string;
}

const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

async function collect(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

export const partKey = (tenantId: string, exportId: string, n: number) =>
  `exports/${tenantId}/${exportId}/part-${String(n).padStart(3, '0')}.zip`;

export async function writeExportPart(
  deps: PartDeps,
  keyring: Pick<EpochKeyring, 'get'>,
  input: PartInput,
  progress: (mailsDone: number) => void,
): Promise<{ part: ExportPart; decrypted: string[] }> {
  const items = await withTenant(deps.db, input.tenantId, (tx) =>
    tx
      .selectFrom('export_items')
      .select(['position', 'message_id'])
      .where('export_id', '=', input.exportId)
      .where('position', '>=', input.from)
      .where('position', '<', input.to)
      .orderBy('position')
      .execute(),
  );
  const key = partKey(input.tenantId, input.exportId, input.n);
  const body = new PassThrough();
  const hash = createHash('sha256');
  let size = 0;
  const counted = body.pipe(
    new Transform({
      transform(chunk: Buffer, _e, cb) {
        hash.update(chunk);
        size += chunk.length;
        cb(null, chunk);
      },
    }),
  );
  const upload = new Upload({
    client: deps.s3,
    params: { Bucket: deps.bucket, Key: key, Body: counted, ContentType: 'application/zip' },
    queueSize: 2,
    partSize: 5 * 1024 * 1024,
    leavePartsOnError: false,
  });
  const uploaded = upload.done();
  uploaded.catch(() => {});
  const zip = new ZipWriter(Writable.toWeb(body) as WritableStream<Uint8Array>, {
    password: input.password,
    encryptionStrength: 3,
    zipCrypto: false,
  });
  const manifest: ManifestRow[] = [];
  const add = async (
    file: string,
    bytes: Uint8Array,
    row: Omit<ManifestRow, 'file' | 'sha256' | 'size'>,
  ) => {
    await zip.add(file, new Uint8ArrayReader(bytes));
    manifest.push({ file, sha256: sha256(bytes), size: bytes.length, ...row });
  };
  const mbox: Buffer[] = [];
  const decrypted: string[] = [];
  let done = 0;
  for (const item of items) {
    const opened = await openMail(deps, input.tenantId, keyring, item.message_id);
    if (!opened) continue; // shredded meanwhile
    const mail = await collect(opened.plain);
    decrypted.push(item.message_id);
    const day = opened.mail.receivedAt.toISOString().slice(0, 10);
    const base = `${String(item.position + 1).padStart(6, '0')}_${day}_${item.message_id.slice(0, 8)}`;
    const facts = {
      messageId: item.message_id,
      receivedAt: opened.mail.receivedAt.toISOString(),
      archivedSha256: opened.mail.sha256.toString('hex'),
    };
    if (input.format === 'eml') await add(`mails/${base}.eml`, mail, facts);
    else mbox.push(mboxEntry(mail, opened.mail.receivedAt));
    try {
      const bundle = await buildProofBundle(deps.db, {
        tenantId: input.tenantId,
        entrySha256: opened.mail.sha256,
        tsaCaPem: deps.tsaCaPem(),
      });
      await add(`proofs/${base}.proof.zip`, bundle.zip, facts);
    } catch (e) {
      if (!(e instanceof ProofUnavailableError)) throw e;
    }
    if (input.includePdfs) {
      // A journal report's PDF shows the original it reports; the EML stays as received.
      const view = await readOriginalView(mail);
      const pdf = await collect(
        renderMailPdf({
          view,
          lang: 'de',
          facts: {
            messageId: item.message_id,
            receivedAt: opened.mail.receivedAt,
            sha256: facts.archivedSha256,
            size: opened.mail.size,
            ledgerIndex: opened.mail.ledgerIndex,
          },
        }),
      );
      await add(`pdf/${base}.pdf`, pdf, facts);
    }
    progress(++done);
  }
  if (input.format === 'mbox')
    await add('mails.mbox', Buffer.concat(mbox), {
      messageId: '',
      receivedAt: '',
      archivedSha256: '',
    });
  const csv = [
    'file;sha256;size;message_id;received_at;archived_sha256',
    ...manifest.map((r) =>
      [r.file, r.sha256, r.size, r.messageId, r.receivedAt, r.archivedSha256].join(';'),
    ),
  ].join('\r\n');
  await zip.add('manifest.csv', new TextReader(`${csv}\r\n`));
  await zip.add(
    'manifest.json',
    new TextReader(
      JSON.stringify({ exportId: input.exportId, part: input.n, files: manifest }, null, 2),
    ),
  );
  await zip.close();
  await uploaded;
  return {
    part: { n: input.n, key, size, sha256: hash.digest('hex'), mails: done },
    decrypted,
  };
}
