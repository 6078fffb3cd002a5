import {
  DOCS_PER_BLOCK,
  KEYS_PER_BLOCK,
  parseDict,
  parseJson,
  markPostings,
  parseU32,
  readPostings,
  type IndexedDoc,
  prefixOf,
  ATTACHMENT_MARK,
  type Dictionary,
  type Order,
  type OrderEntry,
  type SegmentHeader,
} from './segment-format';
import { compareIn } from './sort';

/**
 * Reads one segment block by block through a BlockSource — the decrypting, caching store in the
 * portal (tenant-index.ts), plain memory for a mail being matched against legal holds. Every
 * method asks only for the blocks its answer is in.
 */

export interface BlockSource {
  /**
   * Block `n` decompressed, handed to `parse`; the source may keep the result, counting it as
   * `memory` times the plaintext's length (what parsing makes of it in the heap).
   */
  block<T>(n: number, parse: (plain: Buffer) => T, memory: number): Promise<T>;
  /** A positions list worked out from blocks (a prefix's union), kept if the source can. */
  remember?(key: string, compute: () => Promise<Positions>): Promise<Positions>;
}

/** Ascending positions, or a bitmap of them when that is smaller (dense lists). */
export type Positions = Int32Array | Uint8Array;

export function packPositions(list: Int32Array, docs: number): Positions {
  const bytes = Math.ceil(docs / 8);
  if (list.length * 4 <= bytes) return list;
  const bitmap = new Uint8Array(bytes);
  for (let i = 0; i < list.length; i++) bitmap[list[i]! >>> 3]! |= 1 << (list[i]! & 7);
  return bitmap;
}

export function unpackPositions(packed: Positions): Int32Array {
  if (packed instanceof Int32Array) return packed;
  let count = 0;
  for (let i = 0; i < packed.length; i++) {
    let b = packed[i]!;
    for (; b; b &= b - 1) count++;
  }
  const out = new Int32Array(count);
  for (let i = 0, k = 0; i < packed.length; i++)
    for (let b = packed[i]!; b; b &= b - 1) out[k++] = i * 8 + (31 - Math.clz32(b & -b));
  return out;
}

/** Heap per plaintext byte, measured roughly: parsed JSON, decoded postings, typed arrays. */
const MEMORY = { json: 4, postings: 3, dict: 3, column: 1 } as const;

