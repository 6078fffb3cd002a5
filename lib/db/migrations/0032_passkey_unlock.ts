import { sql, type Kysely } from 'kysely';

/**
 * Passwordless unlock with passkeys (issue 21 §4, docs/crypto.md). A passkey registered with the
 * WebAuthn PRF extension holds the user's private key wrapped under a key derived (HKDF, with the
 * per-credential salt) from the authenticator's PRF output, which is never stored. A passwordless
 * sign-in starts before anyone is known: its challenge is kept (as a hash, for two minutes, used
 * once) in a table of the platform, and the credential's tenant is found by a definer lookup that
 * reads only a passkey's id and tenant.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`ALTER TABLE passkeys
    ADD COLUMN prf_salt bytea,
    ADD COLUMN prf_wrapped_private_key bytea,
    ADD CONSTRAINT passkeys_prf_pair CHECK ((prf_salt IS NULL) = (prf_wrapped_private_key IS NULL))`.execute(
    db,
  );
  await sql`CREATE TABLE passkey_challenges (
    challenge_hash bytea PRIMARY KEY CHECK (length(challenge_hash) = 32),
    expires_at timestamptz NOT NULL
  )`.execute(db);
  await sql`GRANT SELECT, INSERT, DELETE ON passkey_challenges TO mailrepo_platform`.execute(db);

  await sql`GRANT SELECT (id, tenant_id) ON passkeys TO mailrepo_definer`.execute(db);
  await sql`CREATE POLICY definer_lookup ON passkeys FOR SELECT TO mailrepo_definer USING (true)`.execute(
    db,
  );
  await sql`CREATE FUNCTION passkey_tenant(credential text) RETURNS uuid
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public AS $$
      SELECT tenant_id FROM passkeys WHERE id = credential $$`.execute(db);
  await sql`ALTER FUNCTION passkey_tenant(text) OWNER TO mailrepo_definer`.execute(db);
  await sql`REVOKE ALL ON FUNCTION passkey_tenant(text) FROM PUBLIC`.execute(db);
  await sql`GRANT EXECUTE ON FUNCTION passkey_tenant(text) TO mailrepo_platform`.execute(db);
}
