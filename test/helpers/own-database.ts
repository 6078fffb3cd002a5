import { createDb, type Db } from '../../lib/db';
import { dropDatabase } from '../../lib/db/migrate';
import { DEV_ROLE_PASSWORD, ROLES, urlAs } from '../../lib/db/roles';
import { setUpDatabase } from '../../infra/services/postgres';
import type { Config } from '../../lib/config';
import { adminDatabaseUrl } from './admin-db';

/**
 * A migrated database of the suite's own next to the stack's, for tests that run checkpoint
 * rounds by hand: the stack's schedule checkpoints the shared database every 2 s. Set up as the
 * stack's is (lib/db/roles.ts): migrated by the owner role, used as the service role, so row-level
 * security binds these tests too. Call in a describe block; `db()` is ready in the tests.
 */
export function ownDatabase(
  cfg: Config,
  suffix: string,
  poolSize = 4,
): { db: () => Db; url: string; admin: () => Db } {
  const admin = new URL(adminDatabaseUrl(cfg));
  admin.pathname = `${new URL(cfg.DATABASE_URL).pathname}_${suffix}`;
  const adminUrl = admin.toString();
  const url = urlAs(adminUrl, ROLES.service, DEV_ROLE_PASSWORD);
  let db: Db | undefined;
  let adminDb: Db | undefined;
  beforeAll(async () => {
    await setUpDatabase(adminUrl);
    db = createDb(url, poolSize);
  });
  afterAll(async () => {
    await db?.destroy();
    await adminDb?.destroy();
    await dropDatabase(adminUrl);
  });
  return {
    url,
    /** The same database as its administrator: for tests that tamper like a superuser would. */
    admin: () => (adminDb ??= createDb(adminUrl, 1)),
    db: () => {
      if (!db) throw new Error('database not ready (used outside a test?)');
      return db;
    },
  };
}
