import type { Clock } from '../../lib/time/clock';

/** The system clock plus an offset the test moves forward, instead of sleeping. */
export class MovableClock implements Clock {
  private offsetMs = 0;

  now(): Date {
    return new Date(Date.now() + this.offsetMs);
  }

  advance(ms: number): void {
    this.offsetMs += ms;
  }
}
