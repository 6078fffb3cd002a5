import { randomUUID } from 'node:crypto';
import type { Readable } from 'node:stream';
import { GetObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import type { Client } from '@temporalio/client';
import type { ExportInput } from '../contracts/export';
import { recordAudit } from '../lib/audit/record';
import type { SessionInfo } from '../lib/auth/sessions';
import type { Db } from '../lib/db';
import { withTenant } from '../lib/db/tenant-scope';
import { destroyGrant } from '../lib/vault/grants';
import { startTenantWorkflow } from '../lib/temporal/tenant-workflow';
import { grantFromSession } from '../lib/auth/session-grant';
import { isUuid } from '../lib/input/input-error';

/**
 * Exports as the portal starts, lists and serves them. Starting one lends the export workflow a
 * decryption grant from the user's unlocked session (24 h at most, destroyed when writing ends)
 * and audits `export.created` with the query sealed; every download of a part is audited. A member
 * exports only their own mailbox. Never an unencrypted export: the files are AES-256 ZIPs.
 */

export const EXPORT_DAYS = 7;
const GRANT_TTL_MS = 24 * 3_600_000;

export interface ExportDeps {
  db: Db;
  s3: S3Client;
  bucket: string;
  temporal: () => Promise<{ client: Client; taskQueue: string }>;
}

export const exportWorkflowId = (exportId: string) => `export-${exportId}`;

export function createExports(deps: ExportDeps) {
  const { db } = deps;
  return {
    async start(
      session: SessionInfo,
      cookie: string,
      input: {
        query: string;
        format: 'eml' | 'mbox';
        includePdfs: boolean;
        password: string;
        ip: string;
        expiresInDays?: number;
      },
    ): Promise<string> {
      const exportId = randomUUID();
      const grant = await grantFromSession(db, session, cookie, {
        purpose: 'export',
        ttlMs: GRANT_TTL_MS,
      });
      try {
        await withTenant(db, session.tenantId, async (tx) => {
          await tx
            .insertInto('exports')
            .values({
              id: exportId,
              tenant_id: session.tenantId,
              created_by: session.userId,
              format: input.format,
              include_pdfs: input.includePdfs,
              total: null,
              error: null,
              finished_at: null,
              expires_at: null,
            })
            .execute();
          await recordAudit(tx, session.tenantId, {
            action: 'export.created',
            actor: { type: 'user', id: session.userId },
            ip: input.ip,
            target: { type: 'export', id: exportId },
            details: { format: input.format, includePdfs: input.includePdfs },
            sealed: { query: input.query },
          });
        });
        const t = await deps.temporal();
        const args: ExportInput = {
          grant: { tenantId: session.tenantId, grantId: grant.grantId, grantKey: grant.grantKey },
          exportId,
          query: input.query,
          mailboxes: session.role === 'member' ? [session.email.toLowerCase()] : undefined,
          password: input.password,
          format: input.format,
          includePdfs: input.includePdfs,
          expiresInDays: input.expiresInDays ?? EXPORT_DAYS,
        };
        await startTenantWorkflow(t, 'exportMailbox', {
          tenantId: session.tenantId,
          workflowId: exportWorkflowId(exportId),
          args: [args],
        });
        return exportId;
      } catch (e) {
        await destroyGrant(db, session.tenantId, grant.grantId);
        throw e;
      }
    },

    /** The user's exports (all of the tenant's for owners and admins), newest first. */
    async list(session: SessionInfo) {
      return withTenant(db, session.tenantId, (tx) => {
        let q = tx.selectFrom('exports').selectAll().orderBy('created_at', 'desc').limit(50);
        if (session.role !== 'owner' && session.role !== 'admin')
          q = q.where('created_by', '=', session.userId);
        return q.execute();
      });
    },

    async get(session: SessionInfo, exportId: string) {
      if (!isUuid(exportId)) return undefined;
      const row = (await this.list(session)).find((e) => e.id === exportId);
      if (!row) return undefined;
      return row;
    },

    /** One part of a finished export as a stream; audited. */
    async download(
      session: SessionInfo,
      exportId: string,
      n: number,
      ip: string,
    ): Promise<{ stream: Readable; size: number; filename: string } | undefined> {
      const found = await this.get(session, exportId);
      const part = found?.status === 'done' ? found.parts.find((p) => p.n === n) : undefined;
      if (!part) return undefined;
      await withTenant(db, session.tenantId, (tx) =>
        recordAudit(tx, session.tenantId, {
          action: 'export.downloaded',
          actor: { type: 'user', id: session.userId },
          ip,
          target: { type: 'export', id: exportId },
          details: { part: n },
        }),
      );
      const res = await deps.s3.send(new GetObjectCommand({ Bucket: deps.bucket, Key: part.key }));
      return {
        stream: res.Body as Readable,
        size: part.size,
        filename: `export-${found!.created_at.toISOString().slice(0, 10)}-${exportId.slice(0, 8)}-teil-${n + 1}.zip`,
      };
    },
  };
}

export type Exports = ReturnType<typeof createExports>;
