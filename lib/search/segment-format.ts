import { inflateRawSync } from 'node:zlib';
import type { Address } from '../ingest/mime-metadata';

/**
 * The plaintext layout of a search index segment (DESIGN §7, decision 0021). A segment is a
 * header plus numbered blocks, each compressed and encrypted on its own, so a query decrypts only
 * the blocks it reads:
 *
 * - **dictionary blocks**: sorted terms with their postings (ascending mail positions, delta
 *   varints) inline, or the number of the posting block that holds a long list; the header keeps
 *   each dictionary block's first term, so a term costs one dictionary block;
 * - **doc blocks**: the summaries (what a result row shows) of DOCS_PER_BLOCK mails each;
 *
 * Blocks are small because a query reads one dictionary block per segment and term, and a page of
 * sparse hits one order and one doc block per hit: at a million mails the blocks a query mix
 * touches must fit the portal's cache.
 * - **order blocks** per sort order: (sort key, time, id, position) of KEYS_PER_BLOCK mails each,
 *   in that order, and an index block of each one's first entry (a cursor is a binary search);
 *   and a **rank column** per order but time (position → place in the order) for picking the
 *   best candidates without sorting them;
 * - a **size column** for size filters;
 * - a **prefix dictionary** (segments written since decision 0023): for every prefix of 2 to
 *   PREFIX_MAX characters of the words and addresses, the union of their postings, laid out like
 *   the dictionary — a short prefix (`rech*`) matches thousands of words per segment, and reading
 *   every one of their lists was the slowest query at 10 million mails.
 *
 * Mails are stored in time order (time ascending, id descending), so the time order needs no rank
 * column and a date range is a range of positions.
 */

/** Why a journal report could not be read as one (lib/ingest/mime-metadata.ts). */
export type JournalProblem = 'no-original' | 'unreadable-report' | 'several-originals';

export interface IndexedDoc {
  id: string;
  receivedAt: number;
  size: number;
  from: Address[];
  to: Address[];
  cc: Address[];
  bcc: Address[];
  subject: string | null;
  date: string | null;
  attachments: { name: string | null; size: number }[];
  /** Lower-case addresses the mail belongs to: its header addresses and the ingest address. */
  mailboxes: string[];
  parseError?: string;
  /** Imported mail: when it was originally received (ms), as the import found it. */
  originalReceivedAt?: number;
  /**
   * A journal report (issue 22 §2): where its original is (attachment positions) and, when it
   * could not be read as a report, why. The fields above are then the original's.
   */
  journal?: { parts: number[]; problem?: JournalProblem };
}

export const FORMAT = 3;
export const DOCS_PER_BLOCK = 32;
export const KEYS_PER_BLOCK = 128;
/** Dictionary blocks end after this many plaintext bytes. */
export const DICT_BLOCK_BYTES = 8 * 1024;
/** A posting list longer than this (bytes) gets a block of its own. */
export const INLINE_POSTINGS_MAX = 1024;
/** Prefixes of 2 to this many characters have postings of their own (the prefix dictionary). */
export const PREFIX_MAX = 4;
/** Sort keys are compared on this many characters (longer ones sort by their start). */
export const SORT_KEY_CHARS = 120;

/** Stored orders; the result orders are these forwards or backwards (sort.ts). */
export type Order = 'time' | 'size' | 'subject' | 'from';
export const ORDERS: readonly Order[] = ['time', 'size', 'subject', 'from'];

/** One mail in an order: sort key (size, folded text, or null for time), time, id, position. */
export type OrderEntry = [key: number | string | null, t: number, id: string, pos: number];

export interface SegmentHeader {
  v: typeof FORMAT;
  docs: number;
  minT: number;
  maxT: number;
  /** Number of blocks. */
  blocks: number;
  dict: Dictionary;
  /** Prefix dictionary of prefixes of 2..upTo characters; absent in older segments. */
  prefix?: Dictionary & { upTo: number };
  /** Block of the first doc block; the others follow. */
  docBlock: number;
  /** Per order: its first block, and the block listing each block's first entry. */
  order: Record<Order, { start: number; index: number }>;
  rank: Record<Exclude<Order, 'time'>, number>;
  sizes: number;
}

/** Ends the term of a word found in an attachment (index-terms.ts). */
export const ATTACHMENT_MARK = '\u0001';

