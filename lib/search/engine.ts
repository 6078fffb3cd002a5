import { fold, hasUmlaut, transliterate } from './tokenize';
import type { FieldName, Query, TermQuery } from './query';
import { readPostings, type DecodedSegment, type IndexedDoc } from './segment';

/**
 * The decrypted index of one unlocked session, in memory: every mail's summary and the inverted
 * lists of all loaded segments. Answers browse filters and searches without touching the database;
 * phrase checks against mail bodies happen in the caller (they need decryption), through
 * `verify`.
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

export interface SearchOptions {
  sort?: SortOrder;
  /** From a previous page: rows after this key. */
  cursor?: string;
  limit?: number;
  /** Confine to mails of these mailboxes (a member's own addresses). */
  mailboxes?: readonly string[];
  /** Phrase check of one candidate; only called when the query has phrases. */
  verify?: (doc: IndexedDoc) => Promise<boolean>;
  /** Upper bound of candidates `verify` is asked about per page. */
  maxVerify?: number;
}

export interface SearchResult {
  hits: IndexedDoc[];
  /** Matches before phrase checks (exact when the query has no phrase). */
  total: number;
  nextCursor?: string;
}

interface LoadedSegment {
  id: string;
  base: number;
  segment: DecodedSegment;
}

export class SearchIndex {
  readonly docs: IndexedDoc[] = [];
  private readonly segments: LoadedSegment[] = [];
  private readonly byId = new Map<string, number>();
  /** Mails deleted at retention end whose epoch lives on (held mail in it): never shown. */
  private hidden = new Set<string>();

  hide(ids: Iterable<string>): void {
    this.hidden = new Set(ids);
  }

  get segmentIds(): string[] {
    return this.segments.map((s) => s.id);
  }

  add(id: string, segment: DecodedSegment): void {
    const base = this.docs.length;
    this.segments.push({ id, base, segment });
    for (const doc of segment.docs) {
      this.byId.set(doc.id, this.docs.length);
      this.docs.push(doc);
    }
  }

  doc(id: string): IndexedDoc | undefined {
    if (this.hidden.has(id)) return undefined;
    const at = this.byId.get(id);
    return at === undefined ? undefined : this.docs[at];
  }

  /** Global positions of the mails holding `t`, ascending. */
  private matching(t: TermQuery): number[] {
    const out: number[] = [];
    for (const { base, segment } of this.segments) {
      let i = lowerBound(segment.terms, t.term);
      if (!t.prefix) {
        if (segment.terms[i] === t.term)
          for (const p of readPostings(segment, i)) out.push(base + p);
        continue;
      }
      const seen = new Set<number>();
      for (; i < segment.terms.length && segment.terms[i]!.startsWith(t.term); i++)
        for (const p of readPostings(segment, i)) seen.add(base + p);
      out.push(...[...seen].sort((a, b) => a - b));
    }
    return out;
  }

  /** Folded field texts and sort keys per mail position, each computed on first use only. */
  private readonly cache = new Map<string, (string | undefined)[]>();

  private cached(kind: string, at: number, make: (doc: IndexedDoc) => string): string {
    let column = this.cache.get(kind);
    if (!column) this.cache.set(kind, (column = []));
    return (column[at] ??= make(this.docs[at]!));
  }

  private matchesFilters(at: number, q: Query): boolean {
    const doc = this.docs[at]!;
    if (q.after !== undefined && doc.receivedAt < q.after) return false;
    if (q.before !== undefined && doc.receivedAt >= q.before) return false;
    if (q.hasAttachment && !doc.attachments.length) return false;
    if (q.larger !== undefined && doc.size <= q.larger) return false;
    if (q.smaller !== undefined && doc.size >= q.smaller) return false;
    return q.fields.every((f) =>
      f.field === 'mailbox'
        ? inMailbox(doc, f.value)
        : this.cached(`field:${f.field}`, at, (d) => fieldText(d, f.field)).includes(f.value),
    );
  }

  async search(q: Query, options: SearchOptions = {}): Promise<SearchResult> {
    let candidates: number[] | undefined;
    for (const t of [...q.all].sort((a, b) => Number(a.prefix) - Number(b.prefix))) {
      const found = this.matching(t);
      candidates = candidates ? intersect(candidates, found) : found;
      if (!candidates.length) break;
    }
    const excluded = new Set(q.none.flatMap((t) => this.matching(t)));
    const mailboxes = options.mailboxes && new Set(options.mailboxes.map((m) => m.toLowerCase()));
    const sort = options.sort ?? 'newest';
    const textKey = (at: number) =>
      sort === 'from'
        ? this.cached('sort:from', at, sender)
        : sort === 'subject'
          ? this.cached('sort:subject', at, (d) => fold(d.subject ?? ''))
          : '';
    const rows: Row[] = [];
    const consider = (at: number) => {
      if (excluded.has(at)) return;
      const doc = this.docs[at]!;
      if (this.hidden.has(doc.id)) return;
      if (mailboxes && !doc.mailboxes.some((m) => mailboxes.has(m))) return;
      if (!this.matchesFilters(at, q)) return;
      rows.push({ at, id: doc.id, t: doc.receivedAt, s: doc.size, k: textKey(at) });
    };
    if (candidates) for (const at of candidates) consider(at);
    else for (let at = 0; at < this.docs.length; at++) consider(at);

    const compare = comparator(sort);
    rows.sort(compare);
    let start = 0;
    if (options.cursor) {
      const after = decodeCursor(options.cursor, sort);
      if (after) start = upperBound(rows, (r) => compare(r, after) > 0);
    }
    const limit = options.limit ?? 50;
    const hits: IndexedDoc[] = [];
    let i = start;
    let verified = 0;
    for (; i < rows.length && hits.length < limit; i++) {
      const doc = this.docs[rows[i]!.at]!;
      if (q.phrases.length && options.verify) {
        if (++verified > (options.maxVerify ?? 500)) break;
        if (!(await options.verify(doc))) continue;
      }
      hits.push(doc);
    }
    const last = rows[i - 1];
    return {
      hits,
      total: rows.length,
      nextCursor: i < rows.length && last ? encodeCursor(last, sort) : undefined,
    };
  }
}

