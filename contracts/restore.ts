import type { ImapImportInput } from './import';
import type { GrantRef } from './grant';

/**
 * The restoreMails workflow's input (issue 22 §4; started by the portal). It carries the mailbox
 * password: only here (the payload codec encrypts it), never in the database or a log.
 */
export interface RestoreInput {
  grant: GrantRef;
  restoreId: string;
  account: ImapImportInput['account'];
  folder: string;
  /** A search, or explicit mail ids; `mailboxes` confines both (a member's own mails). */
  query?: string;
  messageIds?: string[];
  mailboxes?: string[];
}