/** The first index in [0, length) for which `before` is false (`before` is true for a prefix). */
function lowerBound(length: number, before: (i: number) => boolean): number {
  let lo = 0;
  let hi = length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (before(mid)) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Where a word is looked for: the mail's own text, its attachments, or either. */
export type WordScope = 'any' | 'body' | 'attachment';

const attachmentTerm = (word: string) => `${word}${ATTACHMENT_MARK}`;
const isAttachmentWord = (term: string) => term.endsWith(ATTACHMENT_MARK);

/** Ascending positions in `a` or `b` (each ascending). */
export function unionSorted(a: Int32Array, b: Int32Array): Int32Array {
  if (!b.length) return a;
  if (!a.length) return b;
  const out = new Int32Array(a.length + b.length);
  let i = 0;
  let j = 0;
  let n = 0;
  while (i < a.length || j < b.length) {
    const x = i < a.length ? a[i]! : Infinity;
    const y = j < b.length ? b[j]! : Infinity;
    out[n++] = x <= y ? x : y;
    if (x <= y) i++;
    if (y <= x) j++;
  }
  return out.subarray(0, n);
}

export class SegmentReader {
  constructor(
    readonly id: string,
    readonly epochId: string,
    readonly header: SegmentHeader,
    private readonly source: BlockSource,
  ) {}

  get docs(): number {
    return this.header.docs;
  }

  private dict(b: number, of: Dictionary = this.header.dict) {
    return this.source.block(of.block[b]!, parseDict, MEMORY.dict);
  }

  private async listAt(dict: ReturnType<typeof parseDict>, i: number): Promise<Int32Array> {
    const p = dict.at[i]!;
    if (p >= 0) return readPostings(dict.data, p);
    return this.source.block(-p - 1, (plain) => readPostings(plain, 0), MEMORY.postings);
  }

  /**
   * Positions of the mails holding `term` (or a term starting with it), ascending. A word is
   * looked up in the body, in attachments (its attachment term), or both (`any`); field terms
   * have no attachment form (`body`, the default).
   */
  async postings(term: string, prefix = false, scope: WordScope = 'body'): Promise<Int32Array> {
    if (!prefix) {
      if (scope === 'body') return this.termPostings(term, false);
      if (scope === 'attachment') return this.termPostings(attachmentTerm(term), false);
      // Both forms sort next to each other: the second comes from the same (cached) block.
      const [body, attached] = await Promise.all([
        this.termPostings(term, false),
        this.termPostings(attachmentTerm(term), false),
      ]);
      return unionSorted(body, attached);
    }
    const prefixes = this.header.prefix;
    const { length } = term;
    if (
      scope === 'any' &&
      prefixes &&
      length >= 2 &&
      length <= prefixes.upTo &&
      prefixOf(term, length) === term
    )
      return this.termPostings(term, false, prefixes);
    // A prefix's union is kept: paging through its results, or sorting them another way, asks
    // for it again, and it costs every list of thousands of terms.
    if (!this.source.remember) return this.termPostings(term, true, this.header.dict, scope);
    return this.source
      .remember(`p:${scope}:${term}`, async () =>
        packPositions(await this.termPostings(term, true, this.header.dict, scope), this.docs),
      )
      .then(unpackPositions);
  }

  private async termPostings(
    term: string,
    prefix: boolean,
    of: Dictionary = this.header.dict,
    scope: WordScope = 'any',
  ): Promise<Int32Array> {
    const first = of.first;
    const b = lowerBound(first.length, (i) => first[i]! <= term) - 1;
    if (!prefix) {
      if (b < 0) return new Int32Array(0);
      const dict = await this.dict(b, of);
      const i = lowerBound(dict.terms.length, (k) => dict.terms[k]! < term);
      return dict.terms[i] === term ? this.listAt(dict, i) : new Int32Array(0);
    }
    // Every term with the prefix: their lists marked in one bitmap (a short prefix matches
    // thousands of terms per segment, whose lists would otherwise be decoded and merged).
    const seen = new Uint8Array(this.docs);
    // The dictionary blocks that can hold such terms: from the one before the first after
    // `term` up to the first that starts past the prefix, read at once.
    let end = Math.max(b, 0) + 1;
    while (end < first.length && (first[end]! <= term || first[end]!.startsWith(term))) end++;
    const dicts = [];
    for (let d = Math.max(b, 0); d < end; d++) dicts.push(this.dict(d));
    const blocks: Promise<Int32Array>[] = [];
    // A word's prefix matches words and addresses, not field terms (`from:…`, `mb:…`).
    const words = !term.includes(':');
    for (const dict of await Promise.all(dicts)) {
      let i = lowerBound(dict.terms.length, (k) => dict.terms[k]! < term);
      for (; i < dict.terms.length && dict.terms[i]!.startsWith(term); i++) {
        const t = dict.terms[i]!;
        if (words && t.includes(':', term.length)) continue;
        if (scope !== 'any' && isAttachmentWord(t) !== (scope === 'attachment')) continue;
        const at = dict.at[i]!;
        if (at >= 0) markPostings(dict.data, at, seen);
        else blocks.push(this.listAt(dict, i));
      }
    }
    for (const list of await Promise.all(blocks))
      for (let k = 0; k < list.length; k++) seen[list[k]!] = 1;
    let count = 0;
    for (let p = 0; p < seen.length; p++) count += seen[p]!;
    const out = new Int32Array(count);
    for (let p = 0, k = 0; k < count; p++) if (seen[p]) out[k++] = p;
    return out;
  }

  /** Summaries of the mails at `positions`, in that order. */
  async docsAt(positions: readonly number[]): Promise<IndexedDoc[]> {
    const blocks = new Map<number, Promise<IndexedDoc[]>>();
    for (const p of positions) {
      const b = Math.floor(p / DOCS_PER_BLOCK);
      if (!blocks.has(b))
        blocks.set(
          b,
          this.source.block(
            this.header.docBlock + b,
            (plain) => parseJson<IndexedDoc[]>(plain),
            MEMORY.json,
          ),
        );
    }
    return Promise.all(
      positions.map(
        async (p) => (await blocks.get(Math.floor(p / DOCS_PER_BLOCK))!)[p % DOCS_PER_BLOCK]!,
      ),
    );
  }

  private orderBlock(order: Order, b: number): Promise<OrderEntry[]> {
    return this.source.block(
      this.header.order[order].start + b,
      (plain) => parseJson<OrderEntry[]>(plain),
      MEMORY.json,
    );
  }

  /** The entries of `order` at `ranks` (for time, rank = position). */
  async entriesAt(order: Order, ranks: readonly number[]): Promise<OrderEntry[]> {
    const blocks = new Map<number, Promise<OrderEntry[]>>();
    for (const r of ranks) {
      const b = Math.floor(r / KEYS_PER_BLOCK);
      if (!blocks.has(b)) blocks.set(b, this.orderBlock(order, b));
    }
    return Promise.all(
      ranks.map(
        async (r) => (await blocks.get(Math.floor(r / KEYS_PER_BLOCK))!)[r % KEYS_PER_BLOCK]!,
      ),
    );
  }

  /**
   * The first `k` entries of `order` within ranks [from, to) — backwards from `to` when `dir` is
   * -1 — whose position passes `keep`, block by block.
   */
  async walk(
    order: Order,
    from: number,
    to: number,
    dir: 1 | -1,
    k: number,
    keep: (pos: number) => boolean,
  ): Promise<OrderEntry[]> {
    const out: OrderEntry[] = [];
    let r = dir > 0 ? from : to - 1;
    while (out.length < k && r >= from && r < to) {
      const b = Math.floor(r / KEYS_PER_BLOCK);
      const block = await this.orderBlock(order, b);
      for (
        ;
        out.length < k && r >= from && r < to && Math.floor(r / KEYS_PER_BLOCK) === b;
        r += dir
      )
        if (keep(block[r % KEYS_PER_BLOCK]![3])) out.push(block[r % KEYS_PER_BLOCK]!);
    }
    return out;
  }

  /** Position → place in `order`. */
  rank(order: Exclude<Order, 'time'>): Promise<Uint32Array> {
    return this.source.block(this.header.rank[order], parseU32, MEMORY.column);
  }

  sizes(): Promise<Uint32Array> {
    return this.source.block(this.header.sizes, parseU32, MEMORY.column);
  }

  /** Each order block's first entry. */
  private orderIndex(order: Order): Promise<OrderEntry[]> {
    return this.source.block(
      this.header.order[order].index,
      (plain) => parseJson<OrderEntry[]>(plain),
      MEMORY.json,
    );
  }

  /** How many entries of `order` come first under `before` (true for a prefix of the order). */
  async countWhere(order: Order, before: (e: OrderEntry) => boolean): Promise<number> {
    const first = await this.orderIndex(order);
    const k = lowerBound(first.length, (i) => before(first[i]!));
    if (k === 0) return 0;
    const block = await this.orderBlock(order, k - 1);
    return (k - 1) * KEYS_PER_BLOCK + lowerBound(block.length, (i) => before(block[i]!));
  }

  /** Entries of `order` before `cursor` (and the cursor's own, when `inclusive`). */
  countBefore(order: Order, cursor: OrderEntry, inclusive: boolean): Promise<number> {
    const compare = compareIn(order);
    return this.countWhere(order, (e) =>
      inclusive ? compare(e, cursor) <= 0 : compare(e, cursor) < 0,
    );
  }

  /** Positions [lo, hi) of the mails received in [after, before). */
  async timeRange(after?: number, before?: number): Promise<[number, number]> {
    const lo =
      after === undefined || after <= this.header.minT
        ? 0
        : await this.countWhere('time', (e) => e[1] < after);
    const hi =
      before === undefined || before > this.header.maxT
        ? this.docs
        : await this.countWhere('time', (e) => e[1] < before);
    return [lo, Math.max(lo, hi)];
  }

  /** Positions of the mails with these ids (reads every time block: for the few deleted or grouped ones). */
  async positionsOf(ids: ReadonlySet<string>, rememberAs?: string): Promise<Int32Array> {
    const scan = async () => {
      const out: number[] = [];
      for (let b = 0; b * KEYS_PER_BLOCK < this.docs; b++)
        for (const e of await this.orderBlock('time', b)) if (ids.has(e[2])) out.push(e[3]);
      return Int32Array.from(out);
    };
    // Segments never change: positions of a set of mails hold as long as the set does.
    if (!rememberAs || !this.source.remember) return scan();
    return this.source.remember(rememberAs, scan).then(unpackPositions);
  }

  /** Every summary, in position order (merging segments). */
  async allDocs(): Promise<IndexedDoc[]> {
    return this.docsAt(Array.from({ length: this.docs }, (_, i) => i));
  }

  /** Every term with its positions, in term order (merging segments). */
  async *allTerms(): AsyncGenerator<[string, Int32Array]> {
    for (let b = 0; b < this.header.dict.block.length; b++) {
      const dict = await this.dict(b);
      for (let i = 0; i < dict.terms.length; i++)
        yield [dict.terms[i]!, await this.listAt(dict, i)];
    }
  }
}
