import { sql, type Kysely } from 'kysely';

/**
 * 0015 wrote the rule pattern's CHECK with `\s` inside a JS template literal, where it is an
 * unknown escape and cooks to a plain `s`: PostgreSQL got `^[^s@]*@[^s@]+$` and refused every rule
 * whose address or domain contains the letter s. The same constraint, with the escape intact.
 * No stored row can break it: the application's own check never let white space through, and the
 * old constraint never let an "s" through.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`ALTER TABLE retention_rules DROP CONSTRAINT retention_rules_pattern_check`.execute(db);
  await sql`ALTER TABLE retention_rules ADD CONSTRAINT retention_rules_pattern_check
    CHECK (pattern ~ '^[^\\s@]*@[^\\s@]+$')`.execute(db);
}
