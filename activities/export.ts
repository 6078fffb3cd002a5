import { DeleteObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { metrics } from '../lib/metrics/metrics';
import { sql } from 'kysely';
import { recordAudit } from '../lib/audit/record';
import type { Db } from '../lib/db';
import type { ExportPart } from '../lib/db/schema';
import { withTenant } from '../lib/db/tenant-scope';
import { prepareExport } from '../lib/export/prepare';
import { writeExportPart, type PartInput } from '../lib/export/write-part';
import { heartbeat } from '../lib/temporal/heartbeat';
import { withGrant, type GrantRef } from './with-grant';

/**
 * The exportMailbox workflow's activities. Each works under the export's decryption grant and is
 * idempotent: the mail list is numbered once, a part already written is returned as it is, and
 * marking the end twice changes nothing.
 */
export interface ExportDeps {
  db: Db;
  s3: S3Client;
  bucket: string;
  tsaCaPem: () => string;
}

export function createExportActivities(deps: ExportDeps) {
  // Never backwards: a part written again after a crash counts from its start once more.
  const setMailsDone = (tenantId: string, exportId: string, done: number) =>
    withTenant(deps.db, tenantId, (tx) =>
      tx
        .updateTable('exports')
        .set({ mails_done: sql`greatest(mails_done, ${done})` })
        .where('id', '=', exportId)
        .execute(),
    );
  return {
    async prepareExport(input: {
      grant: GrantRef;
      exportId: string;
      query: string;
      mailboxes?: string[];
    }): Promise<number> {
      return withGrant(deps.db, input.grant, 'export', (keys, keyring) =>
        prepareExport(deps.db, keys, keyring, input),
      );
    },

    async writeExportPart(
      input: { grant: GrantRef } & Omit<PartInput, 'tenantId'>,
    ): Promise<ExportPart> {
      const tenantId = input.grant.tenantId;
      const row = await withTenant(deps.db, tenantId, (tx) =>
        tx
          .selectFrom('exports')
          .select('parts')
          .where('id', '=', input.exportId)
          .executeTakeFirstOrThrow(),
      );
      const written = row.parts.find((p) => p.n === input.n);
      if (written) return written;
      // Progress for the portal, in the database: at most once a second, never two writes at once.
      const base = row.parts.reduce((sum, p) => sum + p.mails, 0);
      let lastWrite = 0;
      let writing: Promise<unknown> | undefined;
      const recordProgress = (done: number) => {
        if (writing || Date.now() - lastWrite < 1000) return;
        lastWrite = Date.now();
        writing = setMailsDone(tenantId, input.exportId, base + done)
          .catch(() => undefined)
          .finally(() => (writing = undefined));
      };
      const { part, decrypted } = await withGrant(
        deps.db,
        input.grant,
        'export',
        (_keys, keyring) =>
          writeExportPart(deps, keyring, { ...input, tenantId }, (done) => {
            heartbeat();
            recordProgress(done);
          }),
      );
      await writing;
      // The part and the list of every mail decrypted for it are recorded in one transaction
      // (issue 17 §6): the audit chain, anchored in the ledger, names each mail an export opened.
      await withTenant(deps.db, tenantId, async (tx) => {
        await tx
          .updateTable('exports')
          .set({
            parts: sql`parts || ${JSON.stringify([part])}::jsonb`,
            mails_done: sql`greatest(mails_done, ${base + part.mails})`,
          })
          .where('id', '=', input.exportId)
          .execute();
        await recordAudit(tx, tenantId, {
          action: 'export.mails_decrypted',
          actor: { type: 'system', label: 'exportMailbox' },
          target: { type: 'export', id: input.exportId },
          details: { part: part.n, mails: decrypted.length, messageIds: decrypted },
        });
      });
      return part;
    },

    async finishExport(input: {
      tenantId: string;
      exportId: string;
      expiresAt: string;
      failed?: string;
    }) {
      const finished = await withTenant(deps.db, input.tenantId, (tx) =>
        tx
          .updateTable('exports')
          .set({
            status: input.failed ? 'failed' : 'done',
            error: input.failed ?? null,
            finished_at: new Date(),
            expires_at: new Date(input.expiresAt),
          })
          .where('id', '=', input.exportId)
          .where('status', '=', 'running')
          .returning(['created_at', 'finished_at'])
          .executeTakeFirst(),
      );
      if (finished && !input.failed)
        metrics.exportDuration.observe(
          (finished.finished_at!.getTime() - finished.created_at.getTime()) / 1000,
        );
    },

    /** Deletes the export's files (at expiry, or after a failure) and says so in the audit log. */
    async deleteExportFiles(input: {
      tenantId: string;
      exportId: string;
      reason: 'expired' | 'failed';
    }) {
      const row = await withTenant(deps.db, input.tenantId, (tx) =>
        tx
          .selectFrom('exports')
          .select(['parts', 'status'])
          .where('id', '=', input.exportId)
          .executeTakeFirstOrThrow(),
      );
      for (const p of row.parts)
        await deps.s3.send(new DeleteObjectCommand({ Bucket: deps.bucket, Key: p.key }));
      if (input.reason !== 'expired' || row.status === 'expired') return;
      await withTenant(deps.db, input.tenantId, async (tx) => {
        await tx
          .updateTable('exports')
          .set({ status: 'expired' })
          .where('id', '=', input.exportId)
          .execute();
        await recordAudit(tx, input.tenantId, {
          action: 'export.expired',
          actor: { type: 'system', label: 'exportMailbox' },
          target: { type: 'export', id: input.exportId },
        });
      });
    },
  };
}

export type ExportActivities = ReturnType<typeof createExportActivities>;
