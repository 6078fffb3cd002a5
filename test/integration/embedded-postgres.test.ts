import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/**
 * The path for machines without a PostgreSQL server: nothing answers on the default address, so an
 * embedded server starts, the database is created and migrated, and the application can use it.
 */
describe('database resolution without a PostgreSQL server', () => {
  it('starts embedded PostgreSQL, creates the database and migrates it', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'mailrepo-embedded-'));
    try {
      const probe = path.resolve(__dirname, '../helpers/embedded-db-probe.ts');
      const r = spawnSync(process.execPath, ['--import', 'tsx', probe, dir], {
        encoding: 'utf8',
        timeout: 110_000,
      });
      expect(r.stderr).not.toMatch(/Error/);
      expect(r.status).toBe(0);
      const seen = JSON.parse(r.stdout.trim().split('\n').pop()!);
      expect(seen.embedded).toBe(true);
      expect(seen.log.join('\n')).toMatch(/no PostgreSQL answers .* starting an embedded server/);
      expect(seen.migrations).toBeGreaterThan(0);
      expect(seen.ids).toEqual(['e1']);
      expect(existsSync(path.join(dir, 'postgres', 'PG_VERSION'))).toBe(true);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 120_000);
});
