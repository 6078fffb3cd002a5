import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';

/**
 * The migrations as their authors wrote them: the raw text of every `sql` template (what the
 * source shows, before JavaScript cooks escapes) and the string literals of every CHECK constraint
 * in the form the author meant PostgreSQL to see (a doubled backslash is one backslash).
 */
const DIR = path.join(__dirname, '../../lib/db/migrations');

export interface SqlTemplate {
  file: string;
  raw: string;
}

export function sqlTemplates(): SqlTemplate[] {
  const out: SqlTemplate[] = [];
  for (const file of readdirSync(DIR)
    .filter((f) => /^\d{4}_.*\.ts$/.test(f))
    .sort()) {
    const src = readFileSync(path.join(DIR, file), 'utf8');
    // Templates in migrations hold SQL only: no nested backticks.
    for (const m of src.matchAll(/sql`((?:[^`\\]|\\.)*)`/gs)) out.push({ file, raw: m[1]! });
  }
  return out;
}

/** The body of every `CHECK (…)` constraint (not a policy's `WITH CHECK`), parentheses balanced. */
export function checkBodies(raw: string): string[] {
  const bodies: string[] = [];
  for (const m of raw.matchAll(/(?<!WITH\s+)\bCHECK\s*\(/gi)) {
    let depth = 1;
    let i = m.index + m[0].length;
    const start = i;
    for (; i < raw.length && depth; i++) {
      if (raw[i] === "'") i = raw.indexOf("'", i + 1);
      else if (raw[i] === '(') depth++;
      else if (raw[i] === ')') depth--;
    }
    bodies.push(raw.slice(start, i - 1));
  }
  return bodies;
}

export const literals = (text: string): string[] =>
  [...text.matchAll(/'((?:[^']|'')*)'/g)].map((m) => m[1]!);

/** What the author meant: in the raw source a regex escape is written `\\s` and means `\s`. */
export const intended = (rawLiteral: string): string => rawLiteral.replace(/\\\\/g, '\\');
