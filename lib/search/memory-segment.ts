import { indexTerms, invert } from './index-terms';
import { inflate, type IndexedDoc } from './segment-format';
import { SegmentReader } from './segment-reader';
import { writeSegment, type WrittenSegment } from './segment-writer';

/**
 * A segment held in plain memory, never stored: a new mail matched against the legal holds at
 * ingest, and the engine's unit tests.
 */

export interface SegmentInput {
  doc: IndexedDoc;
  tokens: Iterable<string>;
}

export function memorySegment(id: string, inputs: SegmentInput[], epochId = '-'): SegmentReader {
  return memoryReader(
    id,
    writeSegment(
      inputs.map((i) => i.doc),
      invert(inputs.map((i) => indexTerms(i.doc, i.tokens))),
    ),
    epochId,
  );
}

export function memoryReader(id: string, written: WrittenSegment, epochId = '-'): SegmentReader {
  return new SegmentReader(id, epochId, written.header, {
    block: async (n, parse) => parse(inflate(written.blocks[n]!)),
  });
}
