import { defineSearchAttributeKey } from '@temporalio/common';

/**
 * Search attributes our workflows set. The dev stack registers exactly these at start
 * (`searchAttributeFlags`); production clusters register them with `temporal operator`.
 * Values are identifiers and stage names only, never content: they are stored in clear.
 */
export const TENANT_ID = defineSearchAttributeKey('TenantId', 'KEYWORD');
export const MAIL_STAGE = defineSearchAttributeKey('MailStage', 'KEYWORD');
/**
 * The mails an archiveBatch workflow carries (decision 0020): ops find a mail's workflow with
 * `MailIds = '<id>'` or `MailSha256 = '<hex>'`. Batches are capped so that each list stays under
 * Temporal's default 2 KiB per search attribute value.
 */
export const MAIL_IDS = defineSearchAttributeKey('MailIds', 'KEYWORD_LIST');
export const MAIL_SHA256 = defineSearchAttributeKey('MailSha256', 'KEYWORD_LIST');

const TYPE_NAMES = { KEYWORD: 'Keyword', KEYWORD_LIST: 'KeywordList' } as const;
export const searchAttributeFlags = [TENANT_ID, MAIL_STAGE, MAIL_IDS, MAIL_SHA256].map(
  (k) => `${k.name}=${TYPE_NAMES[k.type]}`,
);
