import { deflateRawSync, inflateRawSync } from 'node:zlib';
import type { Address } from '../ingest/mime-metadata';

/**
 * The plaintext layout of one search index segment (DESIGN §7): the summaries of a batch of mails
 * (what a list row shows and filters need) and an inverted list per folded term. Encrypted as a
 * whole under the epoch's index key (index-store.ts); decoded only inside an unlocked session.
 *
 *   u32 docs length ‖ docs JSON ‖ u32 terms length ‖ terms (UTF-8, joined by LF)
 *   ‖ u32 term count ‖ offsets (u32 LE per term) ‖ postings
 *
 * Terms are sorted, so prefix queries are a range; each term's postings are the ascending
 * positions of its mails within `docs`, delta-encoded as unsigned LEB128 varints after a count.
 * Only the summaries are JSON: terms and offsets decode without a parser (unlock time is
 * dominated by decoding, issue 8's bench).
 */

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
}

export interface SegmentInput {
  doc: IndexedDoc;
  tokens: Iterable<string>;
}

export interface DecodedSegment {
  docs: IndexedDoc[];
  /** Sorted. */
  terms: string[];
  /** Byte offset of each term's postings in `postings`. */
  offsets: number[];
  postings: Buffer;
}

const VERSION = 2;

export function encodeSegment(inputs: SegmentInput[]): Buffer {
  const byTerm = new Map<string, number[]>();
  inputs.forEach((input, position) => {
    for (const term of input.tokens) {
      const list = byTerm.get(term);
      if (list) list.push(position);
      else byTerm.set(term, [position]);
    }
  });
  return encode(
    inputs.map((i) => i.doc),
    byTerm,
  );
}

/** One segment holding the mails of `parts`, in order (merging an epoch's segments). */
export function concatSegments(parts: DecodedSegment[]): Buffer {
  const byTerm = new Map<string, number[]>();
  let base = 0;
  for (const part of parts) {
    part.terms.forEach((term, i) => {
      let list = byTerm.get(term);
      if (!list) byTerm.set(term, (list = []));
      for (const position of readPostings(part, i)) list.push(base + position);
    });
    base += part.docs.length;
  }
  return encode(
    parts.flatMap((p) => p.docs),
    byTerm,
  );
}

function encode(docs: IndexedDoc[], byTerm: Map<string, number[]>): Buffer {
  const terms = [...byTerm.keys()].sort();
  const offsets: number[] = [];
  const out = new VarintWriter();
  for (const term of terms) {
    offsets.push(out.length);
    const list = byTerm.get(term)!;
    out.write(list.length);
    let previous = 0;
    for (const position of list) {
      out.write(position - previous);
      previous = position;
    }
  }
  const docsJson = Buffer.from(JSON.stringify(docs), 'utf8');
  const termBytes = Buffer.from(terms.join('\n'), 'utf8');
  const offsetBytes = Buffer.alloc(offsets.length * 4);
  offsets.forEach((o, i) => offsetBytes.writeUInt32LE(o, i * 4));
  return deflateRawSync(
    Buffer.concat([
      u32(VERSION),
      u32(docsJson.length),
      docsJson,
      u32(termBytes.length),
      termBytes,
      u32(terms.length),
      offsetBytes,
      out.bytes(),
    ]),
    { level: 6 },
  );
}

const u32 = (n: number) => {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n);
  return b;
};

export function decodeSegment(compressed: Uint8Array): DecodedSegment {
  const plain = inflateRawSync(compressed);
  let at = 0;
  const next = () => {
    const n = plain.readUInt32BE(at);
    at += 4;
    return n;
  };
  const version = next();
  if (version !== VERSION) throw new Error(`unknown index segment version ${version}`);
  const docsLength = next();
  const docs = JSON.parse(plain.toString('utf8', at, at + docsLength)) as IndexedDoc[];
  at += docsLength;
  const termsLength = next();
  const terms = termsLength ? plain.toString('utf8', at, at + termsLength).split('\n') : [];
  at += termsLength;
  const count = next();
  const offsets = new Array<number>(count);
  for (let i = 0; i < count; i++) offsets[i] = plain.readUInt32LE(at + i * 4);
  at += count * 4;
  return { docs, terms, offsets, postings: plain.subarray(at) };
}

/** The positions (within the segment's docs) of one term's mails, ascending. */
export function readPostings(segment: DecodedSegment, termIndex: number): number[] {
  const at = { offset: segment.offsets[termIndex]! };
  const count = readVarint(segment.postings, at);
  const out = new Array<number>(count);
  let position = 0;
  for (let i = 0; i < count; i++) {
    position += readVarint(segment.postings, at);
    out[i] = position;
  }
  return out;
}

/** Unsigned LEB128 into a growing buffer (millions of postings: no array of numbers). */
class VarintWriter {
  private buf = Buffer.alloc(1 << 16);
  length = 0;

  write(n: number): void {
    if (this.length + 5 > this.buf.length) {
      const bigger = Buffer.alloc(this.buf.length * 2);
      this.buf.copy(bigger, 0, 0, this.length);
      this.buf = bigger;
    }
    while (n >= 0x80) {
      this.buf[this.length++] = (n & 0x7f) | 0x80;
      n >>>= 7;
    }
    this.buf[this.length++] = n;
  }

  bytes(): Buffer {
    return this.buf.subarray(0, this.length);
  }
}

function readVarint(buf: Buffer, at: { offset: number }): number {
  let n = 0;
  let shift = 0;
  for (;;) {
    const b = buf[at.offset++]!;
    n |= (b & 0x7f) << shift;
    if (b < 0x80) return n >>> 0;
    shift += 7;
  }
}
