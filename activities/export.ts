import { DeleteObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { metrics } from '../lib/metrics/metrics';
import type { Db } from '../lib/db';
import type { ExportPart } from '../lib/db/schema';
import {
  exportState,
  finishExportRecord,
  markExportExpired,
  recordExportPart,
  setMailsDone,
} from '../lib/export/export-record';
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
      const ref = { tenantId, exportId: input.exportId };
      const row = await exportState(deps.db, ref);
      const written = row.parts.find((p) => p.n === input.n);
      if (written) return written;
      // Progress for the portal, in the database: at most once a second, never two writes at once.
      const base = row.parts.reduce((sum, p) => sum + p.mails, 0);
      let lastWrite = 0;
      let writing: Promise<unknown> | undefined;
      const recordProgress = (done: number) => {
        if (writing || Date.now() - lastWrite < 1000) return;
        lastWrite = Date.now();
        writing = setMailsDone(deps.db, ref, base + done)
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
      await recordExportPart(deps.db, ref, part, base, decrypted);
      return part;
    },

    async finishExport(input: {
      tenantId: string;
      exportId: string;
      expiresAt: string;
      failed?: string;
    }) {
      const finished = await finishExportRecord(deps.db, input);
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
      const row = await exportState(deps.db, input);
      for (const p of row.parts)
        await deps.s3.send(new DeleteObjectCommand({ Bucket: deps.bucket, Key: p.key }));
      if (input.reason !== 'expired' || row.status === 'expired') return;
      await markExportExpired(deps.db, input);
    },
  };
}

export type ExportActivities = ReturnType<typeof createExportActivities>;
