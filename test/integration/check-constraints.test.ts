import { sql } from 'kysely';
import { checkBodies, intended, literals, sqlTemplates } from '../helpers/migration-source';
import { ownDatabase } from '../helpers/own-database';
import { stackConfig } from '../helpers/stack-env';

/**
 * Every CHECK constraint in a migrated database holds exactly the string literals its migration's
 * author wrote (issue 27): a literal that JavaScript changed on the way (a lost `\s`) or one that
 * no migration meant is a constraint that refuses or admits the wrong rows.
 */
const own = ownDatabase(stackConfig(), 'checks');

test('the database holds the CHECK literals the migrations mean, and no other', async () => {
  const rows = await sql<{ table: string; name: string; def: string }>`
    SELECT c.conrelid::regclass::text AS table, c.conname AS name,
           pg_get_constraintdef(c.oid) AS def
      FROM pg_constraint c JOIN pg_namespace n ON n.oid = c.connamespace
     WHERE c.contype = 'c' AND n.nspname = 'public'`.execute(own.db());
  expect(rows.rows.length).toBeGreaterThan(40);

  const meant = new Set(
    sqlTemplates().flatMap((t) => checkBodies(t.raw).flatMap(literals).map(intended)),
  );
  const inDb = rows.rows.flatMap((r) =>
    literals(r.def).map((literal) => ({ constraint: `${r.table}.${r.name}`, literal })),
  );
  expect(inDb.filter((l) => !meant.has(l.literal))).toEqual([]);
  const seen = new Set(inDb.map((l) => l.literal));
  expect([...meant].filter((l) => !seen.has(l))).toEqual([]);

  // The one that was broken, by name: its white-space class survived.
  const rule = rows.rows.find((r) => r.name === 'retention_rules_pattern_check');
  expect(rule?.def).toContain(String.raw`'^[^\s@]*@[^\s@]+$'`);
});
