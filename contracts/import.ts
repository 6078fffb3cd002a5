import { defineSignal } from '@temporalio/workflow';

/** The importMail workflow's input (workflows/import-mail.ts; started by the portal). */
export interface ImportInput {
  tenantId: string;
  importId: string;
  key: string;
}

/**
 * The importImapAccount workflow's input (issue 22 §3). It carries the account's password: only
 * here (the payload codec encrypts it), never in the database or a log.
 */
export interface ImapImportInput {
  tenantId: string;
  importId: string;
  /** Always TLS: implicit (993) or STARTTLS required (143); `ca` trusts a private CA (PEM). */
  account: {
    host: string;
    port: number;
    security: 'tls' | 'starttls';
    user: string;
    password: string;
    ca?: string;
  };
  /** Continuous mode: look for new mail this often; absent: one pass. */
  continuousMinutes?: number;
}

/** Continuous IMAP import: look for new mail now instead of at the next interval. */
export const imapSyncNow = defineSignal('imapSyncNow');
/** Continuous IMAP import: end after the pass under way. */
export const imapStop = defineSignal('imapStop');
