import { defineQuery } from '@temporalio/workflow';
/** The archiveMail workflow's input (workflows/archive-mail.ts; started by the LMTP server). */
export interface ArchiveMailInput {
  tenantId: string;
  messageId: string;
  sha256Hex: string;
}

export type MailStage = 'staged' | 'stored' | 'ledgered' | 'sealed';
/** How far archiveMail has come with its mail (also the MailStage search attribute). */
export const stageQuery = defineQuery<MailStage>('stage');
