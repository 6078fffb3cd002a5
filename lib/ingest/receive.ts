import { createHash, randomUUID } from 'node:crypto';
import type { Readable, Writable } from 'node:stream';
import type { S3Client } from '@aws-sdk/client-s3';
import { sealTo } from '../crypto/sealed-box';
import type { Db } from '../db';
import { withTenant } from '../db/tenant-scope';
import type { Logger } from '../log';
import { classForAddresses } from '../retention/classes';
import { holdLikeFirstArrival, holdNewMail } from '../retention/holds';
import { DEFAULT_CLASS } from '../retention/periods';
import { indexedDoc } from '../search/indexed-doc';
import { currentEpochPublicKey, type EpochPublicKey } from '../vault/epochs';
import { bind } from '../crypto/bindings';
import { beginMailEncryption, type MailEncryption } from '../vault/mail-envelope';
import type { ArchiveStarter } from './archive-batcher';
import {
  emptyMetadata,
  hasDocuments,
  hasImages,
  MetadataExtractor,
  type MailMetadata,
} from './mime-metadata';
import { ocrEnabled } from '../auth/tenant-settings';
import { deleteStaging, StagingUpload } from './staging';
import { logicalMailOf } from './journal-group';

/**
 * One delivery, as the LMTP worker hands it over: the DATA stream is hashed (SHA-256 of the exact
 * bytes), parsed for metadata and search tokens, and stream-encrypted into one object per tenant
 * among the recipients, at its final key — plaintext never touches disk. A tenant's recipients get success
 * only once its ciphertext is durable in S3, its row is committed and its archive workflow is
 * started (or the mail is a known duplicate); anything less is a temporary failure.
 */

export interface IngestDeps {
  db: Db;
  s3: S3Client;
  bucket: string;
  /** Starts the archive workflow of a stored mail (an ArchiveBatcher). */
  archive: ArchiveStarter;
  log: Logger;
}

export interface Delivery {
  mailFrom: string;
  /** Accepted recipients with their tenant, in RCPT order. */
  recipients: { address: string; tenantId: string }[];
  remoteAddress?: string;
  clientHostname?: string;
  /** The ingest credential the delivering server authenticated with (issue 17 §1). */
  credentialId?: string;
  /** Set for mail from an import (issue 9 §5): kept with the envelope, so the mail shows it. */
  imported?: ImportFacts;
  /** The SMTP journal addresses it was sent to (issue 22 §1), by id (the address is a secret). */
  journalAddressIds?: string[];
}

/**
 * A check that reads the same bytes as the archive while they arrive (SMTP journaling: sender
 * authentication, issue 22 §1). What it found is kept with each receipt; a tenant may refuse the
 * mail on it, which discards that tenant's ciphertext and answers with the refusal.
 */
export interface DeliveryCheck {
  sink: Writable;
  verdict: Promise<{
    recorded: Record<string, unknown>;
    refusal(tenantId: string): Promise<Outcome | undefined>;
  }>;
}

export interface ImportFacts {
  importId: string;
  /** 0-based position in the imported file, and the entry's name in a ZIP. */
  entry: number;
  name?: string;
  /** When the mail was originally received (MBOX separator, Received or Date header, INTERNALDATE). */
  originalReceivedAt?: string;
  /** An IMAP import's folder path (issue 22 §3). */
  folder?: string;
}

export type Outcome =
  { ok: true; messageId: string; duplicate: boolean } | { ok: false; code: number; text: string };

const TEMPORARY: Outcome = {
  ok: false,
  code: 451,
  text: '4.3.0 archive temporarily unavailable, try again later',
};

interface TenantIngest {
  tenantId: string;
  epoch: EpochPublicKey;
  messageId: string;
  encryption: MailEncryption;
  staging: StagingUpload;
  failed?: unknown;
}

