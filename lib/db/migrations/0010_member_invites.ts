import { sql, type Kysely } from 'kysely';

/**
 * Invitations of further users by an administrator. The inviting admin's session seals the tenant
 * private key to a key pair derived from the invitation token, so the invitee — and only someone
 * holding the token — can take up their grant at acceptance, with no admin online. The blob is
 * deleted when the invitation is accepted or revoked; the token itself is stored only hashed.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`ALTER TABLE invites
    ADD COLUMN sealed_tenant_key bytea,
    ADD COLUMN tenant_key_version integer`.execute(db);
}
