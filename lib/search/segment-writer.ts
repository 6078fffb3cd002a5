import { deflateRawSync } from 'node:zlib';
import { TAG_LEN } from '../crypto/aead';
import {
  DICT_BLOCK_BYTES,
  DOCS_PER_BLOCK,
  FORMAT,
  INLINE_POSTINGS_MAX,
  KEYS_PER_BLOCK,
  ORDERS,
  PREFIX_MAX,
  prefixOf,
  type Dictionary,
  VarintWriter,
  type IndexedDoc,
  type OrderEntry,
  type SegmentHeader,
} from './segment-format';
import { compareIn, entryOf } from './sort';

/**
 * Writes a segment (segment-format.ts) from mails and their terms: mails are put in time order,
 * postings renumbered, and every block compressed. Encryption is the store's (segment-store.ts);
 * `ends` are the blocks' end offsets once each has its tag, so the header can locate them.
 */

export interface WrittenSegment {
  header: SegmentHeader & { ends: number[] };
  blocks: Buffer[];
}

const LEVEL = 1;

export function writeSegment(
  input: IndexedDoc[],
  /** Terms in ascending order, each with positions into `input` (any order). */
  terms: Iterable<[string, ArrayLike<number>]>,
): WrittenSegment {
  const n = input.length;
  const timeOrder = compareIn('time');
  const entries = input.map((d, i) => entryOf(d, 'time', i));
  const perm = entries.sort(timeOrder).map((e) => e[3]);
  const newPos = new Int32Array(n);
  perm.forEach((old, p) => (newPos[old] = p));
  const docs = perm.map((old) => input[old]!);

  const blocks: Buffer[] = [];
  const add = (plain: Buffer) => blocks.push(deflateRawSync(plain, { level: LEVEL })) - 1;

  // Dictionary: terms with inline postings, long lists in blocks of their own; the prefix
  // dictionary is gathered on the way (terms arrive sorted, so each prefix's words are a run).
  const prefixes = new PrefixUnions(n);
  const dict = writeDictionary(
    (function* () {
      for (const [term, positions] of terms) {
        const renumbered = new Int32Array(positions.length);
        for (let i = 0; i < positions.length; i++) renumbered[i] = newPos[positions[i]!]!;
        renumbered.sort();
        prefixes.add(term, renumbered);
        yield [term, renumbered] as const;
      }
    })(),
    add,
  );
  const prefix = { upTo: PREFIX_MAX, ...writeDictionary(prefixes.done(), add) };

  const docBlock = blocks.length;
  for (let i = 0; i < n; i += DOCS_PER_BLOCK)
    add(Buffer.from(JSON.stringify(docs.slice(i, i + DOCS_PER_BLOCK)), 'utf8'));

  const order = {} as SegmentHeader['order'];
  const rank = {} as SegmentHeader['rank'];
  for (const o of ORDERS) {
    const list: OrderEntry[] = docs.map((d, pos) => entryOf(d, o, pos));
    if (o !== 'time') {
      list.sort(compareIn(o));
      const column = Buffer.alloc(n * 4);
      list.forEach((e, r) => column.writeUInt32LE(r, e[3] * 4));
      rank[o] = add(column);
    }
    const start = blocks.length;
    const first: OrderEntry[] = [];
    for (let i = 0; i < n; i += KEYS_PER_BLOCK) {
      const part = list.slice(i, i + KEYS_PER_BLOCK);
      first.push(part[0]!);
      add(Buffer.from(JSON.stringify(part), 'utf8'));
    }
    order[o] = { start, index: add(Buffer.from(JSON.stringify(first), 'utf8')) };
  }
  const sizes = Buffer.alloc(n * 4);
  docs.forEach((d, pos) => sizes.writeUInt32LE(Math.min(d.size, 0xffffffff), pos * 4));
  const sizeBlock = add(sizes);

  const ends: number[] = [];
  blocks.reduce((end, b) => (ends.push(end + b.length + TAG_LEN), end + b.length + TAG_LEN), 0);
  return {
    header: {
      v: FORMAT,
      docs: n,
      minT: docs[0]?.receivedAt ?? 0,
      maxT: docs[n - 1]?.receivedAt ?? 0,
      blocks: blocks.length,
      dict,
      prefix,
      docBlock,
      order,
      rank,
      sizes: sizeBlock,
      ends,
    },
    blocks,
  };
}

