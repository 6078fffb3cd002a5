import { sql, type Kysely } from 'kysely';

/**
 * Client certificates as ingest credentials (issue 17 §1, lib/ingest/ingest-ca.ts): the issued
 * certificate (public; kept so it can be downloaded again) and its expiry, shown in the portal.
 * `secret_sha256` holds the certificate's SHA-256, which the LMTP server pins.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`ALTER TABLE ingest_credentials
    ADD COLUMN certificate_pem text CHECK (length(certificate_pem) < 16384),
    ADD COLUMN expires_at timestamptz,
    ADD CONSTRAINT ingest_credentials_certificate CHECK (
      (kind = 'certificate') = (certificate_pem IS NOT NULL AND expires_at IS NOT NULL))`.execute(
    db,
  );
}
