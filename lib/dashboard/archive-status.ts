import { sql } from 'kysely';
import type { Db } from '../db';
import { withTenant } from '../db/tenant-scope';
import { mailTotals } from '../mail/mail-totals';

/**
 * What the database knows about a tenant's archive, for the portal's home (issue 20 §4): counts
 * and times only — nothing here is decrypted. No figure reads every mail: totals are kept
 * (lib/mail/mail-totals.ts), today's mails come by the time index, unsealed mail by its partial index.
 */

export interface ArchiveStatus {
  mails: number;
  bytes: number;
  /** Since midnight in Germany (the schedules' time zone). */
  today: number;
  lastHour: number;
  lastReceivedAt: Date | null;
  /** Stored but not yet under a timestamped checkpoint. */
  unsealed: number;
  /** The newest of the tenant's checkpoints a timestamp covers, and that timestamp's time. */
  sealed: { entries: number; checkpointAt: Date; tsaTime: Date | null } | null;
  integrity: {
    startedAt: Date;
    finishedAt: Date | null;
    objectsChecked: number;
    problems: number;
  } | null;
  pendingIndex: number;
}

export async function archiveStatus(db: Db, tenantId: string): Promise<ArchiveStatus> {
  return withTenant(db, tenantId, async (tx) => {
    const totals = await mailTotals(tx, tenantId);
    // Today and the last hour by the time index (recent rows only).
    const recent = await sql<{ today: string; last_hour: string; last: Date | null }>`
      SELECT count(*) AS today,
             count(*) FILTER (WHERE received_at >= now() - interval '1 hour') AS last_hour,
             (SELECT max(received_at) FROM messages WHERE deleted_at IS NULL) AS last
        FROM messages
       WHERE deleted_at IS NULL AND received_at >=
             date_trunc('day', now() AT TIME ZONE 'Europe/Berlin') AT TIME ZONE 'Europe/Berlin'`.execute(
      tx,
    );
    const unsealed = await sql<{ n: string }>`
      SELECT count(*) AS n FROM messages WHERE state <> 'sealed' AND deleted_at IS NULL`.execute(
      tx,
    );
    const sealed = await sql<{ size: string; created_at: Date; tsa_gen_time: Date | null }>`
      SELECT tc.size, tc.created_at, a.tsa_gen_time
        FROM ledger_checkpoints tc
        JOIN LATERAL (SELECT tsa_gen_time FROM ledger_checkpoints
                       WHERE tenant_id IS NULL AND tsa_response IS NOT NULL AND size > tc.anchor_index
                       ORDER BY size LIMIT 1) a ON true
       WHERE tc.tenant_id = ${tenantId}
       ORDER BY tc.size DESC LIMIT 1`.execute(tx);
    const run = await tx
      .selectFrom('integrity_runs')
      .selectAll()
      .orderBy('started_at', 'desc')
      .limit(1)
      .executeTakeFirst();
    const queued = await tx
      .selectFrom('search_index_queue')
      .select((eb) => eb.fn.countAll<string>().as('n'))
      .executeTakeFirstOrThrow();
    const c = recent.rows[0]!;
    const s = sealed.rows[0];
    return {
      mails: totals.mails,
      bytes: totals.bytes,
      today: Number(c.today),
      lastHour: Number(c.last_hour),
      lastReceivedAt: c.last,
      unsealed: Number(unsealed.rows[0]!.n),
      sealed: s
        ? { entries: Number(s.size), checkpointAt: s.created_at, tsaTime: s.tsa_gen_time }
        : null,
      integrity: run
        ? {
            startedAt: run.started_at,
            finishedAt: run.finished_at,
            objectsChecked: run.objects_checked,
            problems: run.failures.length + run.ledger_problems.length + run.audit_problems.length,
          }
        : null,
      pendingIndex: Number(queued.n),
    };
  });
}
