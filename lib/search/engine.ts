import { fold, hasUmlaut, transliterate } from './tokenize';
import { fieldTerm, fileTypeTerm, HAS_ATTACHMENT, mailboxTerm } from './index-terms';
import type { Query } from './query';
import type { IndexedDoc, Order, OrderEntry } from './segment-format';
import type { SegmentReader } from './segment-reader';
import { compareIn, decodeCursor, encodeCursor, entryOf, orderOf, type SortOrder } from './sort';

/**
 * Answers list filters and searches over a tenant's segments, reading only the blocks a query
 * needs (decision 0021): per segment the postings of the query's terms give the candidates, a
 * date range is a range of positions (mails are stored in time order), and the best candidates
 * of the requested order come from the segment's rank column or a walk of its order — only those
 * better than the k-th row other segments gave (decision 0032); a page is the best of each
 * segment's best, and its summaries are the only ones decrypted. Phrase checks against mail bodies
 * happen in the caller (they need the mail), through `verify`.
 */

export { SORT_ORDERS, type SortOrder } from './sort';

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
  /**
   * Paging by time counts matches exactly only up to this many (default EXACT_TOTAL): beyond,
   * segments the page did not need are not searched, and `total` is a lower bound.
   */
  exactUpTo?: number;
}

export interface SearchResult {
  hits: IndexedDoc[];
  /** Matches before phrase checks (exact when the query has no phrase and `totalExact`). */
  total: number;
  /** False when `total` is a lower bound (more than `exactUpTo` matches, paged by time). */
  totalExact: boolean;
  nextCursor?: string;
}

/** A segment's matches: a range of positions, or the positions themselves (ascending). */
type Candidates = { lo: number; hi: number } | Int32Array;

/** Candidates above 1/DENSE of a segment's mails are found by walking its order. */
const DENSE = 16;

/** Membership in `c`, for a segment of `docs` mails. */
function isCandidate(c: Candidates, docs: number): (pos: number) => boolean {
  if (!(c instanceof Int32Array)) return (p) => p >= c.lo && p < c.hi;
  const mark = new Uint8Array(docs);
  for (const p of c) mark[p] = 1;
  return (p) => mark[p] === 1;
}

/** Segments asked at once when paging by time. */
const TIME_WAVE = 4;

/**
 * Sorted by anything but time, the segments with the most candidates are asked first, this many,
 * then twice as many, and so on: each wave's k-th row bounds what the next ones can contribute.
 */
const FIRST_WAVE = 2;

/**
 * A stretch of an order is walked (its entries read, candidates kept) rather than the rank column
 * read whole when it is shorter than 1/WALK of the segment: an entry stored weighs about as much
 * as eight ranks (compressed), and the first blocks of an order are the ones every query walks —
 * they stay cached, a rank column is 4 bytes for each mail of the segment.
 */
const WALK = 16;

/**
 * Candidates this few (one per SUMMARIES mails of the segment, or all a page can show) are ranked
 * by their own summaries — a doc block each, which the page then shows anyway — not by the rank
 * column: 32 summaries weigh about as much as 3,000 ranks.
 */
const SUMMARIES = 3000;
/** The most rows a page shows (the portal's limit); `ids` asks for all. */
const PAGE_MAX = 1000;

/**
 * Matches counted exactly when paging by time, as search engines do (Elasticsearch's
 * track_total_hits): a frequent word in a year's first page reads the recent segments only.
 */
export const EXACT_TOTAL = 10_000;

/** Whether position `p` is among `c`. */
function has(c: Candidates, p: number): boolean {
  if (!(c instanceof Int32Array)) return p >= c.lo && p < c.hi;
  const i = bound(c, p);
  return i < c.length && c[i] === p;
}

/**
 * Mails that are one logical mail (decision 0029): one original journaled in several reports, or
 * also delivered as itself. A query shows, of each group, only the earliest arrival it matches —
 * so an owner sees the first, and a member named only in a later report sees that one.
 */
export interface MailGroups {
  /** Each group's live members, earliest arrival first (groups of two or more only). */
  groups: ReadonlyMap<string, readonly string[]>;
  /** The epochs holding a member: other segments need no look. */
  epochs: ReadonlySet<string>;
  /** Changes whenever the members change: the key under which their positions are remembered. */
  version: string;
}

export const NO_GROUPS: MailGroups = { groups: new Map(), epochs: new Set(), version: '' };

interface Member {
  group: string;
  rank: number;
}

/** Each segment's candidates, worked out when first asked for. */
class Matches {
  private readonly found = new Map<SegmentReader, Promise<Candidates>>();
  /** Matches of the segments worked out so far. */
  counted = 0;

