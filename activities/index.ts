import type { SmokeDeps } from './smoke';
import { createSmokeActivities } from './smoke';

export type ActivityDeps = SmokeDeps;

/** Every activity the worker registers, built once with its dependencies. */
export function createActivities(deps: ActivityDeps) {
  return { ...createSmokeActivities(deps) };
}
export type Activities = ReturnType<typeof createActivities>;
