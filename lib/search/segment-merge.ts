import type { IndexedDoc } from './segment-format';
import type { SegmentReader } from './segment-reader';
import { writeSegment, type WrittenSegment } from './segment-writer';

/** One segment of the mails of `parts`, without those in `drop`. */
export async function mergeSegments(
  parts: SegmentReader[],
  drop: ReadonlySet<string> = new Set(),
): Promise<WrittenSegment> {
  const docs: IndexedDoc[] = [];
  const renumber: Int32Array[] = [];
  for (const part of parts) {
    const map = new Int32Array(part.docs);
    for (const [i, doc] of (await part.allDocs()).entries()) {
      if (drop.has(doc.id)) map[i] = -1;
      else map[i] = docs.push(doc) - 1;
    }
    renumber.push(map);
  }
  const byTerm = new Map<string, number[]>();
  for (const [n, part] of parts.entries()) {
    const map = renumber[n]!;
    for await (const [term, positions] of part.allTerms()) {
      let list = byTerm.get(term);
      if (!list) byTerm.set(term, (list = []));
      for (const p of positions) if (map[p]! >= 0) list.push(map[p]!);
    }
  }
  const terms = [...byTerm.keys()].sort();
  return writeSegment(
    docs,
    (function* () {
      for (const t of terms) {
        const list = byTerm.get(t)!;
        if (list.length) yield [t, list] as [string, number[]];
      }
    })(),
  );
}