  constructor(
    readonly segments: readonly SegmentReader[],
    private readonly of: (seg: SegmentReader) => Promise<Candidates>,
  ) {}

  get(seg: SegmentReader): Promise<Candidates> {
    let c = this.found.get(seg);
    if (!c) {
      c = this.of(seg).then((c) => ((this.counted += countOf(c)), c));
      this.found.set(seg, c);
    }
    return c;
  }

  get complete(): boolean {
    return this.found.size === this.segments.length;
  }

  /** Works out the rest, until `upTo` matches are counted (all of them by default). */
  async count(upTo = Infinity): Promise<void> {
    const rest = this.segments.filter((s) => !this.found.has(s));
    for (let i = 0; i < rest.length && this.counted < upTo; i += TIME_WAVE)
      await Promise.all(rest.slice(i, i + TIME_WAVE).map((s) => this.get(s)));
  }
}

const countOf = (c: Candidates) => (c instanceof Int32Array ? c.length : c.hi - c.lo);

interface Row {
  seg: SegmentReader;
  entry: OrderEntry;
}

/** What a page asks of each segment: its best `k` rows of `order` after `cursor`. */
interface Ask {
  order: Order;
  dir: 1 | -1;
  cursor: OrderEntry | undefined;
  k: number;
  /** The k-th best row found so far in other segments: only better rows matter. */
  kth?: OrderEntry;
}