/** Writes with backpressure; rejects instead of waiting forever when the sink fails or closes. */
function write(sink: Writable, chunk: Buffer): Promise<void> {
  if (sink.destroyed || sink.writableEnded) return Promise.reject(new Error('sink is closed'));
  return new Promise((resolve, reject) => {
    const cleanup = () => {
      sink.off('drain', drained);
      sink.off('error', failed);
      sink.off('close', closed);
    };
    const drained = () => (cleanup(), resolve());
    const failed = (e: unknown) => (cleanup(), reject(e));
    const closed = () => (cleanup(), reject(new Error('sink closed')));
    if (sink.write(chunk)) return resolve();
    sink.on('drain', drained);
    sink.on('error', failed);
    sink.on('close', closed);
  });
}

async function prepare(deps: IngestDeps, tenantId: string): Promise<TenantIngest> {
  // The body is bound to the default class's epoch; the mail's own class (rules on its header
  // addresses) is known only after parsing, when register() seals the DEK to that class's epoch.
  const epoch = await currentEpochPublicKey(deps.db, { tenantId, retentionClass: DEFAULT_CLASS });
  const messageId = randomUUID();
  const encryption = beginMailEncryption(epoch, tenantId, messageId);
  // Straight to its place in the tenant's storage area (decision 0020): no staging copy to promote,
  // verify and delete per mail. The key names the body's epoch; the row says which epoch opens it.
  const staging = new StagingUpload(
    deps.s3,
    deps.bucket,
    `mail/${tenantId}/${epoch.epochId}/${messageId}`,
  );
  encryption.body.pipe(staging.input);
  encryption.body.on('error', (e) => staging.input.destroy(e));
  // An upload that fails (S3 down) stops taking data: fail the writer too, so nothing waits on it.
  staging.done.catch((e: unknown) => encryption.body.destroy(e as Error));
  return { tenantId, epoch, messageId, encryption, staging };
}

/** Per tenant: the outcome for all of that tenant's recipients. */
export async function receiveMail(
  deps: IngestDeps,
  source: Readable & { sizeExceeded?: boolean },
  delivery: Delivery,
  check?: DeliveryCheck,
): Promise<Map<string, Outcome>> {
  const outcomes = new Map<string, Outcome>();
  const tenantIds = [...new Set(delivery.recipients.map((r) => r.tenantId))];
  const prepared = await Promise.allSettled(tenantIds.map((t) => prepare(deps, t)));
  const active: TenantIngest[] = [];
  prepared.forEach((p, i) => {
    if (p.status === 'fulfilled') active.push(p.value);
    else {
      deps.log.error({ err: p.reason, tenantId: tenantIds[i] }, 'ingest preparation failed');
      outcomes.set(tenantIds[i]!, TEMPORARY);
    }
  });

  const plain = createHash('sha256');
  let size = 0;
  let exceeded = false;
  const extractor = new MetadataExtractor();
  const discardAll = async () => {
    check?.sink.destroy();
    await Promise.all(active.map((t) => t.staging.discard()));
    for (const t of active) t.encryption.dispose();
  };
  try {
    for await (const chunk of source as AsyncIterable<Buffer>) {
      // Past the size limit (counted by smtp-server as DATA arrives) nothing is hashed, parsed,
      // encrypted or staged: what was staged goes, and the rest is read only to reach the end of
      // DATA and answer 552 — memory stays flat however much the client sends (issue 17 §2).
      if (exceeded) continue;
      if (source.sizeExceeded) {
        exceeded = true;
        await discardAll();
        continue;
      }
      plain.update(chunk);
      size += chunk.length;
      await Promise.all([
        // A parser in trouble must not hold up the archive; its result reports what happened.
        write(extractor, chunk).catch(() => {}),
        ...(check ? [write(check.sink, chunk).catch(() => {})] : []),
        ...active
          .filter((t) => !t.failed)
          .map((t) =>
            write(t.encryption.body, chunk).catch((e: unknown) => {
              t.failed = e;
            }),
          ),
      ]);
    }
  } catch (e) {
    // The client went away mid-DATA: nothing was acknowledged, nothing may remain.
    if (!exceeded) await discardAll();
    throw e;
  }
  if (exceeded || source.sizeExceeded) {
    if (!exceeded) await discardAll();
    for (const id of tenantIds)
      outcomes.set(id, { ok: false, code: 552, text: '5.3.4 message exceeds the size limit' });
    return outcomes;
  }
  extractor.end();
  check?.sink.end();
  for (const t of active) t.encryption.body.end();
  const sha256 = plain.digest();

  await Promise.all(
    active.map(async (t) => {
      try {
        await t.staging.done;
      } catch (e) {
        t.failed ??= e;
      }
    }),
  );
  const { metadata, tokens } = await withTimeout(extractor.result, 30_000);
  const verdict = await check?.verdict;

  await Promise.all(
    active.map(async (t) => {
      if (t.failed) {
        deps.log.error({ err: t.failed, tenantId: t.tenantId }, 'staging upload failed');
        t.encryption.dispose();
        await t.staging.discard();
        outcomes.set(t.tenantId, TEMPORARY);
        return;
      }
      try {
        const refused = await verdict?.refusal(t.tenantId);
        if (refused) {
          await t.staging.discard();
          outcomes.set(t.tenantId, refused);
          return;
        }
        outcomes.set(
          t.tenantId,
          await register(deps, t, {
            sha256,
            size,
            metadata,
            tokens,
            delivery,
            checked: verdict?.recorded,
          }),
        );
      } catch (err) {
        deps.log.error({ err, tenantId: t.tenantId }, 'registering the mail failed');
        outcomes.set(t.tenantId, TEMPORARY);
      } finally {
        t.encryption.dispose();
      }
    }),
  );
  return outcomes;
}

