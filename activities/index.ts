import { createArchiveActivities } from './archive';
import { createLedgerActivities, type LedgerDeps } from './ledger';
import { createIntegrityActivities, type IntegrityActivityDeps } from './integrity';
import { createSearchIndexActivities } from './search-index';
import { createSmokeActivities, type SmokeDeps } from './smoke';

export type ActivityDeps = SmokeDeps & LedgerDeps & IntegrityActivityDeps;

/** Every activity the worker registers, built once with its dependencies. */
export function createActivities(deps: ActivityDeps) {
  return {
    ...createSmokeActivities(deps),
    ...createLedgerActivities(deps),
    ...createArchiveActivities(deps),
    ...createSearchIndexActivities(deps),
    ...createIntegrityActivities(deps),
  };
}
export type Activities = ReturnType<typeof createActivities>;
