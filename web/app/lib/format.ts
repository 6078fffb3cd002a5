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

/** The Berlin calendar day `days` after the one `at` falls on, as YYYY-MM-DD. */
function dayAfter(at: Date, days: number): string {
  const noon = new Date(`${berlinDay(at)}T12:00:00Z`); // adding 24 h is wrong around summer time
  noon.setUTCDate(noon.getUTCDate() + days);
  return noon.toISOString().slice(0, 10);
}

/** "heute um 14:30 Uhr", "gestern um 23:10 Uhr", "am 04.12.2026 um 09:15 Uhr"; "today at 14:30"… */
export function atPhrase(lang: Lang, at: string | Date, now: string | Date): string {
  const when = new Date(at);
  const from = new Date(now);
  const time = when.toLocaleTimeString(locale(lang), {
    timeZone: 'Europe/Berlin',
    hour: '2-digit',
    minute: '2-digit',
  });
  const words = {
    '0': lang === 'de' ? 'heute' : 'today',
    '1': lang === 'de' ? 'morgen' : 'tomorrow',
    '-1': lang === 'de' ? 'gestern' : 'yesterday',
  };
  const near = Object.entries(words).find(([d]) => berlinDay(when) === dayAfter(from, Number(d)));
  const day =
    near?.[1] ??
    `${lang === 'de' ? 'am' : 'on'} ${when.toLocaleDateString(locale(lang), { timeZone: 'Europe/Berlin', dateStyle: 'medium' })}`;
  return lang === 'de' ? `${day} um ${time} Uhr` : `${day} at ${time}`;
}

/**
 * When a wait ends, as a person reads it (issue 25 §3): "heute um 14:30 Uhr (in 5 Minuten)",
 * "morgen um 09:15 Uhr", "am 04.12.2026 um 09:15 Uhr"; "today at 14:30 (in 5 minutes)"… — Berlin
 * time, measured from `now` (the server's clock when it refused).
 */
export function untilPhrase(lang: Lang, until: string | Date, now: string | Date): string {
  const end = new Date(until);
  const from = new Date(now);
  const minutes = Math.max(1, Math.ceil((end.getTime() - from.getTime()) / 60_000));
  const span =
    minutes < 120
      ? lang === 'de'
        ? `in ${minutes} ${minutes === 1 ? 'Minute' : 'Minuten'}`
        : `in ${minutes} ${minutes === 1 ? 'minute' : 'minutes'}`
      : lang === 'de'
        ? `in etwa ${Math.round(minutes / 60)} Stunden`
        : `in about ${Math.round(minutes / 60)} hours`;
  return `${atPhrase(lang, end, from)} (${span})`;
}
