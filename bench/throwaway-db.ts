import { config } from '../lib/config';
import { createDb, type Db } from '../lib/db';
import { dropDatabase, ensureDatabase, migrateToLatest } from '../lib/db/migrate';

/** A fresh, migrated database for one benchmark run, dropped afterwards whatever happens. */
export async function withThrowawayDb<T>(
  name: string,
  poolSize: number,
  fn: (db: Db, url: string) => Promise<T>,
): Promise<T> {
  const url = new URL(config().DATABASE_URL);
  url.pathname = `/mailrepo_bench_${name}_${Date.now()}`;
  await ensureDatabase(url.toString());
  const db = createDb(url.toString(), poolSize);
  try {
    await migrateToLatest(db);
    return await fn(db, url.toString());
  } finally {
    await db.destroy();
    await dropDatabase(url.toString());
  }
}

/**
 * A database kept between runs under a fixed name (a benchmark's large corpus is built once):
 * `fn` learns whether it is new. Dropped by hand: `dropdb <name>`, and its `_vault`.
 */
export async function withKeptDb<T>(
  name: string,
  poolSize: number,
  fn: (db: Db, url: string, created: boolean) => Promise<T>,
): Promise<T> {
  const url = new URL(config().DATABASE_URL);
  url.pathname = `/mailrepo_bench_${name}`;
  const created = await ensureDatabase(url.toString());
  const db = createDb(url.toString(), poolSize);
  try {
    await migrateToLatest(db);
    return await fn(db, url.toString(), created);
  } finally {
    await db.destroy();
  }
}
