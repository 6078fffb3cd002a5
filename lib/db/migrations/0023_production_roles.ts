import { sql, type Kysely } from 'kysely';
import { ensureRole } from './tenant-isolation';

/**
 * Production roles (issue 17 §7, lib/db/roles.ts, docs/deploy.md). Until now the processes
 * connected as a superuser: row-level security held inside `SET LOCAL ROLE mailrepo_app`
 * transactions, but everything outside them — and every SECURITY DEFINER lookup, owned by the
 * superuser — bypassed it. From here on:
 *
 * - the lookups that must cross tenants before a tenant is known belong to `mailrepo_definer`, a
 *   role nobody logs in as, which may read exactly the columns they use (a SELECT policy of its
 *   own next to each table's tenant policy);
 * - `mailrepo_platform` holds what the system does outside any tenant: the login throttle, the
 *   operator's ledger of hashes and its checkpoints (hashes, sizes and signatures; no content),
 *   finding the audit chains' heads to anchor, the operator's own ingest credentials, the smoke
 *   check.
 *   The service login role is a member of it and of `mailrepo_app`.
 */

const DEFINER_READS: Record<string, string[]> = {
  users: ['tenant_id', 'email', 'disabled_at'],
  invites: ['tenant_id', 'token_hash', 'accepted_at', 'revoked_at', 'expires_at'],
  sessions: ['tenant_id', 'id_hash', 'ended_at', 'last_seen_at', 'created_at'],
  tenants: ['id', 'session_idle_minutes', 'session_absolute_hours'],
  ingest_addresses: ['tenant_id', 'address', 'removed_at'],
  ingest_credentials: ['id', 'tenant_id', 'kind', 'secret_sha256', 'revoked_at'],
  messages: ['state', 'received_at'],
};

const DEFINER_FUNCTIONS = [
  'login_tenants(text)',
  'invite_tenant(bytea)',
  'session_tenant(bytea)',
  'ingest_address_tenant(text)',
  'expired_sessions(timestamptz, integer)',
  'ingest_credential(uuid)',
];

/**
 * Tables the platform reads and writes across tenants, and with which commands. The policies
 * name the commands too: the service role also inherits `mailrepo_app`'s grants, and a policy
 * for every command would let those act across tenants outside a tenant transaction.
 */
const PLATFORM_TABLES: [string, ('SELECT' | 'INSERT' | 'UPDATE')[]][] = [
  ['ledger_logs', ['SELECT', 'INSERT', 'UPDATE']],
  ['ledger_entries', ['SELECT', 'INSERT']],
  ['ledger_tiles', ['SELECT', 'INSERT', 'UPDATE']],
  ['ledger_checkpoints', ['SELECT', 'INSERT', 'UPDATE']],
  ['audit_heads', ['SELECT']],
  ['audit_anchors', ['SELECT']],
];

const policyFor = (table: string, command: string) => {
  const name = `platform_${command.toLowerCase()}`;
  const rule =
    command === 'SELECT'
      ? 'USING (true)'
      : command === 'INSERT'
        ? 'WITH CHECK (true)'
        : 'USING (true) WITH CHECK (true)';
  return `CREATE POLICY ${name} ON ${table} FOR ${command} TO mailrepo_platform ${rule}`;
};

export async function up(db: Kysely<unknown>): Promise<void> {
  await ensureRole(db, 'mailrepo_platform');
  await ensureRole(db, 'mailrepo_definer');
  await sql`GRANT USAGE ON SCHEMA public TO mailrepo_platform, mailrepo_definer`.execute(db);

  // The system's own tables, no tenant in them.
  await sql`GRANT SELECT, INSERT, UPDATE, DELETE ON auth_throttle, auth_known_sources TO mailrepo_platform`.execute(
    db,
  );
  await sql`GRANT SELECT, INSERT ON smoke_checks TO mailrepo_platform`.execute(db);
  // `mailrepo doctor` and the processes' start-up check that the schema is current.
  await sql`GRANT SELECT ON schema_migrations TO mailrepo_platform`.execute(db);
  await sql`GRANT USAGE ON SEQUENCE smoke_checks_seq_seq TO mailrepo_platform`.execute(db);

  for (const [table, commands] of PLATFORM_TABLES) {
    await sql.raw(`GRANT ${commands.join(', ')} ON ${table} TO mailrepo_platform`).execute(db);
    for (const command of commands) await sql.raw(policyFor(table, command)).execute(db);
  }
  // A tenant's audit head is anchored inside that tenant's transaction (lib/audit/anchor.ts).
  await sql`GRANT INSERT ON audit_anchors TO mailrepo_app`.execute(db);
  // The operator's relay credentials (tenant_id NULL) and nothing of a tenant's.
  await sql`GRANT SELECT, INSERT, UPDATE ON ingest_credentials TO mailrepo_platform`.execute(db);
  await sql`CREATE POLICY operator_credentials ON ingest_credentials TO mailrepo_platform
    USING (tenant_id IS NULL) WITH CHECK (tenant_id IS NULL)`.execute(db);

  for (const [table, columns] of Object.entries(DEFINER_READS)) {
    await sql
      .raw(`GRANT SELECT (${columns.join(', ')}) ON ${table} TO mailrepo_definer`)
      .execute(db);
    await sql
      .raw(`CREATE POLICY definer_lookup ON ${table} FOR SELECT TO mailrepo_definer USING (true)`)
      .execute(db);
  }

  // Two new lookups the platform needed the superuser for: the tenants a sweep walks, and the
  // archive-wide counts the alert rules watch (counts only, no tenant named).
  await sql`CREATE FUNCTION tenant_ids() RETURNS SETOF uuid
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public AS $$
      SELECT id FROM tenants ORDER BY id $$`.execute(db);
  await sql`CREATE FUNCTION archive_gauges()
    RETURNS TABLE (ledger_pending bigint, backlog bigint, oldest_pending_seconds double precision)
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public AS $$
      SELECT count(*) FILTER (WHERE state = 'ledgered'),
             count(*) FILTER (WHERE state IN ('staged', 'stored')),
             coalesce(extract(epoch FROM now() - min(received_at)
                        FILTER (WHERE state IN ('staged', 'stored'))), 0)::double precision
        FROM messages $$`.execute(db);

  for (const fn of [...DEFINER_FUNCTIONS, 'tenant_ids()', 'archive_gauges()']) {
    await sql.raw(`ALTER FUNCTION ${fn} OWNER TO mailrepo_definer`).execute(db);
    await sql.raw(`REVOKE ALL ON FUNCTION ${fn} FROM PUBLIC`).execute(db);
    await sql.raw(`GRANT EXECUTE ON FUNCTION ${fn} TO mailrepo_platform`).execute(db);
  }
}
