import { sql, type Kysely } from 'kysely';
import { tenantIsolation } from './tenant-isolation';

/**
 * Ingest addresses: the recipient addresses (journal targets) whose mail belongs to a tenant. A
 * tenant may have several; an address belongs to at most one tenant. Removal keeps the row
 * (removed_at) so that the history of which address fed which archive stays answerable.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`CREATE TABLE ingest_addresses (
    id uuid PRIMARY KEY,
    tenant_id uuid NOT NULL REFERENCES tenants(id),
    address text NOT NULL CHECK (address = lower(address) AND address ~ '^[^@\\s]+@[^@\\s]+$'),
    created_at timestamptz NOT NULL DEFAULT now(),
    removed_at timestamptz
  )`.execute(db);
  await sql`CREATE UNIQUE INDEX ingest_addresses_live ON ingest_addresses (address) WHERE removed_at IS NULL`.execute(
    db,
  );
  await tenantIsolation(db, 'ingest_addresses', 'SELECT, INSERT, UPDATE');
}
