import { atPhrase, untilPhrase } from '../../web/app/lib/format';

/** Issue 25 §3: a lockout says until when, in Berlin time, in both languages. */
describe('untilPhrase', () => {
  const now = '2026-12-02T12:00:00Z'; // 13:00 in Berlin
  const after = (s: number) => new Date(Date.parse(now) + s * 1000);

  it('says today, tomorrow or the date, with how long that is', () => {
    expect(untilPhrase('de', after(300), now)).toBe('heute um 13:05 Uhr (in 5 Minuten)');
    expect(untilPhrase('en', after(300), now)).toBe('today at 13:05 (in 5 minutes)');
    expect(untilPhrase('de', after(30), now)).toBe('heute um 13:00 Uhr (in 1 Minute)');
    // The figure the issue quoted: "Bitte warten Sie 84294 Sekunden".
    expect(untilPhrase('de', after(84294), now)).toBe('morgen um 12:24 Uhr (in etwa 23 Stunden)');
    expect(untilPhrase('en', after(84294), now)).toBe('tomorrow at 12:24 (in about 23 hours)');
    expect(untilPhrase('de', after(3 * 86400), now)).toBe(
      'am 05.12.2026 um 13:00 Uhr (in etwa 72 Stunden)',
    );
    expect(untilPhrase('en', after(3 * 86400), now)).toBe(
      'on 5 Dec 2026 at 13:00 (in about 72 hours)',
    );
  });

  it('counts days in Berlin, across midnight and the change to summer time', () => {
    // 23:30 in Berlin (CET) the night summer time starts; an hour later it is the next day.
    expect(untilPhrase('de', '2026-03-28T23:30:00Z', '2026-03-28T22:30:00Z')).toBe(
      'morgen um 00:30 Uhr (in 60 Minuten)',
    );
    // …and at 23:30 the next evening (CEST) "tomorrow" is still one calendar day on.
    expect(untilPhrase('en', '2026-03-29T23:00:00Z', '2026-03-29T21:30:00Z')).toBe(
      'tomorrow at 01:00 (in 90 minutes)',
    );
    // 00:30 UTC is already the next day in Berlin: "today" is Berlin's day, not UTC's.
    expect(untilPhrase('en', '2026-12-03T00:30:00Z', '2026-12-02T23:45:00Z')).toBe(
      'today at 01:30 (in 45 minutes)',
    );
  });

  it('says when something ended: today, yesterday or the date (expiry messages)', () => {
    expect(atPhrase('de', '2026-12-02T13:30:00Z', '2026-12-02T14:00:00Z')).toBe(
      'heute um 14:30 Uhr',
    );
    expect(atPhrase('de', '2026-12-01T22:10:00Z', '2026-12-02T08:00:00Z')).toBe(
      'gestern um 23:10 Uhr',
    );
    expect(atPhrase('en', '2026-12-01T22:10:00Z', '2026-12-02T08:00:00Z')).toBe(
      'yesterday at 23:10',
    );
    expect(atPhrase('de', '2026-11-28T08:15:00Z', '2026-12-02T08:00:00Z')).toBe(
      'am 28.11.2026 um 09:15 Uhr',
    );
    // The day summer time starts (23 hours long): 00:30 CET that day is "yesterday" at 01:00 the next.
    expect(atPhrase('en', '2026-03-28T23:30:00Z', '2026-03-29T23:00:00Z')).toBe(
      'yesterday at 00:30',
    );
  });
});
