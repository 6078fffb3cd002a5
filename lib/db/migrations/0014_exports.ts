import { sql, type Kysely } from 'kysely';
import { tenantIsolation } from './tenant-isolation';

/**
 * Exports (issue 9): which mails an export holds (by position, so each part is a fixed range and
 * a retried part writes the same file), its state and the parts written. The search that chose
 * the mails is not stored — it travels only in the workflow's encrypted input.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`CREATE TABLE exports (
    id uuid PRIMARY KEY,
    tenant_id uuid NOT NULL REFERENCES tenants(id),
    created_by uuid NOT NULL REFERENCES users(id),
    format text NOT NULL CHECK (format IN ('eml', 'mbox')),
    include_pdfs boolean NOT NULL,
    status text NOT NULL DEFAULT 'running' CHECK (status IN ('running', 'done', 'failed', 'expired')),
    total integer,
    parts jsonb NOT NULL DEFAULT '[]',
    error text,
    created_at timestamptz NOT NULL DEFAULT now(),
    finished_at timestamptz,
    expires_at timestamptz
  )`.execute(db);
  await sql`CREATE TABLE export_items (
    export_id uuid NOT NULL REFERENCES exports(id),
    tenant_id uuid NOT NULL REFERENCES tenants(id),
    position integer NOT NULL,
    message_id uuid NOT NULL REFERENCES messages(id),
    PRIMARY KEY (export_id, position)
  )`.execute(db);
  await tenantIsolation(db, 'exports', 'SELECT, INSERT, UPDATE');
  await tenantIsolation(db, 'export_items', 'SELECT, INSERT');
}