/** Dictionary blocks of `terms` (ascending, each with its ascending positions). */
function writeDictionary(
  terms: Iterable<readonly [string, Int32Array]>,
  add: (plain: Buffer) => number,
): Dictionary {
  const dict: Dictionary = { first: [], block: [] };
  let blockTerms: string[] = [];
  let pointers: number[] = [];
  const data = new VarintWriter();
  let termBytes = 0;
  const flush = () => {
    if (!blockTerms.length) return;
    const text = Buffer.from(blockTerms.join('\n'), 'utf8');
    const head = Buffer.alloc(4 + text.length + pointers.length * 4);
    head.writeUInt32LE(text.length, 0);
    text.copy(head, 4);
    pointers.forEach((p, i) => head.writeInt32LE(p, 4 + text.length + i * 4));
    dict.first.push(blockTerms[0]!);
    dict.block.push(add(Buffer.concat([head, data.bytes()])));
    blockTerms = [];
    pointers = [];
    termBytes = 0;
    data.reset();
  };
  const list = new VarintWriter();
  for (const [term, positions] of terms) {
    list.reset();
    list.postings(positions);
    if (list.length > INLINE_POSTINGS_MAX) {
      pointers.push(-add(Buffer.from(list.bytes())) - 1);
    } else {
      pointers.push(data.length);
      data.append(list.bytes());
    }
    blockTerms.push(term);
    termBytes += term.length + 5;
    if (termBytes + data.length >= DICT_BLOCK_BYTES) flush();
  }
  flush();
  return dict;
}

/**
 * The union of the positions of every word with the same prefix, for prefixes of 2..PREFIX_MAX
 * characters, from terms given in ascending order.
 */
class PrefixUnions {
  private readonly current: (string | undefined)[] = [];
  private readonly parts: Int32Array[][] = [];
  private readonly out: [string, Int32Array][] = [];

  constructor(private readonly docs: number) {
    for (let length = 0; length <= PREFIX_MAX; length++) this.parts.push([]);
  }

  add(term: string, positions: Int32Array): void {
    for (let length = 2; length <= PREFIX_MAX; length++) {
      const prefix = prefixOf(term, length);
      if (prefix === undefined) continue;
      if (prefix !== this.current[length]) {
        this.finish(length);
        this.current[length] = prefix;
      }
      this.parts[length]!.push(positions);
    }
  }

  private finish(length: number): void {
    const parts = this.parts[length]!;
    if (parts.length) this.out.push([this.current[length]!, union(parts, this.docs)]);
    this.parts[length] = [];
  }

  /** Every prefix with its positions, in ascending order of prefix. */
  done(): [string, Int32Array][] {
    for (let length = 2; length <= PREFIX_MAX; length++) this.finish(length);
    return this.out.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  }
}

/** Ascending positions in any of `lists` (each ascending), of a segment of `docs` mails. */
function union(lists: Int32Array[], docs: number): Int32Array {
  if (lists.length === 1) return lists[0]!;
  let total = 0;
  for (const l of lists) total += l.length;
  if (total * 8 < docs) {
    const all = new Int32Array(total);
    let at = 0;
    for (const l of lists) all.set(l, (at += l.length) - l.length);
    all.sort();
    let k = 0;
    for (let i = 0; i < all.length; i++) if (!k || all[i] !== all[k - 1]) all[k++] = all[i]!;
    return all.subarray(0, k);
  }
  // Dense: a mark per mail, read out in order.
  const seen = new Uint8Array(docs);
  let count = 0;
  for (const l of lists)
    for (const p of l)
      if (!seen[p]) {
        seen[p] = 1;
        count++;
      }
  const out = new Int32Array(count);
  for (let p = 0, k = 0; k < count; p++) if (seen[p]) out[k++] = p;
  return out;
}