/** A result row while sorting: position, id, time, size and the folded text key of the sort. */
interface Row {
  at: number;
  id: string;
  t: number;
  s: number;
  k: string;
}

/** `mailbox:` names an address exactly, or a whole domain (`firma.de`, `@firma.de`). */
const inMailbox = (doc: IndexedDoc, value: string) =>
  doc.mailboxes.some((m) => m === value || m.endsWith(value.startsWith('@') ? value : `@${value}`));

const people = (list: { name: string; address: string }[]) =>
  list.map((a) => `${a.name} <${a.address}>`).join(', ');

/** The folded text a field query looks in, in both spellings of umlauts (see transliterate). */
function fieldText(doc: IndexedDoc, field: FieldName): string {
  const raw = rawFieldText(doc, field);
  return `${fold(raw)}\n${transliterate(raw)}`;
}

function rawFieldText(doc: IndexedDoc, field: FieldName): string {
  switch (field) {
    case 'from':
      return people(doc.from);
    case 'to':
      return people(doc.to);
    case 'cc':
      return people(doc.cc);
    case 'subject':
      return doc.subject ?? '';
    case 'attachment':
      return doc.attachments.map((a) => a.name ?? '').join(' | ');
    case 'mailbox':
      return doc.mailboxes.join(' ');
  }
}

function comparator(sort: SortOrder): (a: Row, b: Row) => number {
  const byTime = (a: Row, b: Row) => b.t - a.t || cmp(a.id, b.id);
  switch (sort) {
    case 'newest':
      return byTime;
    case 'oldest':
      return (a, b) => -byTime(a, b);
    case 'largest':
      return (a, b) => b.s - a.s || byTime(a, b);
    case 'smallest':
      return (a, b) => a.s - b.s || byTime(a, b);
    case 'from':
    case 'subject':
      return (a, b) => cmp(a.k, b.k) || byTime(a, b);
  }
}

const sender = (d: IndexedDoc) => fold(d.from[0]?.name || d.from[0]?.address || '');
const cmp = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/** The last row of a page, for the next one; carries the sort it belongs to. */
const encodeCursor = (r: Row, sort: SortOrder): string =>
  Buffer.from(JSON.stringify([sort, r.id, r.t, r.s, r.k]), 'utf8').toString('base64url');

function decodeCursor(cursor: string, sort: SortOrder): Row | undefined {
  try {
    const [s, id, t, size, k] = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as [
      string, string, number, number, string,
    ]; // prettier-ignore
    if (s !== sort || typeof id !== 'string' || typeof t !== 'number' || typeof size !== 'number')
      return undefined;
    return { at: -1, id, t, s: size, k: String(k) };
  } catch {
    return undefined;
  }
}

function lowerBound(sorted: string[], value: string): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (sorted[mid]! < value) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** First index whose row satisfies `after` (rows are sorted, `after` is monotone). */
function upperBound<T>(rows: T[], after: (row: T) => boolean): number {
  let lo = 0;
  let hi = rows.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (after(rows[mid]!)) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

function intersect(a: number[], b: number[]): number[] {
  const out: number[] = [];
  let i = 0;
  let j = 0;
  while (i < a.length && j < b.length) {
    if (a[i]! < b[j]!) i++;
    else if (a[i]! > b[j]!) j++;
    else {
      out.push(a[i]!);
      i++;
      j++;
    }
  }
  return out;
}

/** Whether `text` holds `words` (as the query folds them) consecutively. */
export function containsPhrase(text: string, words: string[]): boolean {
  if (!words.length) return true;
  const seq = [...text.matchAll(/[\p{L}\p{N}]+/gu)].map((m) => spellings(m[0]));
  outer: for (let i = 0; i + words.length <= seq.length; i++) {
    for (let j = 0; j < words.length; j++) if (!seq[i + j]!.includes(words[j]!)) continue outer;
    return true;
  }
  return false;
}

/** The forms a word of a mail is indexed under (see tokenize). */
export const spellings = (word: string): string[] =>
  hasUmlaut(word) ? [fold(word), transliterate(word)] : [fold(word)];
