import type { ImapImportInput } from '../contracts/import';
import {
  finishImapImport,
  syncImapAccount,
  type ImapSyncDeps,
  type ImapSyncSummary,
} from '../lib/import/imap-sync';
import { heartbeat } from '../lib/temporal/heartbeat';
import type { ImportActivityDeps } from './import';

/**
 * The importImapAccount workflow's activities. `syncImap` is safe to retry: every folder resumes
 * after its checkpoint (lib/import/imap-sync.ts).
 */
export function createImapImportActivities(
  deps: ImportActivityDeps,
  ingest: () => Promise<ImapSyncDeps>,
) {
  return {
    async syncImap(input: ImapImportInput): Promise<ImapSyncSummary> {
      return syncImapAccount(
        await ingest(),
        { tenantId: input.tenantId, importId: input.importId, account: input.account },
        () => heartbeat(),
      );
    },
    finishImap(input: {
      tenantId: string;
      importId: string;
      status: 'done' | 'failed' | 'watching';
      error?: string;
    }): Promise<void> {
      return finishImapImport(deps, input);
    },
  };
}

export type ImapImportActivities = ReturnType<typeof createImapImportActivities>;
