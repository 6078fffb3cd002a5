import type { ColumnType, Generated } from 'kysely';

/** Typed schema of every table; each migration that adds a table adds its interface here. */
export interface Database {
  smoke_checks: SmokeChecksTable;
}

/** One row per platform self-check run (dev start-up and the integration smoke test). */
export interface SmokeChecksTable {
  id: string;
  workflow_id: string;
  object_key: string;
  object_sha256: string;
  object_size: number;
  created_at: ColumnType<Date, never, never>;
  seq: Generated<number>;
}
