import {
  ApplicationFailure,
  CancellationScope,
  proxyActivities,
  setHandler,
  sleep,
} from '@temporalio/workflow';
import type { ExportActivities } from '../activities/export';
import type { SearchIndexActivities } from '../activities/search-index';
import { exportProgressQuery, type ExportInput, type ExportProgress } from '../contracts/export';

export type { ExportInput };

const { prepareExport, writeExportPart } = proxyActivities<ExportActivities>({
  startToCloseTimeout: '6 hours',
  heartbeatTimeout: '1 minute',
  retry: {
    maximumAttempts: 5,
    initialInterval: '5 seconds',
    nonRetryableErrorTypes: ['GrantUnavailable'],
  },
});
const { finishExport, deleteExportFiles } = proxyActivities<ExportActivities>({
  startToCloseTimeout: '10 minutes',
  retry: { initialInterval: '5 seconds', maximumInterval: '5 minutes' },
});
const { destroyDecryptionGrant } = proxyActivities<SearchIndexActivities>({
  startToCloseTimeout: '1 minute',
  retry: { initialInterval: '1 second', maximumInterval: '1 minute' },
});

/** Mails per ZIP file: a crash redoes at most one part; most exports are a single file. */
export const MAILS_PER_PART = 2000;

export { exportProgressQuery, type ExportProgress };

/**
 * An export (issue 9): the chosen mails into AES-256 ZIP parts in object storage, under a
 * decryption grant destroyed when the writing ends; the files are kept `expiresInDays`, then
 * deleted by this same workflow (a durable timer). Progress by parts is a query; mails done within
 * a part are in the database (`exports.mails_done`), not signalled: the history grows by a few
 * events per part of 2,000 mails, whatever the export's size. Cleanups run even when the export is
 * cancelled.
 */
export async function exportMailbox(input: ExportInput): Promise<ExportProgress> {
  const tenantId = input.grant.tenantId;
  const state: ExportProgress = {
    phase: 'preparing',
    total: 0,
    done: 0,
    parts: 0,
    startedAt: Date.now(),
  };
  setHandler(exportProgressQuery, () => state);
  const expiresAt = new Date(Date.now() + input.expiresInDays * 86_400_000).toISOString();
  try {
    state.total = await prepareExport({
      grant: input.grant,
      exportId: input.exportId,
      query: input.query,
      mailboxes: input.mailboxes,
    });
    state.phase = 'writing';
    const perPart = input.mailsPerPart ?? MAILS_PER_PART;
    for (let n = 0; n * perPart < state.total || n === 0; n++) {
      const part = await writeExportPart({
        grant: input.grant,
        exportId: input.exportId,
        n,
        from: n * perPart,
        to: (n + 1) * perPart,
        password: input.password,
        format: input.format,
        includePdfs: input.includePdfs,
      });
      state.done += part.mails;
      state.parts++;
    }
    await finishExport({ tenantId, exportId: input.exportId, expiresAt });
    state.phase = 'done';
  } catch (e) {
    state.phase = 'failed';
    const why = e instanceof Error ? e.message : String(e);
    await CancellationScope.nonCancellable(async () => {
      await finishExport({
        tenantId,
        exportId: input.exportId,
        expiresAt,
        failed: why.slice(0, 300),
      });
      await deleteExportFiles({ tenantId, exportId: input.exportId, reason: 'failed' });
    });
    throw ApplicationFailure.nonRetryable(`export failed: ${why}`, 'ExportFailed');
  } finally {
    await CancellationScope.nonCancellable(() =>
      destroyDecryptionGrant({ tenantId, grantId: input.grant.grantId }),
    );
  }
  await sleep(Date.parse(expiresAt) - Date.now());
  await deleteExportFiles({ tenantId, exportId: input.exportId, reason: 'expired' });
  state.phase = 'expired';
  return state;
}
