import { execFileSync } from 'node:child_process';
import path from 'node:path';

/**
 * Issue 17 §8: no copyleft runtime dependency. The check itself runs in `npm test` before Jest;
 * here it must pass on the tree as it is, and the AGPL package the portal used for user agents is
 * gone from what ships.
 */
const root = path.join(__dirname, '../..');

it('every production dependency carries a licence from the allow-list', () => {
  const out = execFileSync(process.execPath, [path.join(root, 'infra/licences.cjs')], {
    encoding: 'utf8',
  });
  expect(out).toMatch(/all on the allow-list/);
});

it('ua-parser-js (AGPL-3.0 since 2.0) is not a dependency', () => {
  const pkg = require(path.join(root, 'package.json')) as {
    dependencies: Record<string, string>;
  };
  expect(Object.keys(pkg.dependencies)).not.toContain('ua-parser-js');
});
