import { containsPhrase } from '../../lib/search/engine';
import { parseQuery } from '../../lib/search/query';
import { fold, tokenize } from '../../lib/search/tokenize';

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
