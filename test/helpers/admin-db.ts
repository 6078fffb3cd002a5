import type { Config } from '../../lib/config';
import { createDb, type Db } from '../../lib/db';

/**
 * The stack's database as its administrator (a superuser here). The product never connects like
 * this; tests do only where they play a database administrator or an attacker holding the
 * database — to tamper with rows, or to read what is stored behind row-level security.
 */
export function adminDatabaseUrl(cfg: Config): string {
  const admin = process.env.DATABASE_ADMIN_URL;
  if (!admin) throw new Error('DATABASE_ADMIN_URL not set (run through jest)');
  const u = new URL(admin);
  u.pathname = new URL(cfg.DATABASE_URL).pathname;
  return u.toString();
}

export const adminDb = (cfg: Config, poolSize = 2): Db => createDb(adminDatabaseUrl(cfg), poolSize);
