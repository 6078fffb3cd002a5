import { fold } from './tokenize';
import { SORT_KEY_CHARS, type IndexedDoc, type Order, type OrderEntry } from './segment-format';

/**
 * Result orders of the archive list, each a stored order read forwards or backwards. The stored
 * orders break ties the same way everywhere (time, then id), so an order is total and a cursor —
 * the last entry shown — says exactly where the next page starts, in every segment.
 */

export type SortOrder = 'newest' | 'oldest' | 'largest' | 'smallest' | 'from' | 'subject';
export const SORT_ORDERS: readonly SortOrder[] = [
  'newest',
  'oldest',
  'largest',
  'smallest',
  'from',
  'subject',
];

export const orderOf = (sort: SortOrder): { order: Order; dir: 1 | -1 } =>
  ({
    newest: { order: 'time', dir: -1 },
    oldest: { order: 'time', dir: 1 },
    smallest: { order: 'size', dir: 1 },
    largest: { order: 'size', dir: -1 },
    subject: { order: 'subject', dir: 1 },
    from: { order: 'from', dir: 1 },
  })[sort] as { order: Order; dir: 1 | -1 };

const cmp = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/** Time ascending, id descending: read backwards, newest first and ids ascending. */
const byTime = (a: OrderEntry, b: OrderEntry) => a[1] - b[1] || cmp(b[2], a[2]);
/** Key ascending, then newest first. */
const byKey = (a: OrderEntry, b: OrderEntry) =>
  (typeof a[0] === 'number'
    ? (a[0] as number) - (b[0] as number)
    : cmp(a[0] as string, b[0] as string)) || -byTime(a, b);

export const compareIn = (order: Order): ((a: OrderEntry, b: OrderEntry) => number) =>
  order === 'time' ? byTime : byKey;

const sender = (d: IndexedDoc) => d.from[0]?.name || d.from[0]?.address || '';

export function sortKey(doc: IndexedDoc, order: Order): number | string | null {
  switch (order) {
    case 'time':
      return null;
    case 'size':
      return doc.size;
    case 'subject':
      return fold(doc.subject ?? '').slice(0, SORT_KEY_CHARS);
    case 'from':
      return fold(sender(doc)).slice(0, SORT_KEY_CHARS);
  }
}

export const entryOf = (doc: IndexedDoc, order: Order, pos: number): OrderEntry => [
  sortKey(doc, order),
  doc.receivedAt,
  doc.id,
  pos,
];

/** The last row of a page, for the next one; carries the sort it belongs to. */
export const encodeCursor = (sort: SortOrder, e: OrderEntry): string =>
  Buffer.from(JSON.stringify([sort, e[0], e[1], e[2]]), 'utf8').toString('base64url');

export function decodeCursor(cursor: string, sort: SortOrder): OrderEntry | undefined {
  try {
    const [s, key, t, id] = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as [
      string, unknown, unknown, unknown,
    ]; // prettier-ignore
    const { order } = orderOf(sort);
    const keyOk =
      order === 'time' ? key === null : typeof key === (order === 'size' ? 'number' : 'string');
    if (s !== sort || !keyOk || typeof t !== 'number' || typeof id !== 'string') return undefined;
    return [key as OrderEntry[0], t, id, -1];
  } catch {
    return undefined;
  }
}
