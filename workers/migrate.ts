import { config } from '../lib/config';
import { dbFromConfig } from '../lib/db';
import { ensureDatabase, migrateToLatest } from '../lib/db/migrate';

/** `npm run migrate`: create the database if needed and apply pending migrations. */
async function main(): Promise<void> {
  const cfg = config();
  // As the schema owner (MIGRATION_DATABASE_URL), never as the role the processes run as.
  const url = cfg.MIGRATION_DATABASE_URL ?? cfg.DATABASE_URL;
  if (await ensureDatabase(url)) console.log('created database');
  const db = dbFromConfig({ ...cfg, DATABASE_URL: url }, 1);
  try {
    const applied = await migrateToLatest(db);
    console.log(applied.length ? `applied: ${applied.join(', ')}` : 'schema is up to date');
  } finally {
    await db.destroy();
  }
}

main().catch((err) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
