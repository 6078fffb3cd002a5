import { Kysely, PostgresDialect } from 'kysely';
import pg from 'pg';
import { DEV_VAULT_WRAP_KEY } from '../config';
import { defaultVaultUrl, ShredKeyVault } from './shred-keys';
import type { Database } from './schema';

export type { Database };
/**
 * The archive database, and beside it the shred-key vault (a database of its own,
 * lib/db/shred-keys.ts) that every epoch key needs: one handle, so code that creates, opens or
 * shreds an epoch is handed both, visibly.
 */
export type Db = Kysely<Database> & { readonly shredKeys: ShredKeyVault };

// bigint columns (bigserial) come back as strings by default; our counters fit in a JS number.
pg.types.setTypeParser(pg.types.builtins.INT8, (v) => Number(v));

export interface VaultSettings {
  /** Default: the archive database's server, name + `_vault`. */
  url?: string;
  /** Default: the dev key (config refuses it in production; workers pass the configured one). */
  wrapKey?: Buffer;
}

/**
 * A pool on the archive database, paired with its shred-key vault (a database of its own, see
 * lib/db/shred-keys.ts). Destroying the handle closes both.
 */
export function createDb(url: string, poolMax = 10, vault: VaultSettings = {}): Db {
  const pool = new pg.Pool({
    connectionString: url,
    max: poolMax,
    // Waiting for a free connection fails after 15 s (a caller answers "try again later")
    // instead of queueing forever, and the server ends a transaction left idle for 60 s, so a
    // stuck caller cannot hold locks or connections indefinitely.
    connectionTimeoutMillis: 15_000,
    options: '-c idle_in_transaction_session_timeout=60000',
  });
  // An idle connection dropped by the server (restart, failover) must not crash the process; the
  // pool replaces it and the next query reports any real outage.
  pool.on('error', (err) =>
    process.emitWarning(`PostgreSQL idle connection error: ${err.message}`),
  );
  // A connection checked out (mid-transaction, between two queries) when the server goes away
  // emits 'error' on the client itself, where the pool has no listener: without this, a
  // PostgreSQL restart would crash the process instead of failing that one transaction.
  pool.on('connect', (client) =>
    client.on('error', (err) => process.emitWarning(`PostgreSQL connection lost: ${err.message}`)),
  );
  const keys = new ShredKeyVault({
    url: vault.url ?? defaultVaultUrl(url),
    wrapKey: vault.wrapKey ?? Buffer.from(DEV_VAULT_WRAP_KEY, 'base64'),
  });
  const db = Object.assign(new Kysely<Database>({ dialect: new PostgresDialect({ pool }) }), {
    shredKeys: keys,
  });
  const destroy = db.destroy.bind(db);
  db.destroy = async () => {
    await destroy();
    await keys.close();
  };
  return db;
}

/** The database handle a process opens from its configuration. */
export const dbFromConfig = (
  cfg: { DATABASE_URL: string; VAULT_DATABASE_URL?: string; VAULT_KEY_WRAP_KEY: string },
  poolMax: number,
): Db =>
  createDb(cfg.DATABASE_URL, poolMax, {
    url: cfg.VAULT_DATABASE_URL,
    wrapKey: Buffer.from(cfg.VAULT_KEY_WRAP_KEY, 'base64'),
  });
