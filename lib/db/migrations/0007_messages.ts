import { sql, type Kysely } from 'kysely';
import { tenantIsolation } from './tenant-isolation';

/**
 * Archived mails (issue 6). One row per tenant and SHA-256 of the exact received bytes — the
 * database, not a workflow id, decides what is a duplicate. Everything about the content is
 * ciphertext: the body in S3 under the mail's DEK, metadata and search tokens here under the same
 * DEK, each delivery's envelope sealed to the epoch key. `state` moves staged → stored → ledgered →
 * sealed (timestamped). Recipients resolve to tenants through a SECURITY DEFINER function, so the
 * LMTP process needs no view across tenants.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`CREATE TABLE messages (
    id uuid PRIMARY KEY,
    tenant_id uuid NOT NULL REFERENCES tenants(id),
    sha256 bytea NOT NULL CHECK (length(sha256) = 32),
    size bigint NOT NULL CHECK (size >= 0),
    epoch_id uuid NOT NULL REFERENCES epochs(id),
    sealed_dek bytea NOT NULL,
    staging_key text NOT NULL,
    object_key text,
    ciphertext_sha256 bytea NOT NULL CHECK (length(ciphertext_sha256) = 32),
    ciphertext_size bigint NOT NULL,
    enc_metadata bytea NOT NULL,
    enc_tokens bytea NOT NULL,
    state text NOT NULL DEFAULT 'staged' CHECK (state IN ('staged', 'stored', 'ledgered', 'sealed')),
    ledger_index bigint,
    received_at timestamptz NOT NULL DEFAULT now(),
    sealed_at timestamptz,
    UNIQUE (tenant_id, sha256)
  )`.execute(db);
  await sql`CREATE INDEX messages_by_time ON messages (tenant_id, received_at DESC)`.execute(db);

  await sql`CREATE TABLE message_receipts (
    id uuid PRIMARY KEY,
    tenant_id uuid NOT NULL REFERENCES tenants(id),
    message_id uuid NOT NULL REFERENCES messages(id),
    received_at timestamptz NOT NULL DEFAULT now(),
    duplicate boolean NOT NULL,
    ingest_address text NOT NULL,
    sealed_envelope bytea NOT NULL
  )`.execute(db);
  await sql`CREATE INDEX message_receipts_by_message ON message_receipts (message_id)`.execute(db);

  await sql`CREATE TABLE search_index_queue (
    message_id uuid PRIMARY KEY REFERENCES messages(id),
    tenant_id uuid NOT NULL REFERENCES tenants(id),
    queued_at timestamptz NOT NULL DEFAULT now()
  )`.execute(db);

  await tenantIsolation(db, 'messages', 'SELECT, INSERT, UPDATE');
  await tenantIsolation(db, 'message_receipts', 'SELECT, INSERT');
  await tenantIsolation(db, 'search_index_queue', 'SELECT, INSERT, DELETE');

  await sql`CREATE FUNCTION ingest_address_tenant(addr text) RETURNS uuid
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public AS $$
      SELECT tenant_id FROM ingest_addresses WHERE address = lower(addr) AND removed_at IS NULL
    $$`.execute(db);
  await sql`REVOKE ALL ON FUNCTION ingest_address_tenant(text) FROM PUBLIC`.execute(db);
  await sql`GRANT EXECUTE ON FUNCTION ingest_address_tenant(text) TO mailrepo_app`.execute(db);
}
