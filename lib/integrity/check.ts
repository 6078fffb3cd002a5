import { randomUUID } from 'node:crypto';
import { metrics } from '../metrics/metrics';
import { type S3Client } from '@aws-sdk/client-s3';
import { sql } from 'kysely';
import { verifyAuditChain } from '../audit/verify-chain';
import type { Db } from '../db';
import type { IntegrityFailure } from '../db/schema';
import { withTenant } from '../db/tenant-scope';
import { verifyLog } from '../ledger/verify-log';
import { objectDigest } from '../storage/s3';

/**
 * The integrity check of one tenant (TOMs §7, issue 9): every stored ciphertext object is read
 * back in full (streaming, at a bounded rate) and its SHA-256 and size compared with what the
 * database recorded when it was stored; then the tenant's Merkle log (tiles, roots, checkpoint
 * signatures, consistency, anchoring) and audit chain are verified. Nothing is decrypted: the
 * check needs no keys and runs on a schedule. Results go to `integrity_runs`.
 */

export interface IntegrityDeps {
  db: Db;
  s3: S3Client;
  bucket: string;
  bytesPerSecond: number;
}

export interface IntegrityResult {
  runId: string;
  objectsChecked: number;
  bytesChecked: number;
  failures: IntegrityFailure[];
  ledgerProblems: { at: number; what: string }[];
  auditProblems: { seq: number; what: string }[];
}

const BATCH = 200;

/** Sleeps as needed so that reading stays under `bytesPerSecond` on average. */
function rateLimiter(bytesPerSecond: number) {
  const start = Date.now();
  let bytes = 0;
  return async (n: number) => {
    bytes += n;
    const due = (bytes / bytesPerSecond) * 1000 - (Date.now() - start);
    if (due > 5) await new Promise((r) => setTimeout(r, due));
  };
}

/**
 * Checks every stored object of the tenant, in id order after `after` (a retried activity
 * continues where its last heartbeat was); `progress` is told the last id checked.
 */
export async function checkObjects(
  deps: IntegrityDeps,
  tenantId: string,
  opts: { after?: string; progress?: (lastId: string, checked: number) => void } = {},
): Promise<{ checked: number; bytes: number; failures: IntegrityFailure[] }> {
  const throttle = rateLimiter(deps.bytesPerSecond);
  const failures: IntegrityFailure[] = [];
  let checked = 0;
  let bytes = 0;
  let after = opts.after ?? '00000000-0000-0000-0000-000000000000';
  for (;;) {
    const rows = await withTenant(deps.db, tenantId, (tx) =>
      tx
        .selectFrom('messages')
        .select(['id', 'object_key', 'ciphertext_sha256', 'ciphertext_size'])
        .where('object_key', 'is not', null)
        // Deleted at retention end: its object is gone on purpose (a tombstone says so).
        .where('deleted_at', 'is', null)
        .where('id', '>', after)
        .orderBy('id')
        .limit(BATCH)
        .execute(),
    );
    if (!rows.length) break;
    for (const row of rows) {
      try {
        const d = await objectDigest(deps.s3, deps.bucket, row.object_key!, throttle);
        if (!d) failures.push({ messageId: row.id, kind: 'missing' });
        else {
          bytes += d.size;
          if (d.size !== Number(row.ciphertext_size))
            failures.push({
              messageId: row.id,
              kind: 'size-mismatch',
              detail: `${d.size} bytes stored, ${row.ciphertext_size} recorded`,
            });
          else if (!d.sha256.equals(row.ciphertext_sha256))
            failures.push({ messageId: row.id, kind: 'hash-mismatch' });
        }
      } catch (e) {
        failures.push({
          messageId: row.id,
          kind: 'unreadable',
          detail: e instanceof Error ? e.message.slice(0, 200) : String(e),
        });
      }
      checked++;
      after = row.id;
      opts.progress?.(after, checked);
    }
  }
  return { checked, bytes, failures };
}

/** One full check of a tenant, recorded as an integrity run. */
export async function runIntegrityCheck(
  deps: IntegrityDeps,
  tenantId: string,
  input: { trigger: 'schedule' | 'manual'; progress?: (lastId: string, checked: number) => void },
): Promise<IntegrityResult> {
  const runId = randomUUID();
  await withTenant(deps.db, tenantId, (tx) =>
    tx
      .insertInto('integrity_runs')
      .values({ id: runId, tenant_id: tenantId, trigger: input.trigger })
      .execute(),
  );
  const objects = await checkObjects(deps, tenantId, { progress: input.progress });
  const log = await deps.db
    .selectFrom('ledger_logs')
    .select('id')
    .where('tenant_id', '=', tenantId)
    .executeTakeFirst();
  const ledgerProblems = log ? (await verifyLog(deps.db, log.id)).problems : [];
  const auditProblems = (await verifyAuditChain(deps.db, tenantId)).problems;
  await withTenant(deps.db, tenantId, (tx) =>
    tx
      .updateTable('integrity_runs')
      .set({
        finished_at: new Date(),
        objects_checked: objects.checked,
        bytes_checked: String(objects.bytes),
        failures: sql`${JSON.stringify(objects.failures)}::jsonb`,
        ledger_problems: sql`${JSON.stringify(ledgerProblems)}::jsonb`,
        audit_problems: sql`${JSON.stringify(auditProblems)}::jsonb`,
      })
      .where('id', '=', runId)
      .execute(),
  );
  metrics.integrityRuns.inc();
  for (const f of objects.failures) metrics.integrityFailures.inc({ kind: f.kind });
  if (ledgerProblems.length)
    metrics.integrityFailures.inc({ kind: 'ledger' }, ledgerProblems.length);
  if (auditProblems.length) metrics.integrityFailures.inc({ kind: 'audit' }, auditProblems.length);
  return {
    runId,
    objectsChecked: objects.checked,
    bytesChecked: objects.bytes,
    failures: objects.failures,
    ledgerProblems,
    auditProblems,
  };
}

/** The tenant's latest runs, newest first (admin page). */
export async function recentIntegrityRuns(db: Db, tenantId: string, limit = 20) {
  return withTenant(db, tenantId, (tx) =>
    tx
      .selectFrom('integrity_runs')
      .selectAll()
      .orderBy('started_at', 'desc')
      .limit(limit)
      .execute(),
  );
}
