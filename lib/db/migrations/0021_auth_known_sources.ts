import { sql, type Kysely } from 'kysely';

/**
 * Networks an account has signed in from (hashed with the account, like the throttle's keys): a
 * burst of failures against an account slows down unknown sources only, so an attacker cannot
 * lock the owner out of their own network (issue 17 §3, docs/authentication.md).
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`CREATE TABLE auth_known_sources (
    key_hash bytea PRIMARY KEY CHECK (length(key_hash) = 32),
    last_success_at timestamptz NOT NULL
  )`.execute(db);
}
