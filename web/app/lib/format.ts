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