type Extracted = { metadata: MailMetadata; tokens: string[] };

/** The parser's result, or empty metadata saying why, if it takes longer than `ms`. */
async function withTimeout(p: Promise<Extracted>, ms: number): Promise<Extracted> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<Extracted>((resolve) => {
    timer = setTimeout(
      () =>
        resolve({
          metadata: { ...emptyMetadata(), parseError: 'MIME parsing timed out' },
          tokens: [],
        }),
      ms,
    );
  });
  try {
    return await Promise.race([p, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

async function register(
  deps: IngestDeps,
  t: TenantIngest,
  mail: {
    sha256: Buffer;
    size: number;
    metadata: MailMetadata;
    tokens: string[];
    delivery: Delivery;
    checked?: Record<string, unknown>;
  },
): Promise<Outcome> {
  const { tenantId } = t;
  const cipher = t.staging.result();
  const envelope = {
    mailFrom: mail.delivery.mailFrom,
    rcptTo: mail.delivery.recipients.filter((r) => r.tenantId === tenantId).map((r) => r.address),
    remoteAddress: mail.delivery.remoteAddress ?? null,
    clientHostname: mail.delivery.clientHostname ?? null,
    ...(mail.delivery.credentialId ? { credentialId: mail.delivery.credentialId } : {}),
    ...(mail.delivery.imported ? { imported: mail.delivery.imported } : {}),
    ...(mail.delivery.journalAddressIds
      ? { journalAddressIds: mail.delivery.journalAddressIds }
      : {}),
    ...mail.checked,
  };
  const meta = { ...mail.metadata, envelope };
  const addresses = [
    ...[...meta.from, ...meta.to, ...meta.cc, ...meta.bcc].map((a) => a.address.toLowerCase()),
    ...envelope.rcptTo.map((a) => a.toLowerCase()),
  ];
  const retentionClass = await withTenant(deps.db, tenantId, (tx) =>
    classForAddresses(tx, addresses),
  );
  const epoch =
    retentionClass === DEFAULT_CLASS
      ? t.epoch
      : await currentEpochPublicKey(deps.db, { tenantId, retentionClass });
  const keying = epoch === t.epoch ? t.encryption : t.encryption.sealFor(epoch);
  const encMetadata = await keying.encryptPart(
    'mail-metadata',
    Buffer.from(JSON.stringify(meta), 'utf8'),
  );
  const encTokens = await keying.encryptPart(
    'mail-tokens',
    Buffer.from(JSON.stringify(mail.tokens), 'utf8'),
  );
  const receiptId = randomUUID();
  const row = await withTenant(deps.db, tenantId, async (tx) => {
    // FOR SHARE: a retention sweep shredding this epoch right now either finished (and we answer
    // 4xx, the sender retries into a new epoch) or waits until this mail is in and counts it.
    const live = await tx
      .selectFrom('epochs')
      .select('shredded_at')
      .where('id', '=', epoch.epochId)
      .forShare()
      .executeTakeFirstOrThrow();
    if (live.shredded_at) throw new Error('the epoch was shredded meanwhile');
    const original = meta.journal?.originalSha256
      ? Buffer.from(meta.journal.originalSha256, 'hex')
      : null;
    const logicalId = await logicalMailOf(tx, tenantId, original ?? mail.sha256, !!original);
    const inserted = await tx
      .insertInto('messages')
      .values({
        id: t.messageId,
        tenant_id: tenantId,
        sha256: mail.sha256,
        size: mail.size,
        epoch_id: epoch.epochId,
        body_epoch_id: epoch === t.epoch ? null : t.epoch.epochId,
        sealed_dek: keying.sealedDek,
        state: 'stored',
        staging_key: t.staging.key,
        object_key: t.staging.key,
        ciphertext_sha256: cipher.sha256,
        ciphertext_size: cipher.size,
        enc_metadata: encMetadata,
        enc_tokens: encTokens,
        ledger_index: null,
        sealed_at: null,
        original_sha256: original,
        logical_id: logicalId,
      })
      .onConflict((oc) => oc.columns(['tenant_id', 'sha256']).doNothing())
      .returning(['id', 'state'])
      .executeTakeFirst();
    const message =
      inserted ??
      (await tx
        .selectFrom('messages')
        .select(['id', 'state'])
        .where('tenant_id', '=', tenantId)
        .where('sha256', '=', mail.sha256)
        .executeTakeFirstOrThrow());
    await tx
      .insertInto('message_receipts')
      .values({
        id: receiptId,
        tenant_id: tenantId,
        message_id: message.id,
        duplicate: !inserted,
        ingest_address: envelope.rcptTo[0]!,
        sealed_envelope: sealTo(
          epoch.publicKey,
          bind.receiptEnvelope(tenantId, epoch.epochId, receiptId),
          Buffer.from(JSON.stringify(envelope), 'utf8'),
        ),
      })
      .execute();
    // Documents (PDF, Office…) are read by the index job under its grant (decision 0022); until
    // then the mail waits for them instead of entering the index without their text.
    if (inserted && (hasDocuments(meta) || (hasImages(meta) && (await ocrEnabled(tx, tenantId)))))
      await tx
        .insertInto('search_extract_queue')
        .values({ message_id: message.id, tenant_id: tenantId })
        .execute();
    if (inserted && logicalId) await holdLikeFirstArrival(tx, tenantId, message.id, logicalId);
    if (inserted)
      await holdNewMail(
        tx,
        tenantId,
        indexedDoc(message.id, { size: mail.size, received_at: new Date() }, meta, [
          ...envelope.rcptTo,
        ]),
        mail.tokens,
      );
    return { id: message.id, state: message.state, duplicate: !inserted };
  });
  // A duplicate's own ciphertext is not needed: the first delivery's is (or will be) archived.
  if (row.duplicate) await deleteStaging(deps.s3, deps.bucket, t.staging.key);
  // Not yet in the ledger: (again) into a batch — a mail already in one is left as it is there.
  if (row.state === 'staged' || row.state === 'stored')
    await deps.archive.submit({
      tenantId,
      messageId: row.id,
      sha256Hex: mail.sha256.toString('hex'),
    });
  return { ok: true, messageId: row.id, duplicate: row.duplicate };
}