/** Where a dictionary's blocks are: each block's first term and its block number. */
export interface Dictionary {
  first: string[];
  block: number[];
}

/**
 * The prefix of `term` that the prefix dictionary lists it under, for a prefix of `length`
 * UTF-16 units: none when the term is a field term (`from:…`, only words and addresses are
 * prefixed), shorter, or the prefix would end inside a surrogate pair.
 */
export function prefixOf(term: string, length: number): string | undefined {
  // An attachment word is prefixed as the word: `rech*` finds it in the body and in attachments.
  if (term.endsWith(ATTACHMENT_MARK)) term = term.slice(0, -1);
  if (term.length < length || term.includes(':')) return undefined;
  const last = term.charCodeAt(length - 1);
  return last >= 0xd800 && last <= 0xdbff ? undefined : term.slice(0, length);
}

/** A decoded dictionary block: terms, and per term its inline postings or a posting block. */
export interface DictBlock {
  terms: string[];
  /** Per term: byte offset of its postings in `data`, or -(block number) - 1. */
  at: Int32Array;
  data: Buffer;
}

export const inflate = (compressed: Uint8Array): Buffer => inflateRawSync(compressed);

export function parseDict(plain: Buffer): DictBlock {
  const termsLength = plain.readUInt32LE(0);
  const terms = plain.toString('utf8', 4, 4 + termsLength).split('\n');
  let at = 4 + termsLength;
  const pointers = new Int32Array(terms.length);
  for (let i = 0; i < terms.length; i++, at += 4) pointers[i] = plain.readInt32LE(at);
  return { terms, at: pointers, data: plain.subarray(at) };
}

export const parseJson = <T>(plain: Buffer): T => JSON.parse(plain.toString('utf8')) as T;

export function parseU32(plain: Buffer): Uint32Array {
  const out = new Uint32Array(plain.length / 4);
  for (let i = 0; i < out.length; i++) out[i] = plain.readUInt32LE(i * 4);
  return out;
}

/** Ascending positions from delta varints (count first) at `offset` of `data`. */
export function readPostings(data: Buffer, offset: number): Int32Array {
  let at = offset;
  const next = () => {
    let n = 0;
    let shift = 0;
    for (;;) {
      const b = data[at++]!;
      n |= (b & 0x7f) << shift;
      if (b < 0x80) return n >>> 0;
      shift += 7;
    }
  };
  const count = next();
  const out = new Int32Array(count);
  let position = 0;
  for (let i = 0; i < count; i++) out[i] = position += next();
  return out;
}

/** Like readPostings, setting `seen[position]` to 1 for each instead of listing them. */
export function markPostings(data: Buffer, offset: number, seen: Uint8Array): void {
  let at = offset;
  let count = 0;
  for (let shift = 0; ; shift += 7) {
    const b = data[at++]!;
    count |= (b & 0x7f) << shift;
    if (b < 0x80) break;
  }
  let position = 0;
  for (let i = 0; i < count; i++) {
    let n = 0;
    for (let shift = 0; ; shift += 7) {
      const b = data[at++]!;
      n |= (b & 0x7f) << shift;
      if (b < 0x80) break;
    }
    position += n >>> 0;
    seen[position] = 1;
  }
}

/** Unsigned LEB128 into a growing buffer. */
export class VarintWriter {
  private buf = Buffer.alloc(1 << 12);
  length = 0;

  private room(bytes: number): void {
    if (this.length + bytes <= this.buf.length) return;
    const bigger = Buffer.alloc(Math.max(this.buf.length * 2, this.length + bytes));
    this.buf.copy(bigger, 0, 0, this.length);
    this.buf = bigger;
  }

  append(bytes: Buffer): void {
    this.room(bytes.length);
    bytes.copy(this.buf, this.length);
    this.length += bytes.length;
  }

  write(n: number): void {
    this.room(5);
    while (n >= 0x80) {
      this.buf[this.length++] = (n & 0x7f) | 0x80;
      n >>>= 7;
    }
    this.buf[this.length++] = n;
  }

  postings(list: ArrayLike<number>): void {
    this.write(list.length);
    let previous = 0;
    for (let i = 0; i < list.length; i++) {
      this.write(list[i]! - previous);
      previous = list[i]!;
    }
  }

  bytes(): Buffer {
    return this.buf.subarray(0, this.length);
  }

  reset(): void {
    this.length = 0;
  }
}
