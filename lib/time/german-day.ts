/**
 * Midnight in Germany (Europe/Berlin, the time zone of our schedules and customers) on the day of
 * `at`, as epoch milliseconds: "today" on the portal's home. Berlin is UTC+1 or UTC+2 and its
 * clock changes at 02:00/03:00, never at midnight, so one of the two offsets fits.
 */
const berlinDate = new Intl.DateTimeFormat('en-CA', {
  timeZone: 'Europe/Berlin',
  year: 'numeric',
  month: '2-digit',
  day: '2-digit',
});

export function startOfDayInGermany(at: Date): number {
  const day = berlinDate.format(at);
  const utcMidnight = Date.parse(`${day}T00:00:00Z`);
  for (const hours of [1, 2]) {
    const t = utcMidnight - hours * 3_600_000;
    if (berlinDate.format(t) === day && berlinDate.format(t - 1) !== day) return t;
  }
  throw new Error(`no midnight found in Europe/Berlin for ${day}`);
}
