import { sql, type Kysely } from 'kysely';
import { tenantIsolation } from './tenant-isolation';

/**
 * Who may deliver (issue 17 §1): credentials of a tenant's own mail servers, and of relays the
 * operator runs (`tenant_id` NULL: may deliver to any tenant). A SASL secret is 256 random bits,
 * shown once and stored as its SHA-256. Revoked credentials stay for the record. The LMTP process
 * finds a credential before any tenant is known, through a SECURITY DEFINER lookup that returns
 * only what the check needs.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`CREATE TABLE ingest_credentials (
    id uuid PRIMARY KEY,
    tenant_id uuid REFERENCES tenants(id),
    kind text NOT NULL CHECK (kind IN ('password', 'certificate')),
    label text NOT NULL CHECK (length(label) BETWEEN 1 AND 200),
    secret_sha256 bytea CHECK (length(secret_sha256) = 32),
    created_by text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    revoked_at timestamptz
  )`.execute(db);
  await tenantIsolation(db, 'ingest_credentials', 'SELECT, INSERT, UPDATE');
  await sql
    .raw(
      `CREATE FUNCTION ingest_credential(credential uuid)
         RETURNS TABLE (tenant_id uuid, kind text, secret_sha256 bytea, revoked boolean)
         LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public AS $$
         SELECT tenant_id, kind, secret_sha256, revoked_at IS NOT NULL
           FROM ingest_credentials WHERE id = credential $$`,
    )
    .execute(db);
  await sql.raw(`REVOKE ALL ON FUNCTION ingest_credential(uuid) FROM PUBLIC`).execute(db);
  await sql.raw(`GRANT EXECUTE ON FUNCTION ingest_credential(uuid) TO mailrepo_app`).execute(db);
}
