import { zeroize } from '../crypto/bytes';
import { privateKeyObject, publicFromPrivate } from '../crypto/x25519';
import type { MailMetadata } from '../ingest/mime-metadata';
import type { UnlockedEpoch } from '../vault/epochs';
import { decryptMailParts, type MailPart } from '../vault/mail-envelope';
import type { ExtractedText } from '../extract/mail-documents';
import { attachmentTerm, indexTerms, invert } from './index-terms';
import { tokenize } from './tokenize';
import { indexedDoc } from './indexed-doc';
import type { IndexedDoc } from './segment-format';
import { sealSegment, type SealedSegment } from './segment-store';
import { writeSegment } from './segment-writer';

/**
 * One merge batch of one epoch, from queued ciphertext to an encrypted segment: each mail's DEK
 * opened with the epoch key, its metadata and token list decrypted, its terms inverted, the
 * segment written and sealed under the epoch's index key. No database and no shared state, so it
 * runs on a merge thread (segment-build-threads.ts) as well as in-process.
 */

export interface QueuedMail {
  id: string;
  sealedDek: Uint8Array;
  encMetadata: Uint8Array;
  encTokens: Uint8Array;
  /** Text the job read from its documents (extract-queue.ts), if it has any. */
  encExtracted?: Uint8Array | null;
  size: string | number;
  receivedAt: Date;
  /** Mailboxes its receipts name besides its headers (lower case). */
  ingestAddresses: string[];
}

export interface SegmentJob {
  tenantId: string;
  epochId: string;
  mails: QueuedMail[];
}

/** The epoch's keys as a merge thread receives them (raw bytes; it imports them itself). */
export interface EpochKeys {
  epochId: string;
  privateKey: Uint8Array;
  indexKey: Uint8Array;
  /** Checked against the private key at unlock; derived again if not sent. */
  publicKey?: Uint8Array;
}

export async function buildSegment(job: SegmentJob, epoch: UnlockedEpoch): Promise<SealedSegment> {
  const docs: IndexedDoc[] = [];
  const terms: Set<string>[] = [];
  await Promise.all(
    job.mails.map(async (mail) => {
      const [meta, tokens, extracted] = await decryptMailParts(
        epoch,
        job.tenantId,
        mail.id,
        mail.sealedDek,
        [
          ['mail-metadata', mail.encMetadata],
          ['mail-tokens', mail.encTokens],
          ...(mail.encExtracted
            ? [['mail-extracted', mail.encExtracted] as [MailPart, Uint8Array]]
            : []),
        ],
      );
      const doc = indexedDoc(
        mail.id,
        { size: mail.size, received_at: mail.receivedAt },
        JSON.parse(meta!.toString('utf8')) as MailMetadata,
        mail.ingestAddresses,
      );
      docs.push(doc);
      const words = new Set(JSON.parse(tokens!.toString('utf8')) as string[]);
      if (extracted) documentWords(JSON.parse(extracted.toString('utf8')) as ExtractedText, words);
      terms.push(indexTerms(doc, words));
    }),
  );
  return sealSegment(job.tenantId, job.epochId, epoch.indexKey, writeSegment(docs, invert(terms)));
}

/** buildSegment with keys received from another thread; they are zeroed when it is done. */
export async function buildSegmentWithKeys(
  job: SegmentJob,
  keys: EpochKeys,
): Promise<SealedSegment> {
  const privateKey = Buffer.from(keys.privateKey);
  const indexKey = Buffer.from(keys.indexKey);
  zeroize(keys.privateKey, keys.indexKey);
  try {
    return await buildSegment(job, {
      epochId: keys.epochId,
      privateKey,
      indexKey,
      known: {
        publicKey: keys.publicKey ? Buffer.from(keys.publicKey) : publicFromPrivate(privateKey),
        privateKeyObject: privateKeyObject(privateKey),
      },
    });
  } finally {
    zeroize(privateKey, indexKey);
  }
}

/** Distinct words a mail's documents add at most (its own text is bounded at ingest alike). */
const DOCUMENT_WORDS = 100_000;

/** The words of a mail's documents, added to `into` as attachment terms. */
export function documentWords(extracted: ExtractedText, into: Set<string>): Set<string> {
  const words = new Set<string>();
  for (const t of extracted.texts) tokenize(t.text, words, DOCUMENT_WORDS);
  for (const w of words) into.add(attachmentTerm(w));
  return into;
}
