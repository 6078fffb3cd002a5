import { InputError } from '../input/input-error';
import { fold, hasUmlaut, transliterate } from './tokenize';

/**
 * The search language of the portal, close to what mail clients accept:
 *
 *   rechnung mül*            every word (a trailing * makes it a prefix)
 *   "sehr geehrte damen"     a phrase: its words in this order
 *   -newsletter              without this word
 *   from:müller to:… cc:… subject:"…" attachment:vertrag mailbox:info@firma.de
 *   after:2026-01-01 before:2026-02-01 has:attachment larger:1M smaller:200K
 *   in:attachment (in:anhang) / in:body (in:text): the words only there; filetype:pdf (dateityp:)
 *
 * Words are folded like the index (case, umlauts, ß). Unknown fields are searched as words, so a
 * typo never silently matches everything.
 */

export type FieldName = 'from' | 'to' | 'cc' | 'subject' | 'attachment' | 'mailbox' | 'filetype';

export interface TermQuery {
  term: string;
  prefix: boolean;
}

export interface Query {
  all: TermQuery[];
  none: TermQuery[];
  /** Each phrase's folded words; their words are also in `all`. */
  phrases: string[][];
  fields: { field: FieldName; value: string }[];
  after?: number;
  before?: number;
  hasAttachment?: boolean;
  larger?: number;
  smaller?: number;
  /** Where the words must be: the mail's own text, or its attachments (and forwarded mails). */
  scope?: 'body' | 'attachment';
}

const FIELDS: Record<string, FieldName> = {
  from: 'from',
  von: 'from',
  to: 'to',
  an: 'to',
  cc: 'cc',
  subject: 'subject',
  betreff: 'subject',
  attachment: 'attachment',
  filename: 'attachment',
  anhang: 'attachment',
  mailbox: 'mailbox',
  postfach: 'mailbox',
  filetype: 'filetype',
  dateityp: 'filetype',
};

const SCOPES: Record<string, 'body' | 'attachment'> = {
  attachment: 'attachment',
  attachments: 'attachment',
  anhang: 'attachment',
  anhaenge: 'attachment',
  anhänge: 'attachment',
  body: 'body',
  text: 'body',
  nachricht: 'body',
};

export class QueryError extends InputError {
  override name = 'QueryError';
}

/** Folded words of free text, split like the index splits it (addresses stay whole). */
export function queryWords(text: string): string[] {
  const words: string[] = [];
  for (const m of text.matchAll(/[^\s<>()[\]{}"',;:]+@[^\s<>()[\]{}"',;:]+|[\p{L}\p{N}]+\*?/gu)) {
    const w = m[0];
    words.push(
      w.includes('@') ? fold(w).replace(/\.+$/, '') : hasUmlaut(w) ? transliterate(w) : fold(w),
    );
  }
  // The index keeps no one-letter words; a one-letter prefix (`a*`) is still a query.
  return words.filter((w) => w.length > 1);
}

const toTerm = (w: string): TermQuery =>
  w.endsWith('*') ? { term: w.slice(0, -1), prefix: true } : { term: w, prefix: false };

/** `1M`, `500K`, `2000` → bytes. */
function size(value: string): number {
  const m = /^(\d+(?:[.,]\d+)?)\s*([kmg]?)b?$/i.exec(value);
  if (!m) throw new QueryError('query.error.size', { value: value.slice(0, 40) });
  const unit = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 }[m[2]!.toLowerCase() as '' | 'k'];
  return Math.round(Number(m[1]!.replace(',', '.')) * unit);
}

/** `YYYY-MM-DD` (a day in UTC) → ms; `end` gives the first ms after that day. */
export function day(value: string, end = false): number {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(value);
  const t = m ? Date.UTC(+m[1]!, +m[2]! - 1, +m[3]!) : NaN;
  if (Number.isNaN(t) || new Date(t).toISOString().slice(0, 10) !== value)
    throw new QueryError('query.error.date', { value: value.slice(0, 40) });
  return end ? t + 86_400_000 : t;
}

export function parseQuery(input: string): Query {
  const q: Query = { all: [], none: [], phrases: [], fields: [] };
  if (input.length > 1000) throw new QueryError('query.error.long');
  for (const m of input.matchAll(/(-?)(?:([\p{L}]+):)?(?:"([^"]*)"?|(\S+))/gu)) {
    const negated = m[1] === '-';
    const key = m[2]?.toLowerCase();
    const phrase = m[3];
    const raw = phrase ?? m[4] ?? '';
    if (key && key in FIELDS) {
      const value = hasUmlaut(raw) ? transliterate(raw.trim()) : fold(raw.trim());
      if (value) q.fields.push({ field: FIELDS[key]!, value });
      continue;
    }
    if (key === 'after' || key === 'nach') q.after = day(raw);
    else if (key === 'before' || key === 'vor') q.before = day(raw, true);
    else if (key === 'in') {
      const scope = SCOPES[raw.toLowerCase()];
      if (!scope) throw new QueryError('query.error.in', { value: raw.slice(0, 40) });
      q.scope = scope;
    } else if (key === 'has' || key === 'hat') {
      if (!/^(attachments?|anhang|anh[äa]nge)$/i.test(raw))
        throw new QueryError('query.error.has', { value: raw.slice(0, 40) });
      q.hasAttachment = true;
    } else if (key === 'larger' || key === 'groesser' || key === 'größer') q.larger = size(raw);
    else if (key === 'smaller' || key === 'kleiner') q.smaller = size(raw);
    else {
      const words = queryWords(key ? `${key} ${raw}` : raw);
      if (negated) q.none.push(...words.map(toTerm));
      else {
        q.all.push(...words.map(toTerm));
        if (phrase !== undefined && words.length > 1)
          q.phrases.push(words.map((w) => w.replace(/\*$/, '')));
      }
    }
  }
  return q;
}

export const isEmptyQuery = (q: Query): boolean =>
  !q.all.length &&
  !q.none.length &&
  !q.fields.length &&
  q.after === undefined &&
  q.before === undefined &&
  q.hasAttachment === undefined &&
  q.larger === undefined &&
  q.smaller === undefined &&
  q.scope === undefined;
