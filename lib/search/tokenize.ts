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

/** The distinct folded words of `text`, plus whole e-mail addresses and their domains. */
export function tokenize(text: string, into = new Set<string>(), limit = 100_000): Set<string> {
  // Bounded on both sides of the @: an unbounded pattern backtracks quadratically over long
  // runs without spaces (a base64 line), which would let one mail stall ingest.
  for (const m of text.matchAll(/[^\s<>()[\]{}"',;:@]{1,64}@[^\s<>()[\]{}"',;:@]{1,190}/g)) {
    if (into.size >= limit) return into;
    const address = fold(m[0]).replace(/\.+$/, '');
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
