import { GetObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Db } from '../db';
import { withTenant } from '../db/tenant-scope';
import type { EpochKeyring } from '../vault/epoch-keyring';
import { decryptMail } from '../vault/mail-envelope';
import { isUuid } from '../input/input-error';

/**
 * A mail's plaintext as a stream: its ciphertext read from object storage and decrypted segment by
 * segment (no segment is released before its tag verifies). Read under the tenant's scope, so a
 * message id of another tenant finds nothing. The caller audits before it reads the stream.
 */

export interface StoredMail {
  id: string;
  epochId: string;
  sha256: Buffer;
  size: number;
  receivedAt: Date;
  ledgerIndex: number | null;
  state: string;
  sealedAt: Date | null;
  /** Deleted at retention end: the row (hash, ledger entry) stays, the content is gone. */
  deletedAt: Date | null;
}

/** The mail was deleted at the end of its retention (crypto-shredded): nothing can open it. */
export class MailDeletedError extends Error {
  override name = 'MailDeletedError';
  constructor(readonly deletedAt: Date) {
    super(`the mail was deleted under retention on ${deletedAt.toISOString()}`);
  }
}

export async function findMail(
  db: Db,
  tenantId: string,
  messageId: string,
): Promise<
  (StoredMail & { key: string; sealedDek: Buffer | null; bodyEpochId: string }) | undefined
> {
  if (!isUuid(messageId)) return undefined;
  const row = await withTenant(db, tenantId, (tx) =>
    tx
      .selectFrom('messages')
      .select([
        'id',
        'epoch_id',
        'sha256',
        'size',
        'received_at',
        'ledger_index',
        'state',
        'sealed_at',
        'object_key',
        'staging_key',
        'sealed_dek',
        'deleted_at',
        'body_epoch_id',
      ])
      .where('id', '=', messageId)
      .executeTakeFirst(),
  );
  if (!row) return undefined;
  return {
    id: row.id,
    epochId: row.epoch_id,
    sha256: row.sha256,
    size: Number(row.size),
    receivedAt: row.received_at,
    ledgerIndex: row.ledger_index === null ? null : Number(row.ledger_index),
    state: row.state,
    sealedAt: row.sealed_at,
    deletedAt: row.deleted_at,
    key: row.object_key ?? row.staging_key,
    sealedDek: row.sealed_dek,
    bodyEpochId: row.body_epoch_id ?? row.epoch_id,
  };
}

async function ciphertext(s3: S3Client, bucket: string, key: string): Promise<Readable> {
  const res = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  if (!res.Body) throw new Error(`object ${key} has no body`);
  return res.Body as Readable;
}

const missing = (e: unknown) => (e as { name?: string }).name === 'NoSuchKey';

/** The decrypting stream of one mail; undefined when the tenant has no such mail. */
export async function openMail(
  deps: { db: Db; s3: S3Client; bucket: string },
  tenantId: string,
  keyring: Pick<EpochKeyring, 'get'>,
  messageId: string,
): Promise<{ mail: StoredMail; plain: Readable } | undefined> {
  let mail = await findMail(deps.db, tenantId, messageId);
  if (!mail) return undefined;
  if (mail.deletedAt || !mail.sealedDek) throw new MailDeletedError(mail.deletedAt ?? new Date(0));
  const epoch = await keyring.get(mail.epochId);
  let body: Readable;
  try {
    body = await ciphertext(deps.s3, deps.bucket, mail.key);
  } catch (e) {
    // Promoted from staging between our read and the fetch: the row now names the final key.
    if (!missing(e)) throw e;
    mail = (await findMail(deps.db, tenantId, messageId))!;
    body = await ciphertext(deps.s3, deps.bucket, mail.key);
  }
  const plain = decryptMail(epoch, tenantId, mail.id, mail.sealedDek!, mail.bodyEpochId);
  pipeline(body, plain).catch((e: unknown) => plain.destroy(e as Error));
  const { key: _k, sealedDek: _d, bodyEpochId: _b, ...info } = mail;
  return { mail: info, plain };
}
