import { defineQuery } from '@temporalio/workflow';
/** The archiveMail workflow's input (workflows/archive-mail.ts; started by the LMTP server). */
export interface ArchiveMailInput {
  tenantId: string;
  messageId: string;
  sha256Hex: string;
}

/** One workflow id per tenant and mail content: a repeated start is the same archive entry. */
export const archiveWorkflowId = (tenantId: string, sha256Hex: string) =>
  `archive-${tenantId}-${sha256Hex}`;

export type MailStage = 'staged' | 'stored' | 'ledgered' | 'sealed';
/** How far archiveMail has come with its mail (also the MailStage search attribute). */
export const stageQuery = defineQuery<MailStage>('stage');

/** One mail of an archiveBatch: its row and the SHA-256 of its exact bytes. */
export interface BatchMail {
  messageId: string;
  sha256Hex: string;
}

/**
 * The archiveBatch workflow's input (workflows/archive-batch.ts, decision 0020): mails of one
 * tenant whose ciphertext is durable, started together by the ingest edge.
 */
export interface ArchiveBatchInput {
  tenantId: string;
  mails: BatchMail[];
}

/**
 * At most this many mails per batch: the MailSha256 list (65 bytes a mail) stays under Temporal's
 * default limit of 2 KiB per search attribute value.
 */
export const MAX_BATCH_MAILS = 24;

export interface ArchiveBatchResult {
  /** Ledger index of every mail this batch put into the ledger. */
  ledgered: { messageId: string; index: number }[];
  /** Mails that could not be stored here: each is retried by its own archiveMail workflow. */
  retriedAlone: { messageId: string; workflowId: string; reason: string }[];
}

/** How far the batch has come with each of its mails. */
export const batchStagesQuery =
  defineQuery<Record<string, MailStage | 'retried alone'>>('batchStages');
