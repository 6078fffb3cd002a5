import { sql, type Kysely } from 'kysely';

/**
 * Account recovery (issue 21 §2, §3). An owner's session opened with the tenant's recovery key
 * must pass the second factor and then set a new password before it may do anything else. A
 * reset link is an invitation for an existing user: it names the user it resets, and whether
 * their passkeys go with the old password and second factor.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`ALTER TABLE sessions ADD COLUMN must_set_password boolean NOT NULL DEFAULT false`.execute(
    db,
  );
  await sql`ALTER TABLE invites
    ADD COLUMN reset_user_id uuid REFERENCES users (id) ON DELETE CASCADE,
    ADD COLUMN remove_passkeys boolean NOT NULL DEFAULT false`.execute(db);
}