/** Words of a field value, as the field terms hold them (addresses whole). */
const fieldWords = (value: string) =>
  value.match(/[^\s<>()[\]{}"',;:]+@[^\s<>()[\]{}"',;:]+|[\p{L}\p{N}]+/gu) ?? [];

export class SearchIndex {
  constructor(
    readonly segments: readonly SegmentReader[],
    /** Mails deleted at retention end whose epoch lives on (held mail in it): never shown. */
    private readonly hidden: { ids: ReadonlySet<string>; epochs: ReadonlySet<string> } = {
      ids: new Set(),
      epochs: new Set(),
    },
    private readonly grouped: MailGroups = NO_GROUPS,
  ) {
    for (const [group, ids] of grouped.groups)
      ids.forEach((id, rank) => this.members.set(id, { group, rank }));
  }

  private readonly members = new Map<string, Member>();
  private located?: Promise<Map<SegmentReader, [id: string, pos: number][]>>;
  private readonly where = new Map<string, { seg: SegmentReader; pos: number }>();

  /** Where each grouped mail lies: found once per index, remembered per segment. */
  private locate(): Promise<Map<SegmentReader, [string, number][]>> {
    return (this.located ??= (async () => {
      const ids = new Set(this.members.keys());
      const bySeg = new Map<SegmentReader, [string, number][]>();
      await Promise.all(
        this.segments
          .filter((seg) => this.grouped.epochs.has(seg.epochId))
          .map(async (seg) => {
            const positions = await seg.positionsOf(ids, `g:${this.grouped.version}`);
            const entries = await seg.entriesAt('time', [...positions]);
            const here = entries.map((e): [string, number] => [e[2], e[3]]);
            for (const [id, pos] of here) this.where.set(id, { seg, pos });
            if (here.length) bySeg.set(seg, here);
          }),
      );
      return bySeg;
    })());
  }

  /** `raw`'s candidates of `seg` less each grouped mail an earlier member of its group beats. */
  private async collapse(seg: SegmentReader, raw: Matches): Promise<Candidates> {
    const c = await raw.get(seg);
    if (!this.grouped.epochs.has(seg.epochId) || !countOf(c)) return c;
    const here = (await this.locate()).get(seg) ?? [];
    const drop = new Set<number>();
    for (const [id, pos] of here) {
      if (!has(c, pos)) continue;
      const { group, rank } = this.members.get(id)!;
      for (const earlier of this.grouped.groups.get(group)!.slice(0, rank)) {
        const at = this.where.get(earlier);
        if (at && has(await raw.get(at.seg), at.pos)) {
          drop.add(pos);
          break;
        }
      }
    }
    if (!drop.size) return c;
    const out: number[] = [];
    if (c instanceof Int32Array) {
      for (const p of c) if (!drop.has(p)) out.push(p);
    } else for (let p = c.lo; p < c.hi; p++) if (!drop.has(p)) out.push(p);
    return Int32Array.from(out);
  }

  private async candidates(
    seg: SegmentReader,
    q: Query,
    mailboxes: readonly string[] | undefined,
  ): Promise<Candidates> {
    const none = { lo: 0, hi: 0 };
    if (q.after !== undefined && seg.header.maxT < q.after) return none;
    if (q.before !== undefined && seg.header.minT >= q.before) return none;
    const [lo, hi] = await seg.timeRange(q.after, q.before);
    if (lo >= hi) return none;

    const scope = q.scope ?? 'any';
    const lists: Promise<Int32Array>[] = q.all.map((t) => seg.postings(t.term, t.prefix, scope));
    for (const f of q.fields) {
      if (f.field === 'mailbox') lists.push(seg.postings(mailboxTerm(f.value)));
      else if (f.field === 'filetype') lists.push(seg.postings(fileTypeTerm(f.value)));
      else
        for (const w of fieldWords(f.value)) lists.push(seg.postings(fieldTerm(f.field, w), true));
    }
    if (q.hasAttachment) lists.push(seg.postings(HAS_ATTACHMENT));
    if (mailboxes)
      lists.push(
        Promise.all(mailboxes.map((m) => seg.postings(mailboxTerm(m.toLowerCase())))).then(union),
      );
    let c: Int32Array | undefined;
    for (const list of (await Promise.all(lists)).sort((a, b) => a.length - b.length)) {
      c = c ? intersect(c, list) : list;
      if (!c.length) return none;
    }
    const removed: Int32Array[] = await Promise.all(
      q.none.map((t) => seg.postings(t.term, t.prefix, scope)),
    );
    if (this.hidden.epochs.has(seg.epochId)) removed.push(await seg.positionsOf(this.hidden.ids));
    const bySize = q.larger !== undefined || q.smaller !== undefined;
    if (!bySize && !removed.some((r) => r.length))
      return c ? c.subarray(bound(c, lo), bound(c, hi)) : { lo, hi };

    const sizes = bySize ? await seg.sizes() : undefined;
    const out: number[] = [];
    const gone = new Set<number>();
    for (const r of removed) for (const p of r) gone.add(p);
    const keep = (p: number) =>
      !gone.has(p) &&
      (!sizes ||
        ((q.larger === undefined || sizes[p]! > q.larger) &&
          (q.smaller === undefined || sizes[p]! < q.smaller)));
    if (c) {
      for (const p of c) if (p >= lo && p < hi && keep(p)) out.push(p);
    } else for (let p = lo; p < hi; p++) if (keep(p)) out.push(p);
    return Int32Array.from(out);
  }

  /**
   * Up to `k` rows of `seg` after `cursor`, best first; with `kth` (the k-th best row found so far
   * elsewhere) only rows better than it.
   */
  private async best(
    seg: SegmentReader,
    c: Candidates,
    ask: Ask,
    fewOverall = false,
  ): Promise<Row[]> {
    const { order, dir, cursor, k, kth } = ask;
    if (order !== 'time' && (fewOverall || countOf(c) * SUMMARIES <= seg.docs))
      return this.bestBySummaries(seg, c, ask);
    // Ranks allowed: [from, to) in the stored order.
    // The cursor's and the k-th row's places, looked up together: rows lie after the one,
    // before the other.
    const [afterCursor, beforeCursor, bound] = await Promise.all([
      cursor && dir > 0 ? seg.countBefore(order, cursor, true) : 0,
      cursor && dir < 0 ? seg.countBefore(order, cursor, false) : seg.docs,
      kth && seg.countBefore(order, kth, dir < 0),
    ]);
    const from = bound !== undefined && dir < 0 ? Math.max(afterCursor, bound) : afterCursor;
    const to = bound !== undefined && dir > 0 ? Math.min(beforeCursor, bound) : beforeCursor;
    if (from >= to) return [];
    let ranks: number[];
    if (order === 'time') {
      ranks =
        c instanceof Int32Array
          ? pickSorted(c, from, to, dir, k)
          : pickRange(Math.max(from, c.lo), Math.min(to, c.hi), dir, k);
    } else if (!(c instanceof Int32Array) && c.lo === 0 && c.hi === seg.docs) {
      ranks = pickRange(from, to, dir, k);
    } else if (countOf(c) * DENSE > seg.docs || (to - from) * WALK <= seg.docs) {
      // Many candidates (the best are near the start of the order), or a short stretch of the
      // order left: walk it, not the rank column.
      const short = (to - from) * WALK <= seg.docs;
      const keep = short ? (p: number) => has(c, p) : isCandidate(c, seg.docs);
      return (await seg.walk(order, from, to, dir, k, keep)).map((entry) => ({ seg, entry }));
    } else {
      const rank = await seg.rank(order);
      const allowed: number[] = [];
      const each = (p: number) => {
        const r = rank[p]!;
        if (r >= from && r < to) allowed.push(r);
      };
      if (c instanceof Int32Array) for (const p of c) each(p);
      else for (let p = c.lo; p < c.hi; p++) each(p);
      ranks = pickSorted(Int32Array.from(allowed).sort(), 0, seg.docs, dir, k);
    }
    const entries = await seg.entriesAt(order, ranks);
    return entries.map((entry) => ({ seg, entry }));
  }

  /** Like `best`, from the candidates' summaries (few candidates). */
  private async bestBySummaries(
    seg: SegmentReader,
    c: Candidates,
    { order, dir, cursor, k, kth }: Ask,
  ): Promise<Row[]> {
    const positions =
      c instanceof Int32Array ? [...c] : Array.from({ length: c.hi - c.lo }, (_, i) => c.lo + i);
    const docs = await seg.docsAt(positions);
    const compare = compareIn(order);
    return docs
      .map((doc, i) => entryOf(doc, order, positions[i]!))
      .filter(
        (e) => (!cursor || dir * compare(e, cursor) > 0) && (!kth || dir * compare(e, kth) < 0),
      )
      .sort((a, b) => dir * compare(a, b))
      .slice(0, k)
      .map((entry) => ({ seg, entry }));
  }

  /** The next `k` rows of the whole index after `cursor`, in order. */
  private async page(
    matches: Matches,
    sort: SortOrder,
    cursor: OrderEntry | undefined,
    k: number,
  ): Promise<Row[]> {
    const { order, dir } = orderOf(sort);
    const compare = compareIn(order);
    const better = (a: Row, b: Row) => dir * compare(a.entry, b.entry);
    const bestOf = async (seg: SegmentReader) => {
      const c = await matches.get(seg);
      return countOf(c) ? this.best(seg, c, { order, dir, cursor, k }) : [];
    };
    if (order !== 'time') {
      // Every segment's candidates at once (the total needs them), then the best rows in waves:
      // once k rows are found, a segment is asked only for rows better than the k-th, and most
      // of a large index then has none or a few near the start of its order — no rank column.
      const found = await Promise.all(matches.segments.map((seg) => matches.get(seg)));
      const asked = matches.segments
        .map((seg, i) => ({ seg, c: found[i]! }))
        .filter(({ c }) => countOf(c))
        .sort((a, b) => countOf(b.c) - countOf(a.c));
      // All of them fit on a page: their summaries are read for it anyway.
      const few = asked.reduce((n, { c }) => n + countOf(c), 0) <= Math.min(k, PAGE_MAX);
      let rows: Row[] = [];
      for (let i = 0, wave = FIRST_WAVE; i < asked.length; i += wave, wave *= 2) {
        const kth = rows.length >= k ? rows[k - 1]!.entry : undefined;
        const parts = await Promise.all(
          asked
            .slice(i, i + wave)
            .map(({ seg, c }) => this.best(seg, c, { order, dir, cursor, k, kth }, few)),
        );
        rows = rows
          .concat(...parts)
          .sort(better)
          .slice(0, k);
      }
      return rows;
    }
    // By time, segments are asked newest (or oldest) first, a few at once, until the k-th row is
    // strictly better than anything the next segment holds: a first page reads recent segments.
    const segments = [...matches.segments].sort((a, b) =>
      dir < 0 ? b.header.maxT - a.header.maxT : a.header.minT - b.header.minT,
    );
    let rows: Row[] = [];
    for (let i = 0; i < segments.length;) {
      const wave = segments.slice(i, (i += TIME_WAVE));
      const parts = await Promise.all(wave.map(bestOf));
      rows = rows
        .concat(...parts)
        .sort(better)
        .slice(0, k);
      const next = segments[i]?.header;
      const kth = rows[k - 1]?.entry[1];
      if (next && kth !== undefined && (dir < 0 ? kth > next.maxT : kth < next.minT)) break;
    }
    return rows;
  }

  private matches(q: Query, mailboxes?: readonly string[], everyArrival = false): Matches {
    const raw = new Matches(this.segments, (seg) => this.candidates(seg, q, mailboxes));
    if (!this.members.size || everyArrival) return raw;
    return new Matches(this.segments, (seg) => this.collapse(seg, raw));
  }

  async search(q: Query, options: SearchOptions = {}): Promise<SearchResult> {
    const sort = options.sort ?? 'newest';
    const limit = options.limit ?? 50;
    const matches = this.matches(q, options.mailboxes);
    let cursor = options.cursor ? decodeCursor(options.cursor, sort) : undefined;
    const hits: IndexedDoc[] = [];
    const check = q.phrases.length && options.verify;
    const maxVerify = options.maxVerify ?? 500;
    let verified = 0;
    let last: OrderEntry | undefined;
    let more = false;
    // Browsing all mails or a date range reads no postings: counting those is always cheap.
    const cheap =
      !q.all.length &&
      !q.none.length &&
      !q.fields.length &&
      !q.hasAttachment &&
      q.larger === undefined &&
      q.smaller === undefined &&
      !options.mailboxes;
    const result = async (nextCursor: string | undefined): Promise<SearchResult> => {
      await matches.count(cheap ? Infinity : (options.exactUpTo ?? EXACT_TOTAL));
      return { hits, total: matches.counted, totalExact: matches.complete, nextCursor };
    };
    for (;;) {
      const rows = await this.page(matches, sort, cursor, limit - hits.length + 1);
      const docs = await docsOf(rows.slice(0, limit - hits.length));
      more = rows.length > limit - hits.length;
      for (let i = 0; i < docs.length; i++) {
        if (check && ++verified > maxVerify) return result(last && encodeCursor(sort, last));
        last = rows[i]!.entry;
        if (!check || (await options.verify!(docs[i]!))) hits.push(docs[i]!);
      }
      if (!more || hits.length >= limit) break;
      cursor = last;
    }
    return result(more && last ? encodeCursor(sort, last) : undefined);
  }

  /** The ids of every match, in `sort` order (legal holds, exports). */
  async ids(
    q: Query,
    options: Pick<SearchOptions, 'sort' | 'mailboxes'> & {
      /** Each arrival of a logical mail, not only the one a list shows (chosen ids). */
      everyArrival?: boolean;
    } = {},
  ): Promise<string[]> {
    const matches = this.matches(q, options.mailboxes, options.everyArrival);
    await matches.count();
    const rows = await this.page(matches, options.sort ?? 'newest', undefined, matches.counted);
    return rows.map((r) => r.entry[2]);
  }

  /** How many mails the index shows. */
  async count(): Promise<number> {
    const matches = this.matches({ all: [], none: [], phrases: [], fields: [] });
    await matches.count();
    return matches.counted;
  }
}

async function docsOf(rows: Row[]): Promise<IndexedDoc[]> {
  const bySeg = new Map<SegmentReader, Row[]>();
  for (const r of rows) {
    let list = bySeg.get(r.seg);
    if (!list) bySeg.set(r.seg, (list = []));
    list.push(r);
  }
  const found = new Map<Row, IndexedDoc>();
  await Promise.all(
    [...bySeg].map(async ([seg, list]) => {
      const docs = await seg.docsAt(list.map((r) => r.entry[3]));
      list.forEach((r, i) => found.set(r, docs[i]!));
    }),
  );
  return rows.map((r) => found.get(r)!);
}

/** Ranks [from, to), the first `k` (dir 1) or the last `k` backwards (dir -1). */
function pickRange(from: number, to: number, dir: 1 | -1, k: number): number[] {
  const out: number[] = [];
  if (dir > 0) for (let r = from; r < to && out.length < k; r++) out.push(r);
  else for (let r = to - 1; r >= from && out.length < k; r--) out.push(r);
  return out;
}

/** Like pickRange, over the values of the ascending `sorted` that lie in [from, to). */
function pickSorted(
  sorted: Int32Array,
  from: number,
  to: number,
  dir: 1 | -1,
  k: number,
): number[] {
  const lo = bound(sorted, from);
  const hi = bound(sorted, to);
  const out: number[] = [];
  if (dir > 0) for (let i = lo; i < hi && out.length < k; i++) out.push(sorted[i]!);
  else for (let i = hi - 1; i >= lo && out.length < k; i--) out.push(sorted[i]!);
  return out;
}

function bound(sorted: Int32Array, value: number): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (sorted[mid]! < value) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

function intersect(a: Int32Array, b: Int32Array): Int32Array {
  const out = new Int32Array(Math.min(a.length, b.length));
  let n = 0;
  for (let i = 0, j = 0; i < a.length && j < b.length;) {
    if (a[i]! < b[j]!) i++;
    else if (a[i]! > b[j]!) j++;
    else {
      out[n++] = a[i]!;
      i++;
      j++;
    }
  }
  return out.subarray(0, n);
}

function union(lists: Int32Array[]): Int32Array {
  if (lists.length === 1) return lists[0]!;
  return Int32Array.from(new Set(lists.flatMap((l) => [...l]))).sort();
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
