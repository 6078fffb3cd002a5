import { sql, type Kysely } from 'kysely';

/**
 * RFC 4998 evidence records of the anchor checkpoints (issue 23, decision 0030): one per
 * checkpoint and configured TSA, renewed in place — a timestamp renewal before the last
 * timestamp's TSA certificate expires or when its TSA is distrusted, a hash-tree renewal when an
 * operator moves to a new digest algorithm. Hashes, tokens and certificates only: no tenant data,
 * so no row-level security; the service role reads them for proof bundles, the platform role
 * writes them.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`CREATE TABLE anchor_evidence (
    log_id uuid NOT NULL,
    size bigint NOT NULL,
    tsa_url text NOT NULL,
    record bytea NOT NULL,
    chain_alg text NOT NULL,
    first_gen_time timestamptz NOT NULL,
    last_gen_time timestamptz NOT NULL,
    expires_at timestamptz NOT NULL,
    last_signer_sha256 bytea NOT NULL CHECK (length(last_signer_sha256) = 32),
    renewals integer NOT NULL DEFAULT 0,
    renewal_error text,
    renewal_failed_at timestamptz,
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (log_id, size, tsa_url),
    FOREIGN KEY (log_id, size) REFERENCES ledger_checkpoints(log_id, size)
  )`.execute(db);
  await sql`CREATE INDEX anchor_evidence_by_expiry ON anchor_evidence (expires_at)`.execute(db);
  // Each TSA's newest timestamp (a gauge read at every scrape) without a scan of all records.
  await sql`CREATE INDEX anchor_evidence_by_tsa ON anchor_evidence (tsa_url, first_gen_time)`.execute(
    db,
  );
  await sql`GRANT SELECT ON anchor_evidence TO mailrepo_app`.execute(db);
  await sql`GRANT SELECT, INSERT, UPDATE ON anchor_evidence TO mailrepo_platform`.execute(db);
}
