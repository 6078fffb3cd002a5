import { Kysely, PostgresDialect } from 'kysely';
import pg from 'pg';
import type { Database } from './schema';

export type { Database };
export type Db = Kysely<Database>;

// bigint columns (bigserial) come back as strings by default; our counters fit in a JS number.
pg.types.setTypeParser(pg.types.builtins.INT8, (v) => Number(v));

export function createDb(url: string, poolMax = 10): Db {
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
  return new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
}
