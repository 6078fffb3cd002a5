import { sql, type Kysely } from 'kysely';

/**
 * Why a cookie's session is gone, when it timed out (idle or too old) in the last day: the
 * scheduled sweep may end a session before its cookie comes back, and the user should still
 * learn that inactivity signed them out rather than see a bare sign-in page. Only the reason is
 * returned, never the tenant or anything else of the session.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`GRANT SELECT (end_reason) ON sessions TO mailrepo_definer`.execute(db);
  await sql`CREATE FUNCTION timed_out_session(hash bytea) RETURNS text
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public AS $$
    SELECT end_reason FROM sessions WHERE id_hash = hash
       AND end_reason IN ('idle-timeout', 'absolute-limit') AND ended_at > now() - interval '1 day'
    $$`.execute(db);
  await sql`ALTER FUNCTION timed_out_session(bytea) OWNER TO mailrepo_definer`.execute(db);
  await sql`REVOKE ALL ON FUNCTION timed_out_session(bytea) FROM PUBLIC`.execute(db);
  await sql`GRANT EXECUTE ON FUNCTION timed_out_session(bytea) TO mailrepo_app`.execute(db);
}
