import { createArchiveActivities } from './archive';
import { createLedgerActivities, type LedgerDeps } from './ledger';
import { createSearchIndexActivities } from './search-index';
import { createSmokeActivities, type SmokeDeps } from './smoke';

export type ActivityDeps = SmokeDeps & LedgerDeps;

/** Every activity the worker registers, built once with its dependencies. */
export function createActivities(deps: ActivityDeps) {
  return {
    ...createSmokeActivities(deps),
    ...createLedgerActivities(deps),
    ...createArchiveActivities(deps),
    ...createSearchIndexActivities(deps),
  };
}
export type Activities = ReturnType<typeof createActivities>;
