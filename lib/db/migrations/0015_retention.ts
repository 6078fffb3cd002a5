import { sql, type Kysely } from 'kysely';
import { tenantIsolation } from './tenant-isolation';

/**
 * Retention and legal holds (issue 9 §2). Retention classes and address rules per tenant; holds
 * with their (readable) scope and the mails they hold; shreds with the tombstone each put in the
 * ledger. A shredded epoch frees its month: the next mail of that class opens a new epoch. Mails
 * deleted one by one (an expired epoch that also holds held mail) lose their DEK, metadata and
 * envelope here and their object in S3; the row stays for the ledger and the "deleted" notice.
 * `body_epoch_id`: the epoch a body's encryption is bound to when the mail's class (and so its
 * DEK's epoch) was only known after parsing.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`ALTER TABLE epochs ADD COLUMN shred_layer boolean NOT NULL DEFAULT false`.execute(db);
  await sql`ALTER TABLE epochs DROP CONSTRAINT epochs_tenant_id_retention_class_month_key`.execute(
    db,
  );
  await sql`CREATE UNIQUE INDEX epochs_live_month ON epochs (tenant_id, retention_class, month)
    WHERE shredded_at IS NULL`.execute(db);

  await sql`ALTER TABLE messages
    ADD COLUMN deleted_at timestamptz,
    ADD COLUMN body_epoch_id uuid REFERENCES epochs(id),
    ALTER COLUMN sealed_dek DROP NOT NULL,
    ALTER COLUMN enc_metadata DROP NOT NULL,
    ALTER COLUMN enc_tokens DROP NOT NULL`.execute(db);
  await sql`CREATE INDEX messages_by_epoch ON messages (epoch_id)`.execute(db);
  await sql`ALTER TABLE message_receipts ALTER COLUMN sealed_envelope DROP NOT NULL`.execute(db);
  await sql`GRANT UPDATE ON message_receipts TO mailrepo_app`.execute(db);
  await sql`GRANT DELETE ON search_segments TO mailrepo_app`.execute(db);

  await sql`CREATE TABLE retention_classes (
    tenant_id uuid NOT NULL REFERENCES tenants(id),
    name text NOT NULL CHECK (name ~ '^[a-z0-9-]{1,40}$'),
    keep_amount integer NOT NULL CHECK (keep_amount BETWEEN 1 AND 100000),
    keep_unit text NOT NULL CHECK (keep_unit IN ('years', 'months', 'days', 'minutes')),
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, name)
  )`.execute(db);
  await sql`CREATE TABLE retention_rules (
    id uuid PRIMARY KEY,
    tenant_id uuid NOT NULL REFERENCES tenants(id),
    pattern text NOT NULL CHECK (pattern ~ '^[^\s@]*@[^\s@]+$'),
    class_name text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (tenant_id, pattern),
    FOREIGN KEY (tenant_id, class_name) REFERENCES retention_classes (tenant_id, name)
  )`.execute(db);

  await sql`CREATE TABLE legal_holds (
    id uuid PRIMARY KEY,
    tenant_id uuid NOT NULL REFERENCES tenants(id),
    reason text NOT NULL CHECK (length(reason) BETWEEN 1 AND 2000),
    query text NOT NULL,
    created_by uuid NOT NULL REFERENCES users(id),
    created_at timestamptz NOT NULL DEFAULT now(),
    matched integer NOT NULL DEFAULT 0,
    released_at timestamptz,
    released_by uuid REFERENCES users(id),
    release_reason text
  )`.execute(db);
  await sql`CREATE TABLE legal_hold_messages (
    hold_id uuid NOT NULL REFERENCES legal_holds(id),
    message_id uuid NOT NULL REFERENCES messages(id),
    tenant_id uuid NOT NULL REFERENCES tenants(id),
    PRIMARY KEY (hold_id, message_id)
  )`.execute(db);
  await sql`CREATE INDEX legal_hold_messages_by_message ON legal_hold_messages (message_id)`.execute(
    db,
  );

  await sql`CREATE TABLE shreds (
    id uuid PRIMARY KEY,
    tenant_id uuid NOT NULL REFERENCES tenants(id),
    epoch_id uuid NOT NULL REFERENCES epochs(id),
    kind text NOT NULL CHECK (kind IN ('epoch', 'mails')),
    message_count integer NOT NULL,
    tombstone bytea NOT NULL,
    ledger_index bigint,
    objects_deleted_at timestamptz,
    created_at timestamptz NOT NULL DEFAULT now()
  )`.execute(db);

  await tenantIsolation(db, 'retention_classes', 'SELECT, INSERT, UPDATE, DELETE');
  await tenantIsolation(db, 'retention_rules', 'SELECT, INSERT, DELETE');
  await tenantIsolation(db, 'legal_holds', 'SELECT, INSERT, UPDATE');
  await tenantIsolation(db, 'legal_hold_messages', 'SELECT, INSERT');
  await tenantIsolation(db, 'shreds', 'SELECT, INSERT, UPDATE');
}
