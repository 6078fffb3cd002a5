import { createHash, randomBytes, randomUUID } from 'node:crypto';
import type { Duplex } from 'node:stream';
import { PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import type { Db } from '../../lib/db';
import { withTenant } from '../../lib/db/tenant-scope';
import { emptyMetadata, type MailMetadata } from '../../lib/ingest/mime-metadata';
import { tokenize } from '../../lib/search/tokenize';
import type { EpochPublicKey } from '../../lib/vault';
import { beginMailEncryption } from '../../lib/vault/mail-envelope';

/**
 * Mails as ingest leaves them for the index (metadata and token list encrypted under each mail's
 * DEK, a queue row), written straight into the database — for index tests and the search
 * benchmark, which need many mails and no bodies. Given object storage, each mail's body (a small
 * RFC 5322 mail of the same fields) is encrypted and stored too, so the mails can be opened and
 * exported (the 20,000-mail export history check).
 */
export interface CorpusMail {
  subject: string;
  from: string;
  to: string;
  text: string;
  attachment?: string;
  receivedAt?: Date;
  /** Text of a PDF attachment as the index job would have read it (stored as `mail-extracted`). */
  documentText?: string;
}

export async function queueMails(
  db: Db,
  tenantId: string,
  epoch: EpochPublicKey,
  mails: CorpusMail[],
  storage?: { s3: S3Client; bucket: string },
): Promise<string[]> {
  const rows = await Promise.all(
    mails.map(async (m) => {
      const id = randomUUID();
      const body = storage ? rfc5322(m) : undefined;
      const meta: MailMetadata = {
        ...emptyMetadata(),
        subject: m.subject,
        from: [{ name: '', address: m.from }],
        to: [{ name: '', address: m.to }],
        attachments: m.attachment
          ? [{ filename: m.attachment, contentType: 'application/pdf', size: 10, sha256: '00' }]
          : [],
        textLength: m.text.length,
      };
      const tokens = tokenize(`${m.subject} ${m.from} ${m.to} ${m.text} ${m.attachment ?? ''}`);
      const e = beginMailEncryption(epoch, tenantId, id);
      const stored = storage && body ? await storeBody(storage, `test/${id}`, e.body, body) : null;
      const row = {
        id,
        tenant_id: tenantId,
        sha256: createHash('sha256')
          .update(body ?? id)
          .digest(),
        size: body?.length ?? m.text.length + 500,
        epoch_id: epoch.epochId,
        sealed_dek: e.sealedDek,
        staging_key: `test/${id}`,
        object_key: stored ? `test/${id}` : null,
        ciphertext_sha256: stored?.sha256 ?? randomBytes(32),
        ciphertext_size: stored?.size ?? 0,
        enc_metadata: await e.encryptPart('mail-metadata', Buffer.from(JSON.stringify(meta))),
        enc_tokens: await e.encryptPart('mail-tokens', Buffer.from(JSON.stringify([...tokens]))),
        ...(m.documentText
          ? {
              enc_extracted: await e.encryptPart(
                'mail-extracted',
                Buffer.from(JSON.stringify(extracted(m.documentText))),
              ),
            }
          : {}),
        ...(m.receivedAt ? { received_at: m.receivedAt } : {}),
      };
      e.dispose();
      if (!stored) e.body.destroy();
      return row;
    }),
  );
  for (let i = 0; i < rows.length; i += 1000) {
    const chunk = rows.slice(i, i + 1000);
    await withTenant(db, tenantId, async (tx) => {
      await tx.insertInto('messages').values(chunk).execute();
      await tx
        .insertInto('search_index_queue')
        .values(chunk.map((r) => ({ message_id: r.id, tenant_id: tenantId })))
        .execute();
    });
  }
  return rows.map((r) => r.id);
}

const extracted = (text: string) => ({
  v: 1,
  parts: [{ index: 0, filename: 'Anhang.pdf', kind: 'pdf', status: 'indexed' }],
  texts: [{ index: 0, page: 1, text }],
});

function rfc5322(m: CorpusMail): Buffer {
  return Buffer.from(
    `From: ${m.from}\r\nTo: ${m.to}\r\nSubject: ${m.subject}\r\n` +
      `Date: ${(m.receivedAt ?? new Date()).toUTCString()}\r\n\r\n${m.text}\r\n`,
  );
}

/** Encrypts `plain` through the mail's body stream and puts the ciphertext at `key`. */
async function storeBody(
  storage: { s3: S3Client; bucket: string },
  key: string,
  stream: Duplex,
  plain: Buffer,
): Promise<{ sha256: Buffer; size: number }> {
  const chunks: Buffer[] = [];
  const collected = (async () => {
    for await (const c of stream) chunks.push(c as Buffer);
  })();
  stream.end(plain);
  await collected;
  const ciphertext = Buffer.concat(chunks);
  await storage.s3.send(
    new PutObjectCommand({ Bucket: storage.bucket, Key: key, Body: ciphertext }),
  );
  return { sha256: createHash('sha256').update(ciphertext).digest(), size: ciphertext.length };
}
