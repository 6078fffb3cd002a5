import type { Lang } from '../i18n';

/** Display helpers shared by the archive pages; Berlin time, the customer's legal time zone. */

const locale = (lang: Lang) => (lang === 'de' ? 'de-DE' : 'en-GB');

export const dateTime = (lang: Lang, at: number | string | Date) =>
  new Date(at).toLocaleString(locale(lang), {
    timeZone: 'Europe/Berlin',
    dateStyle: 'medium',
    timeStyle: 'short',
  });

export function byteSize(lang: Lang, n: number): string {
  const units = ['B', 'KB', 'MB', 'GB'];
  let v = n;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return `${v.toLocaleString(locale(lang), { maximumFractionDigits: u ? 1 : 0 })} ${units[u]}`;
}

export const person = (a: { name: string; address: string }) =>
  a.name ? `${a.name} <${a.address}>` : a.address;

export const people = (list: { name: string; address: string }[]) => list.map(person).join(', ');

/** A Berlin calendar day as YYYY-MM-DD (for "today" / "tomorrow"). */
const berlinDay = (at: Date) => at.toLocaleDateString('sv-SE', { timeZone: 'Europe/Berlin' });

/**
 * When a wait ends, as a person reads it (issue 25 §3): "heute um 14:30 Uhr (in 5 Minuten)",
 * "morgen um 09:15 Uhr", "am 04.12.2026 um 09:15 Uhr"; "today at 14:30 (in 5 minutes)"… — Berlin
 * time, measured from `now` (the server's clock when it refused).
 */
export function untilPhrase(lang: Lang, until: string | Date, now: string | Date): string {
  const end = new Date(until);
  const from = new Date(now);
  const time = end.toLocaleTimeString(locale(lang), {
    timeZone: 'Europe/Berlin',
    hour: '2-digit',
    minute: '2-digit',
  });
  // The calendar day after today in Berlin (adding 24 h is wrong around summer time).
  const tomorrow = new Date(`${berlinDay(from)}T12:00:00Z`);
  tomorrow.setUTCDate(tomorrow.getUTCDate() + 1);
  const day =
    berlinDay(end) === berlinDay(from)
      ? lang === 'de'
        ? 'heute'
        : 'today'
      : berlinDay(end) === tomorrow.toISOString().slice(0, 10)
        ? lang === 'de'
          ? 'morgen'
          : 'tomorrow'
        : `${lang === 'de' ? 'am' : 'on'} ${end.toLocaleDateString(locale(lang), { timeZone: 'Europe/Berlin', dateStyle: 'medium' })}`;
  const minutes = Math.max(1, Math.ceil((end.getTime() - from.getTime()) / 60_000));
  const span =
    minutes < 120
      ? lang === 'de'
        ? `in ${minutes} ${minutes === 1 ? 'Minute' : 'Minuten'}`
        : `in ${minutes} ${minutes === 1 ? 'minute' : 'minutes'}`
      : lang === 'de'
        ? `in etwa ${Math.round(minutes / 60)} Stunden`
        : `in about ${Math.round(minutes / 60)} hours`;
  return lang === 'de' ? `${day} um ${time} Uhr (${span})` : `${day} at ${time} (${span})`;
}
