import { sql, type Kysely } from 'kysely';

/**
 * What a person needs to hear when something of theirs expired (issue 25 §3): when a timed-out
 * session ended and by which limit, and whether an invitation or reset link expired (and when),
 * was used or was withdrawn — asked before a tenant is known, so as the definer role, which
 * already reads these columns (migrations 0023, 0034). Only the holder of the token learns it.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`CREATE FUNCTION timed_out_session_facts(hash bytea)
    RETURNS TABLE (reason text, expired_at timestamptz, idle_minutes int, absolute_hours int)
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public AS $$
    SELECT s.end_reason,
           CASE WHEN s.end_reason = 'idle-timeout'
                THEN s.last_seen_at + make_interval(mins => t.session_idle_minutes)
                ELSE s.created_at + make_interval(hours => t.session_absolute_hours) END,
           t.session_idle_minutes, t.session_absolute_hours
      FROM sessions s JOIN tenants t ON t.id = s.tenant_id
     WHERE s.id_hash = hash AND s.end_reason IN ('idle-timeout', 'absolute-limit')
       AND s.ended_at > now() - interval '1 day'
    $$`.execute(db);
  await sql`CREATE FUNCTION invite_state(hash bytea)
    RETURNS TABLE (state text, expires_at timestamptz)
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public AS $$
    SELECT CASE WHEN accepted_at IS NOT NULL THEN 'used'
                WHEN revoked_at IS NOT NULL THEN 'revoked'
                WHEN expires_at <= now() THEN 'expired'
                ELSE 'open' END,
           expires_at
      FROM invites WHERE token_hash = hash
    $$`.execute(db);
  for (const fn of ['timed_out_session_facts(bytea)', 'invite_state(bytea)']) {
    await sql.raw(`ALTER FUNCTION ${fn} OWNER TO mailrepo_definer`).execute(db);
    await sql.raw(`REVOKE ALL ON FUNCTION ${fn} FROM PUBLIC`).execute(db);
    await sql.raw(`GRANT EXECUTE ON FUNCTION ${fn} TO mailrepo_app`).execute(db);
  }
}
