import { readFileSync } from 'node:fs';
import path from 'node:path';
import { PERMISSIONS } from '../../web/app/permissions';

// docs/permissions.md is what customers read; it must say exactly what the guards enforce.
describe('docs/permissions.md', () => {
  it('lists every guarded page with exactly its roles', () => {
    const doc = readFileSync(path.join(__dirname, '../../docs/permissions.md'), 'utf8');
    const roles = ['owner', 'admin', 'auditor', 'member'] as const;
    const table: Record<string, string[]> = {};
    for (const m of doc.matchAll(/^\| `([^`]+)`\s*\|(.*)\|$/gm)) {
      const cells = m[2]!.split('|').map((c) => c.trim());
      table[m[1]!] = roles.filter((_, i) => cells[i] === '✓');
    }
    const code = Object.fromEntries(
      Object.entries(PERMISSIONS).map(([page, r]) => [
        page,
        roles.filter((x) => (r as readonly string[]).includes(x)),
      ]),
    );
    expect(table).toEqual(code);
  });
});
