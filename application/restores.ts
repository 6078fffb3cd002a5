import { randomUUID } from 'node:crypto';
import type { Client } from '@temporalio/client';
import type { RestoreInput } from '../contracts/restore';
import { recordAudit } from '../lib/audit/record';
import { grantFromSession } from '../lib/auth/session-grant';
import type { SessionInfo } from '../lib/auth/sessions';
import type { Db } from '../lib/db';
import { withTenant } from '../lib/db/tenant-scope';
import { InputError, isUuid } from '../lib/input/input-error';
import { destroyGrant } from '../lib/vault/grants';
import { startTenantWorkflow } from '../lib/temporal/tenant-workflow';
import { imapAccountOf, type ImapImportForm } from './imap-imports';

/**
 * Restores as the portal starts and lists them (issue 22 §4): archived mails back into an IMAP
 * mailbox, from one mail, a search or a selection. Owners and admins restore any mails into any
 * mailbox; everyone else into their own mailbox only (the IMAP user is their address), and a
 * member only their own mails. The work runs under a decryption grant lent from the session
 * (24 h at most, destroyed at the end); every mail decrypted is audited.
 */
export interface RestoreDeps {
  db: Db;
  temporal: () => Promise<{ client: Client; taskQueue: string }>;
}

export const DEFAULT_RESTORE_FOLDER = 'Wiederhergestellt';
const GRANT_TTL_MS = 24 * 3_600_000;
export const restoreWorkflowId = (restoreId: string) => `restore-${restoreId}`;

export type RestoreForm = Omit<ImapImportForm, 'continuousMinutes'> & {
  folder: string;
  query?: string;
  messageIds?: string[];
};

/** A folder name as IMAP takes it: no control characters and no LIST wildcards. */
function folderOf(raw: string): string {
  const folder = raw.trim() || DEFAULT_RESTORE_FOLDER;
  if (folder.length > 200 || /[\p{Cc}*%]/u.test(folder))
    throw new InputError('restore.error.folder', {}, 'folder');
  return folder;
}

export function createRestores(deps: RestoreDeps) {
  const { db } = deps;
  return {
    async start(session: SessionInfo, cookie: string, form: RestoreForm, ip: string) {
      const { account } = imapAccountOf({ ...form, continuousMinutes: '' });
      const folder = folderOf(form.folder);
      const manager = session.role === 'owner' || session.role === 'admin';
      if (!manager && account.user.toLowerCase() !== session.email.toLowerCase())
        throw new InputError('restore.error.ownMailbox', { email: session.email }, 'user');
      const messageIds = form.messageIds?.filter(isUuid);
      if (form.messageIds && !messageIds?.length) throw new InputError('restore.error.nothing');
      const restoreId = randomUUID();
      const grant = await grantFromSession(db, session, cookie, {
        purpose: 'restore',
        ttlMs: GRANT_TTL_MS,
      });
      try {
        await withTenant(db, session.tenantId, async (tx) => {
          await tx
            .insertInto('restores')
            .values({
              id: restoreId,
              tenant_id: session.tenantId,
              created_by: session.userId,
              host: account.host,
              port: account.port,
              username: account.user,
              folder,
              total: null,
              error: null,
              finished_at: null,
            })
            .execute();
          await recordAudit(tx, session.tenantId, {
            action: 'restore.created',
            actor: { type: 'user', id: session.userId },
            ip,
            target: { type: 'restore', id: restoreId },
            details: { host: account.host, folder, mails: messageIds?.length ?? null },
            sealed: { user: account.user, query: form.query ?? '' },
          });
        });
        const args: RestoreInput = {
          grant: { tenantId: session.tenantId, grantId: grant.grantId, grantKey: grant.grantKey },
          restoreId,
          account,
          folder,
          ...(messageIds ? { messageIds } : { query: form.query ?? '' }),
          ...(session.role === 'member' ? { mailboxes: [session.email.toLowerCase()] } : {}),
        };
        const t = await deps.temporal();
        await startTenantWorkflow(t, 'restoreMails', {
          tenantId: session.tenantId,
          workflowId: restoreWorkflowId(restoreId),
          args: [args],
        });
        return restoreId;
      } catch (e) {
        await destroyGrant(db, session.tenantId, grant.grantId);
        throw e;
      }
    },

    /** The user's restores (all of the tenant's for owners and admins), newest first. */
    async list(session: SessionInfo) {
      return withTenant(db, session.tenantId, (tx) => {
        let q = tx.selectFrom('restores').selectAll().orderBy('created_at', 'desc').limit(50);
        if (session.role !== 'owner' && session.role !== 'admin')
          q = q.where('created_by', '=', session.userId);
        return q.execute();
      });
    },
  };
}

export type Restores = ReturnType<typeof createRestores>;
