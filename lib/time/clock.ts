/**
 * Where time-dependent decisions read the time (retention expiry, …), so a test moves a clock
 * instead of sleeping until something expires (issue 18 §7). Production uses the system clock.
 */
export interface Clock {
  now(): Date;
}

export const systemClock: Clock = { now: () => new Date() };
