import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { de } from '../../web/app/i18n/de';
import { en } from '../../web/app/i18n/en';

/**
 * Every message a refusal or an import report names (issue 27) is a key of both dictionaries:
 * an InputError's code or an import problem's reason, as written in lib/.
 */
function files(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const p = path.join(dir, f);
    return statSync(p).isDirectory() ? files(p) : p.endsWith('.ts') ? [p] : [];
  });
}

test('every code thrown or reported in lib/ and application/ has a German and an English message', () => {
  const codes = new Set<string>();
  const root = path.join(__dirname, '../..');
  for (const f of [...files(path.join(root, 'lib')), ...files(path.join(root, 'application'))]) {
    const src = readFileSync(f, 'utf8');
    for (const m of src.matchAll(/new \w*(?:InputError|Error)\(\s*'([a-z]+\.[a-zA-Z.]+)'/g))
      codes.add(m[1]!);
    for (const m of src.matchAll(/reason: '([a-z]+\.[a-zA-Z.]+)'/g)) codes.add(m[1]!);
  }
  expect(codes.size).toBeGreaterThan(30);
  const missing = [...codes].filter((c) => !(c in de) || !(c in en));
  expect(missing).toEqual([]);
});
