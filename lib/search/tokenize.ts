/**
 * Search tokens (DESIGN §7): the words a mail can be found by, folded so that a query matches
 * regardless of case and diacritics — "Müller", "MÜLLER" and "muller" give "muller", "Straße"
 * gives "strasse". Ingest stores the token list encrypted; the search index is built from it in an
 * unlocked session. Queries are folded with the same function.
 */

const MAX_TOKEN = 64;

// eslint-disable-next-line no-control-regex -- the ASCII range is the point
const ASCII = /^[\x00-\x7f]*$/;

export function fold(word: string): string {
  // Most words of most mails are ASCII: lower case is all folding does to them (and the Unicode
  // normalisation it skips was the largest cost of ingest's CPU profile).
  if (ASCII.test(word)) return word.toLowerCase();
  return word
    .normalize('NFKD')
    .replace(/\p{M}+/gu, '')
    .toLowerCase()
    .replace(/ß/g, 'ss');
}

const UMLAUTS = /[äöüÄÖÜ]/;

/**
 * German spelling without umlauts, folded: "Müller" → "mueller". Words with an umlaut are indexed
 * in both forms, so "Müller", "muller" and "Mueller" all find them; a query word with an umlaut is
 * searched in this form (it also matches mails that spell it "Mueller").
 */
export function transliterate(word: string): string {
  return fold(
    word.replace(/[äöüÄÖÜ]/g, (c) => ({ ä: 'ae', ö: 'oe', ü: 'ue' })[c.toLowerCase() as 'ä']),
  );
}

export const hasUmlaut = (word: string): boolean => UMLAUTS.test(word);

const ADDRESS_STOP = new Set([...' \t\r\n\f\v<>()[]{}"\',;:@']);
// No control characters either: they mark terms (index-terms.ts), and no address holds one.
const isAddressChar = (c: string) => !ADDRESS_STOP.has(c) && !/[\s\p{Cc}]/u.test(c);

/**
 * The e-mail addresses in `text` as /[^stop]{1,64}@[^stop]{1,190}/g would find them, found from
 * each "@" outwards: the pattern tried at every position of the text, which made it a third of
 * ingest's tokenising time on mail without a single address. Bounded on both sides of the @, so a
 * long run without spaces (a base64 line) costs linear time.
 */
export function* addresses(text: string): Generator<string> {
  let consumed = 0;
  for (let at = text.indexOf('@'); at !== -1; at = text.indexOf('@', at + 1)) {
    if (at < consumed) continue;
    let start = at;
    while (start > consumed && at - start < 64 && isAddressChar(text[start - 1]!)) start--;
    let end = at + 1;
    while (end < text.length && end - at - 1 < 190 && isAddressChar(text[end]!)) end++;
    if (start === at || end === at + 1) continue;
    consumed = end;
    yield text.slice(start, end);
  }
}

/** The distinct folded words of `text`, plus whole e-mail addresses and their domains. */
export function tokenize(text: string, into = new Set<string>(), limit = 100_000): Set<string> {
  for (const found of addresses(text)) {
    if (into.size >= limit) return into;
    const address = fold(found).replace(/\.+$/, '');
    if (address.length <= 254) {
      into.add(address);
      into.add(address.slice(address.indexOf('@') + 1));
    }
  }
  // A mail repeats its words: each distinct one is folded once.
  const seen = new Set<string>();
  for (const m of text.matchAll(/[\p{L}\p{N}]+/gu)) {
    if (into.size >= limit) break;
    if (seen.has(m[0])) continue;
    if (seen.size < limit) seen.add(m[0]);
    const t = fold(m[0]);
    if (t.length >= 2 && t.length <= MAX_TOKEN) into.add(t);
    if (hasUmlaut(m[0]) && into.size < limit) {
      const g = transliterate(m[0]);
      if (g.length <= MAX_TOKEN) into.add(g);
    }
  }
  return into;
}
