import type { RetentionUnit } from '../db/schema';

/**
 * How long a retention class keeps mail, and the arithmetic on it. Calendar units (years, months)
 * are added on the UTC calendar; where the target day does not exist (29 Feb + 1 year) the date
 * rolls over to the next day, which errs on the side of keeping.
 */

export interface Period {
  amount: number;
  unit: RetentionUnit;
}

export const UNITS: readonly RetentionUnit[] = ['years', 'months', 'days', 'minutes'];

/** The class every tenant has: ten years, as AO §147 and HGB §257 ask of business letters. */
export const DEFAULT_CLASS = 'default';
export const DEFAULT_PERIOD: Period = { amount: 10, unit: 'years' };

/** Six years is the shortest period the German retention duties know for business letters. */
export const LEGAL_MINIMUM: Period = { amount: 6, unit: 'years' };

export function addPeriod(from: Date, p: Period): Date {
  const d = new Date(from.getTime());
  switch (p.unit) {
    case 'years':
      d.setUTCFullYear(d.getUTCFullYear() + p.amount);
      break;
    case 'months':
      d.setUTCMonth(d.getUTCMonth() + p.amount);
      break;
    case 'days':
      d.setUTCDate(d.getUTCDate() + p.amount);
      break;
    case 'minutes':
      d.setTime(d.getTime() + p.amount * 60_000);
      break;
  }
  return d;
}

/** Orders periods by length (from a common start, so months and years compare exactly). */
export function comparePeriods(a: Period, b: Period): number {
  const start = new Date(Date.UTC(2000, 0, 1));
  return addPeriod(start, a).getTime() - addPeriod(start, b).getTime();
}

export const periodText = (p: Period): string => `${p.amount} ${p.unit}`;
