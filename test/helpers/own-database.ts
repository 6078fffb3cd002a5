import { createDb, type Db } from '../../lib/db';
import { dropDatabase, ensureDatabase, migrateToLatest } from '../../lib/db/migrate';
import type { Config } from '../../lib/config';

/**
 * A migrated database of the suite's own next to the stack's, for tests that run checkpoint
 * rounds by hand: the stack's schedule checkpoints the shared database every 2 s.
 * Call in a describe block; `db()` is ready in the tests.
 */
export function ownDatabase(
  cfg: Config,
  suffix: string,
  poolSize = 4,
): { db: () => Db; url: string } {
  const url = new URL(cfg.DATABASE_URL);
  url.pathname = `${url.pathname}_${suffix}`;
  let db: Db | undefined;
  beforeAll(async () => {
    await ensureDatabase(url.toString());
    db = createDb(url.toString(), poolSize);
    await migrateToLatest(db);
  });
  afterAll(async () => {
    await db?.destroy();
    await dropDatabase(url.toString());
  });
  return {
    url: url.toString(),
    db: () => {
      if (!db) throw new Error('database not ready (used outside a test?)');
      return db;
    },
  };
}
