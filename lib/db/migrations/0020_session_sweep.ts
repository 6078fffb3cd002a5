import { sql, type Kysely } from 'kysely';

/**
 * Sessions past their idle or absolute limit, across tenants, for the scheduled sweep that ends
 * them and destroys their sealed keys even when the cookie never comes back (issue 17 §5). Only
 * ids, tenants and the reason leave the function; each end then runs under its tenant's RLS.
 * Sessions ended by a key rotation kept their sealed keys: cleared here too.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql
    .raw(
      `CREATE FUNCTION expired_sessions(at timestamptz, max_rows integer)
         RETURNS TABLE (tenant_id uuid, id_hash bytea, reason text)
         LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public AS $$
         SELECT s.tenant_id, s.id_hash,
                CASE WHEN s.last_seen_at < at - make_interval(mins => t.session_idle_minutes)
                     THEN 'idle-timeout' ELSE 'absolute-limit' END
           FROM sessions s JOIN tenants t ON t.id = s.tenant_id
          WHERE s.ended_at IS NULL
            AND (s.last_seen_at < at - make_interval(mins => t.session_idle_minutes)
                 OR s.created_at < at - make_interval(hours => t.session_absolute_hours))
          LIMIT max_rows $$`,
    )
    .execute(db);
  await sql
    .raw(`REVOKE ALL ON FUNCTION expired_sessions(timestamptz, integer) FROM PUBLIC`)
    .execute(db);
  await sql
    .raw(`GRANT EXECUTE ON FUNCTION expired_sessions(timestamptz, integer) TO mailrepo_app`)
    .execute(db);
  await sql`UPDATE sessions SET sealed_keys = '\\x'::bytea
             WHERE ended_at IS NOT NULL AND length(sealed_keys) > 0`.execute(db);
}
