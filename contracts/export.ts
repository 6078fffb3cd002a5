import { defineQuery } from '@temporalio/workflow';
import type { GrantRef } from './grant';

/** The exportMailbox workflow's input (workflows/export-mailbox.ts; started by the portal). */
export interface ExportInput {
  grant: GrantRef;
  exportId: string;
  query: string;
  mailboxes?: string[];
  password: string;
  format: 'eml' | 'mbox';
  includePdfs: boolean;
  expiresInDays: number;
  /** Mails per ZIP part; MAILS_PER_PART unless a test wants many small parts. */
  mailsPerPart?: number;
}

export interface ExportProgress {
  phase: 'preparing' | 'writing' | 'done' | 'failed' | 'expired';
  total: number;
  done: number;
  parts: number;
  startedAt: number;
}

/** exportMailbox's progress by parts (mails within a part: `exports.mails_done`). */
export const exportProgressQuery = defineQuery<ExportProgress>('progress');
