import { randomUUID } from 'node:crypto';
import { isIP } from 'node:net';
import type { Client } from '@temporalio/client';
import { imapStop, imapSyncNow, type ImapImportInput } from '../contracts/import';
import { recordAudit } from '../lib/audit/record';
import { requireManager } from '../lib/auth/roles';
import type { SessionInfo } from '../lib/auth/sessions';
import type { Db } from '../lib/db';
import { withTenant } from '../lib/db/tenant-scope';
import { finishImapImport } from '../lib/import/imap-sync';
import { InputError, isUuid } from '../lib/input/input-error';
import { startTenantWorkflow } from '../lib/temporal/tenant-workflow';

/**
 * IMAP imports as the portal starts them (issue 22 §3): an owner or admin names the server, the
 * account and its password (or app password). The password goes only into the workflow's input,
 * which the payload codec encrypts; the row keeps server, account, progress and folder errors.
 */
export interface ImapImportDeps {
  db: Db;
  temporal: () => Promise<{ client: Client; taskQueue: string }>;
}

export const imapImportWorkflowId = (importId: string) => `imap-import-${importId}`;

export interface ImapImportForm {
  host: string;
  port: string;
  security: string;
  user: string;
  password: string;
  ca: string;
  continuousMinutes: string;
}

const HOST =
  /^(?=.{1,253}$)[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*$/i;
const fail = (code: string, field: string): never => {
  throw new InputError(code, {}, field);
};

/** The form as an import's account; every refusal names its field. */
export function imapAccountOf(
  form: ImapImportForm,
): Omit<ImapImportInput, 'tenantId' | 'importId'> {
  const host = form.host.trim().toLowerCase();
  if (!HOST.test(host) && !isIP(host)) fail('imap.error.host', 'host');
  const security = form.security === 'starttls' ? 'starttls' : 'tls';
  const port = form.port.trim() ? Number(form.port) : security === 'tls' ? 993 : 143;
  if (!Number.isInteger(port) || port < 1 || port > 65535) fail('imap.error.port', 'port');
  const user = form.user.trim();
  if (!user || user.length > 320) fail('imap.error.user', 'user');
  if (!form.password) fail('imap.error.password', 'password');
  const ca = form.ca.trim();
  if (ca && !/^-----BEGIN CERTIFICATE-----[\s\S]+-----END CERTIFICATE-----$/.test(ca))
    fail('imap.error.ca', 'ca');
  const minutes = form.continuousMinutes.trim() ? Number(form.continuousMinutes) : undefined;
  if (minutes !== undefined && (!Number.isInteger(minutes) || minutes < 5 || minutes > 1440))
    fail('imap.error.interval', 'continuousMinutes');
  return {
    account: { host, port, security, user, password: form.password, ...(ca ? { ca } : {}) },
    ...(minutes ? { continuousMinutes: minutes } : {}),
  };
}

/**
 * Every line of an uploaded list as an account, or a refusal naming the first bad line — before
 * any import starts, so a list is started whole or not at all.
 */
export function imapAccountsOf(forms: (ImapImportForm & { line?: number })[]): void {
  if (!forms.length) throw new InputError('imap.error.csvEmpty', {}, 'accounts');
  forms.forEach((form, i) => {
    try {
      imapAccountOf(form);
    } catch (e) {
      if (!(e instanceof InputError)) throw e;
      const line = form.line ?? i + 1;
      throw new InputError('imap.error.csvLine', { line, field: e.field ?? '' }, 'accounts');
    }
  });
}

export function createImapImports(deps: ImapImportDeps) {
  const { db } = deps;
  const handle = async (session: SessionInfo, importId: string) => {
    requireManager(session, 'import');
    if (!isUuid(importId)) throw new InputError('imap.error.unknown');
    const row = await withTenant(db, session.tenantId, (tx) =>
      tx.selectFrom('imap_imports').select('status').where('id', '=', importId).executeTakeFirst(),
    );
    if (!row) throw new InputError('imap.error.unknown');
    const t = await deps.temporal();
    return { row, wf: t.client.workflow.getHandle(imapImportWorkflowId(importId)) };
  };
  const api = {
    /** Every account of an uploaded list, or none when a line is bad (imapAccountsOf). */
    async startMany(
      session: SessionInfo,
      forms: (ImapImportForm & { line?: number })[],
      ip: string,
    ): Promise<number> {
      requireManager(session, 'import');
      imapAccountsOf(forms);
      for (const form of forms) await api.start(session, form, ip);
      return forms.length;
    },

    async start(session: SessionInfo, form: ImapImportForm, ip: string): Promise<string> {
      requireManager(session, 'import');
      const parsed = imapAccountOf(form);
      const importId = randomUUID();
      await withTenant(db, session.tenantId, async (tx) => {
        await tx
          .insertInto('imap_imports')
          .values({
            id: importId,
            tenant_id: session.tenantId,
            created_by: session.userId,
            host: parsed.account.host,
            port: parsed.account.port,
            security: parsed.account.security,
            username: parsed.account.user,
            continuous_minutes: parsed.continuousMinutes ?? null,
            error: null,
            last_sync_at: null,
            finished_at: null,
          })
          .execute();
        await recordAudit(tx, session.tenantId, {
          action: 'import.created',
          actor: { type: 'user', id: session.userId },
          ip,
          target: { type: 'import', id: importId },
          details: {
            format: 'imap',
            host: parsed.account.host,
            continuousMinutes: parsed.continuousMinutes ?? null,
          },
          sealed: { user: parsed.account.user },
        });
      });
      try {
        const t = await deps.temporal();
        await startTenantWorkflow(t, 'importImapAccount', {
          tenantId: session.tenantId,
          workflowId: imapImportWorkflowId(importId),
          args: [{ tenantId: session.tenantId, importId, ...parsed }],
        });
      } catch (e) {
        await finishImapImport(deps, {
          tenantId: session.tenantId,
          importId,
          status: 'failed',
          error: (e as Error).message,
        });
        throw e;
      }
      return importId;
    },

    /** Continuous imports: fetch new mail now. */
    async syncNow(session: SessionInfo, importId: string) {
      const { row, wf } = await handle(session, importId);
      if (row.status === 'watching') await wf.signal(imapSyncNow);
    },

    /** Continuous imports: end after the pass under way. */
    async stop(session: SessionInfo, importId: string) {
      const { row, wf } = await handle(session, importId);
      if (row.status === 'watching' || row.status === 'running') await wf.signal(imapStop);
    },

    async list(session: SessionInfo) {
      requireManager(session, 'import');
      return withTenant(db, session.tenantId, async (tx) => {
        const imports = await tx
          .selectFrom('imap_imports')
          .selectAll()
          .orderBy('created_at', 'desc')
          .limit(50)
          .execute();
        const folders = imports.length
          ? await tx
              .selectFrom('imap_import_folders')
              .selectAll()
              .where(
                'import_id',
                'in',
                imports.map((i) => i.id),
              )
              .orderBy('path')
              .execute()
          : [];
        return imports.map((i) => ({
          ...i,
          folders: folders.filter((f) => f.import_id === i.id),
        }));
      });
    },
  };
  return api;
}

export type ImapImports = ReturnType<typeof createImapImports>;
