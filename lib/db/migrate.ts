import { Migrator, type Kysely, type MigrationResultSet } from 'kysely';
import pg from 'pg';
import { defaultVaultUrl } from './shred-keys';
import { migrations } from './migrations';
import type { Db } from './index';

/** Applies every pending migration. Throws with the failing migration's name on error. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- migrations run before the typed schema exists
export async function migrateToLatest(db: Kysely<any>): Promise<string[]> {
  const migrator = new Migrator({
    db,
    provider: { getMigrations: async () => migrations },
    migrationTableName: 'schema_migrations',
    migrationLockTableName: 'schema_migrations_lock',
  });
  const { error, results }: MigrationResultSet = await migrator.migrateToLatest();
  const failed = results?.find((r) => r.status === 'Error');
  if (error || failed) {
    const what = failed ? `migration ${failed.migrationName} failed` : 'migration failed';
    throw new Error(`${what}: ${error instanceof Error ? error.message : String(error)}`);
  }
  // The shred-key vault is a database of its own (lib/db/shred-keys.ts), set up alongside.
  if ('shredKeys' in db) {
    const vault = (db as Db).shredKeys;
    await ensureDatabase(vault.url);
    await vault.ensureSchema();
  }
  return (results ?? []).map((r) => r.migrationName);
}

/**
 * Runs `fn` on a connection to the `postgres` maintenance database of the server in `url`, with the
 * (validated) name of the database `url` names. CREATE/DROP DATABASE cannot run inside that database.
 */
async function onServer<T>(
  url: string,
  fn: (client: pg.Client, name: string) => Promise<T>,
): Promise<T> {
  const name = decodeURIComponent(new URL(url).pathname.replace(/^\//, ''));
  // Identifiers cannot be bound as parameters; only plain names are accepted.
  if (!/^[A-Za-z0-9_-]+$/.test(name)) throw new Error(`unsupported database name: ${name}`);
  const admin = new URL(url);
  admin.pathname = '/postgres';
  const client = new pg.Client({ connectionString: admin.toString() });
  await client.connect();
  try {
    return await fn(client, name);
  } finally {
    await client.end();
  }
}

/** Creates the database named in `url` when it does not exist yet. */
export function ensureDatabase(url: string): Promise<boolean> {
  return onServer(url, async (client, name) => {
    const { rowCount } = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
    if (rowCount) return false;
    try {
      await client.query(`CREATE DATABASE "${name}"`);
      return true;
    } catch (err) {
      // Two processes racing to create it: the loser sees duplicate_database, which is fine.
      if ((err as { code?: string }).code === '42P04') return false;
      throw err;
    }
  });
}

/** Drops the database named in `url` and, if there is one, its default shred-key vault. */
export async function dropDatabase(url: string): Promise<void> {
  for (const u of [url, defaultVaultUrl(url)])
    await onServer(u, async (client, name) => {
      await client.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
    });
}
