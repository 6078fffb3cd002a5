import { spellings } from './engine';
import type { TermQuery } from './query';

/**
 * A short excerpt of a mail's text around the first query word, as parts marked hit or not, so
 * the page renders highlights as elements (never as HTML built from mail content).
 */
export type Snippet = { text: string; hit: boolean }[];

const CONTEXT_WORDS = 12;

export function snippet(text: string, terms: TermQuery[]): Snippet | undefined {
  const words = [...text.slice(0, 200_000).matchAll(/[\p{L}\p{N}]+/gu)];
  const isHit = (w: string) =>
    spellings(w).some((f) => terms.some((t) => (t.prefix ? f.startsWith(t.term) : f === t.term)));
  const first = words.findIndex((m) => isHit(m[0]));
  if (first < 0) return undefined;
  const from = Math.max(0, first - CONTEXT_WORDS);
  const to = Math.min(words.length - 1, first + CONTEXT_WORDS * 2);
  const start = words[from]!.index!;
  const end = words[to]!.index! + words[to]![0].length;
  const parts: Snippet = [];
  let at = start;
  for (let i = from; i <= to; i++) {
    const m = words[i]!;
    if (!isHit(m[0])) continue;
    if (m.index! > at) parts.push({ text: text.slice(at, m.index), hit: false });
    parts.push({ text: m[0], hit: true });
    at = m.index! + m[0].length;
  }
  if (at < end) parts.push({ text: text.slice(at, end), hit: false });
  for (const p of parts) if (!p.hit) p.text = p.text.replace(/\s+/g, ' ');
  if (from > 0) parts.unshift({ text: '… ', hit: false });
  if (to < words.length - 1) parts.push({ text: ' …', hit: false });
  return parts;
}
