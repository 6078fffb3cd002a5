/** The importMail workflow's input (workflows/import-mail.ts; started by the portal). */
export interface ImportInput {
  tenantId: string;
  importId: string;
  key: string;
}
