import { Context } from '@temporalio/activity';

/**
 * Heartbeats of long activities. With a heartbeat timeout, Temporal notices within seconds when a
 * worker died or an attempt's completion was lost (a Temporal server restart), instead of waiting
 * for the start-to-close timeout; both helpers are no-ops outside an activity (unit tests).
 */

function currentContext(): Context | undefined {
  try {
    return Context.current();
  } catch {
    return undefined;
  }
}

export function heartbeat(): void {
  currentContext()?.heartbeat();
}

/** Runs `fn`, heartbeating every `everyMs` until it settles. */
export async function whileHeartbeating<T>(fn: () => Promise<T>, everyMs = 2000): Promise<T> {
  const ctx = currentContext();
  const beat = ctx ? setInterval(() => ctx.heartbeat(), everyMs) : undefined;
  try {
    return await fn();
  } finally {
    clearInterval(beat);
  }
}
