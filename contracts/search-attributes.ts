import { defineSearchAttributeKey } from '@temporalio/common';

/**
 * Search attributes our workflows set. The dev stack registers exactly these at start
 * (`searchAttributeFlags`); production clusters register them with `temporal operator`.
 * Values are identifiers and stage names only, never content: they are stored in clear.
 */
export const TENANT_ID = defineSearchAttributeKey('TenantId', 'KEYWORD');
export const MAIL_STAGE = defineSearchAttributeKey('MailStage', 'KEYWORD');

export const searchAttributeFlags = [TENANT_ID, MAIL_STAGE].map((k) => `${k.name}=Keyword`);
