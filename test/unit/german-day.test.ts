import { startOfDayInGermany } from '../../lib/time/german-day';

describe('startOfDayInGermany', () => {
  it('is 23:00 UTC the day before in winter and 22:00 UTC in summer', () => {
    expect(new Date(startOfDayInGermany(new Date('2026-12-01T15:00:00Z'))).toISOString()).toBe(
      '2026-11-30T23:00:00.000Z',
    );
    expect(new Date(startOfDayInGermany(new Date('2026-07-01T08:00:00Z'))).toISOString()).toBe(
      '2026-06-30T22:00:00.000Z',
    );
  });

  it('counts a UTC evening that is already the next day in Germany to that day', () => {
    expect(new Date(startOfDayInGermany(new Date('2026-12-01T23:30:00Z'))).toISOString()).toBe(
      '2026-12-01T23:00:00.000Z',
    );
  });

  it('holds on the days the clocks change', () => {
    expect(new Date(startOfDayInGermany(new Date('2026-03-29T12:00:00Z'))).toISOString()).toBe(
      '2026-03-28T23:00:00.000Z',
    );
    expect(new Date(startOfDayInGermany(new Date('2026-10-25T12:00:00Z'))).toISOString()).toBe(
      '2026-10-24T22:00:00.000Z',
    );
  });
});
