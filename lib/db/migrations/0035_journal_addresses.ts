import { sql, type Kysely } from 'kysely';
import { tenantIsolation } from './tenant-isolation';

/**
 * SMTP journaling from cloud mail (issue 22 §1, docs/ingest.md): Microsoft 365 and Google
 * Workspace cannot authenticate to us, so the address they journal to is the credential. Its
 * local part is 256 random bits, shown once and stored as its SHA-256; `hint` (its first
 * characters) lets people tell addresses apart. Revoked addresses stay for the record. The SMTP
 * listener finds an address before any tenant is known, through a SECURITY DEFINER lookup that
 * returns only what delivery needs. Per tenant: the DKIM domains journal mail must be signed by
 * (empty: no check).
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`CREATE TABLE journal_addresses (
    id uuid PRIMARY KEY,
    tenant_id uuid NOT NULL REFERENCES tenants(id),
    token_sha256 bytea NOT NULL UNIQUE CHECK (length(token_sha256) = 32),
    hint text NOT NULL,
    label text NOT NULL CHECK (length(label) BETWEEN 1 AND 200),
    created_by text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    revoked_at timestamptz
  )`.execute(db);
  await tenantIsolation(db, 'journal_addresses', 'SELECT, INSERT, UPDATE');
  await sql`ALTER TABLE tenants ADD COLUMN journal_dkim_domains text[] NOT NULL DEFAULT '{}'`.execute(
    db,
  );

  await sql`GRANT SELECT (id, tenant_id, token_sha256, hint, revoked_at) ON journal_addresses
    TO mailrepo_definer`.execute(db);
  await sql`CREATE POLICY definer_lookup ON journal_addresses FOR SELECT TO mailrepo_definer
    USING (true)`.execute(db);
  await sql`CREATE FUNCTION journal_address(hash bytea)
    RETURNS TABLE (tenant_id uuid, address_id uuid, hint text)
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public AS $$
    SELECT tenant_id, id, hint FROM journal_addresses WHERE token_sha256 = hash AND revoked_at IS NULL
    $$`.execute(db);
  await sql`ALTER FUNCTION journal_address(bytea) OWNER TO mailrepo_definer`.execute(db);
  await sql`REVOKE ALL ON FUNCTION journal_address(bytea) FROM PUBLIC`.execute(db);
  await sql`GRANT EXECUTE ON FUNCTION journal_address(bytea) TO mailrepo_platform`.execute(db);
}
