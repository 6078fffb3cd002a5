import { ApplicationFailure, CancellationScope, proxyActivities } from '@temporalio/workflow';
import type { ImportActivities } from '../activities/import';
import type { ImportSummary } from '../lib/import/run';
import type { ImportInput } from '../contracts/import';

const { importEntries } = proxyActivities<ImportActivities>({
  startToCloseTimeout: '24 hours',
  heartbeatTimeout: '2 minutes',
  retry: { maximumAttempts: 20, initialInterval: '5 seconds', maximumInterval: '5 minutes' },
});
const { failImport } = proxyActivities<ImportActivities>({
  startToCloseTimeout: '1 minute',
  retry: { initialInterval: '1 second', maximumInterval: '1 minute' },
});

export type { ImportInput };

/**
 * Imports an uploaded MBOX or ZIP of .eml files, each mail through the ingest path and its own
 * archiveMail workflow. Progress lives in the imports row (the portal shows it); a worker crash
 * resumes after the last finished entry.
 */
export async function importMail(input: ImportInput): Promise<ImportSummary> {
  try {
    return await importEntries(input);
  } catch (e) {
    const cause = e instanceof Error ? (e.cause as Error | undefined) : undefined;
    const message = cause?.message ?? (e instanceof Error ? e.message : String(e));
    // Recorded even when the import is cancelled.
    await CancellationScope.nonCancellable(() =>
      failImport({ tenantId: input.tenantId, importId: input.importId, error: message }),
    );
    throw ApplicationFailure.nonRetryable(`import failed: ${message}`, 'ImportFailed');
  }
}
