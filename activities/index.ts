import { createArchiveActivities } from './archive';
import { createEvidenceActivities } from './evidence';
import { createLedgerActivities, type LedgerDeps } from './ledger';
import { createExportActivities, type ExportDeps } from './export';
import { createIntegrityActivities, type IntegrityActivityDeps } from './integrity';
import { createImportActivities, type ImportActivityDeps } from './import';
import { createKeyRotationActivities } from './key-rotation';
import { createRestoreActivities } from './restore';
import { createRetentionActivities } from './retention';
import { createSearchIndexActivities, type SearchIndexDeps } from './search-index';
import { createSessionActivities } from './sessions';
import { createSmokeActivities, type SmokeDeps } from './smoke';

export type ActivityDeps = SmokeDeps &
  LedgerDeps &
  IntegrityActivityDeps &
  ExportDeps &
  ImportActivityDeps &
  SearchIndexDeps;

/** Every activity the worker registers, built once with its dependencies. */
export function createActivities(deps: ActivityDeps) {
  const ledger = createLedgerActivities(deps);
  return {
    ...createSmokeActivities(deps),
    ...ledger,
    ...createArchiveActivities({ ...deps, ledgerAppendMany: ledger.ledgerAppendMany }),
    ...createSearchIndexActivities(deps),
    ...createIntegrityActivities(deps),
    ...createExportActivities(deps),
    ...createRetentionActivities(deps),
    ...createKeyRotationActivities(deps),
    ...createImportActivities(deps),
    ...createRestoreActivities(deps),
    ...createSessionActivities(deps),
    ...createEvidenceActivities(deps),
  };
}
export type Activities = ReturnType<typeof createActivities>;
