import { containsPhrase } from '../../lib/search/engine';
import { parseQuery } from '../../lib/search/query';
import { addresses, fold, tokenize } from '../../lib/search/tokenize';

describe('search tokens', () => {
  it('fold case, diacritics and ß', () => {
    expect(fold('MÜLLER')).toBe('muller');
    expect(fold('Straße')).toBe('strasse');
    expect(fold('Ångström')).toBe('angstrom');
  });

  it('keep words, numbers, whole addresses and their domains', () => {
    const t = tokenize('Rechnung 4711 von Jürgen <juergen.gross@Firma.DE>, bitte prüfen.');
    expect([...t]).toEqual(
      expect.arrayContaining([
        'rechnung',
        '4711',
        'jurgen',
        'juergen.gross@firma.de',
        'firma.de',
        'prufen',
      ]),
    );
    expect(t.has('a')).toBe(false);
  });

  it('index words with umlauts in both spellings; queries use the transliterated one', () => {
    const t = tokenize('Jürgen Müller, Straße');
    expect([...t]).toEqual(
      expect.arrayContaining(['jurgen', 'juergen', 'muller', 'mueller', 'strasse']),
    );
    expect(parseQuery('MÜLLER mueller muller').all.map((q) => q.term)).toEqual([
      'mueller',
      'mueller',
      'muller',
    ]);
    expect(containsPhrase('Die Heizkörper kommen', ['heizkoerper', 'kommen'])).toBe(true);
    expect(containsPhrase('Die Heizkorper kommen', ['heizkoerper', 'kommen'])).toBe(false);
  });

  it('stops at the limit', () => {
    const words = Array.from({ length: 50 }, (_, i) => `wort${i}`).join(' ');
    expect(tokenize(words, new Set(), 10).size).toBe(10);
  });
});

describe('address scan', () => {
  // The pattern the scan replaces (it tried every position of a text): same matches, same order.
  const PATTERN = /[^\s<>()[\]{}"',;:@]{1,64}@[^\s<>()[\]{}"',;:@]{1,190}/g;
  it('finds exactly what the bounded pattern finds, on random texts', () => {
    let seed = 42;
    const random = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    const alphabet = [
      'a',
      'b',
      '.',
      '-',
      '@',
      '@',
      ' ',
      '\n',
      '<',
      '>',
      ',',
      ':',
      'ü',
      '\u00a0',
      'x',
    ];
    for (let n = 0; n < 3000; n++) {
      const length = Math.floor(random() * 400);
      let text = '';
      for (let i = 0; i < length; i++)
        text += random() < 0.05 ? 'y'.repeat(70) : alphabet[Math.floor(random() * alphabet.length)];
      expect([...addresses(text)]).toEqual([...text.matchAll(PATTERN)].map((m) => m[0]));
    }
  });
});
