import { createHash } from 'node:crypto';
import { metrics } from '../metrics/metrics';
import type { Transaction } from 'kysely';
import type { Database, Db } from '../db';

type Tx = Transaction<Database>;
import {
  requestTimestamp,
  tokenOf,
  type TsaClientOptions,
  type VerifiedTimestamp,
} from '../tsa/client';
import { evidenceRecord } from '../evidence/evidence-record';
import { tsaLabel } from '../tsa/label';
import { evidenceColumns } from './anchor-evidence';
import {
  appendEntry,
  ensureLog,
  integrateLog,
  signCurrentCheckpoint,
  type LedgerKeys,
  type LogRef,
} from './store';

/**
 * One checkpoint round (the body of the ledgerCheckpoint workflow's activity), as the system — it
 * works across tenants:
 *  1. every tenant log with new entries is integrated and signed; the checkpoint note's SHA-256 is
 *     appended to the anchor log;
 *  2. the anchor log is integrated and signed, and that one note is timestamped over RFC 3161.
 * A TSA failure leaves the anchor checkpoint without a token; entries are not lost or blocked, and
 * the next round timestamps a newer checkpoint that covers them. Safe to repeat (retries).
 */

export interface CheckpointDeps extends LedgerKeys {
  db: Db;
  /** The TSAs; each anchor checkpoint gets a timestamp (an evidence record) from every one. */
  tsa: TsaClientOptions | readonly TsaClientOptions[];
}

export interface RoundResult {
  tenantCheckpoints: number;
  anchorSize: number;
  timestamped: boolean;
  tsaError?: string;
}

export const noteHash = (note: string): Buffer => createHash('sha256').update(note).digest();

/**
 * Integrates `log` and, if it grew since its last checkpoint, signs and records a new one. A tenant
 * checkpoint's note is appended to `anchor`, and its index there is recorded with it.
 */
async function checkpointIfGrown(
  tx: Tx,
  deps: CheckpointDeps,
  log: LogRef,
  anchor?: LogRef,
): Promise<boolean> {
  const { size } = await integrateLog(tx, log);
  const last = await tx
    .selectFrom('ledger_checkpoints')
    .select('size')
    .where('log_id', '=', log.id)
    .orderBy('size', 'desc')
    .executeTakeFirst();
  if (size === 0 || (last && last.size >= size)) return false;
  const { checkpoint, note } = await signCurrentCheckpoint(tx, log, deps.wrapKey);
  const anchorIndex = anchor
    ? (await appendEntry(tx, anchor, noteHash(note), 'checkpoint')).index
    : null;
  await tx
    .insertInto('ledger_checkpoints')
    .values({
      log_id: log.id,
      tenant_id: log.tenantId,
      size: checkpoint.size,
      root: checkpoint.root,
      note,
      anchor_index: anchorIndex,
      tsa_response: null,
      tsa_gen_time: null,
    })
    .execute();
  return true;
}

/** Steps 1 and 2 above; lib/checkpoint/round.ts anchors the audit chains first. */
export async function checkpointLogs(deps: CheckpointDeps): Promise<RoundResult> {
  const anchor = await ensureLog(deps.db, { ...deps, tenantId: null });
  const dirty = await deps.db
    .selectFrom('ledger_logs')
    .select(['id', 'tenant_id', 'origin'])
    .where('tenant_id', 'is not', null)
    .where((eb) =>
      eb(
        'size',
        '>',
        eb.fn.coalesce(
          eb
            .selectFrom('ledger_checkpoints')
            .select((e) => e.fn.max('ledger_checkpoints.size').as('s'))
            .whereRef('ledger_checkpoints.log_id', '=', 'ledger_logs.id'),
          eb.lit(0),
        ),
      ),
    )
    .execute();
  let tenantCheckpoints = 0;
  for (const l of dirty) {
    const log = { id: l.id, tenantId: l.tenant_id, origin: l.origin };
    if (await deps.db.transaction().execute((tx) => checkpointIfGrown(tx, deps, log, anchor)))
      tenantCheckpoints++;
  }

  // The anchor: a new checkpoint when it grew; a token for the newest checkpoint that lacks one.
  await deps.db.transaction().execute((tx) => checkpointIfGrown(tx, deps, anchor));
  const newest = await deps.db
    .selectFrom('ledger_checkpoints')
    .selectAll()
    .where('log_id', '=', anchor.id)
    .orderBy('size', 'desc')
    .executeTakeFirst();
  if (!newest) return { tenantCheckpoints, anchorSize: 0, timestamped: false };
  const done = new Set(
    (
      await deps.db
        .selectFrom('anchor_evidence')
        .select('tsa_url')
        .where('log_id', '=', anchor.id)
        .where('size', '=', newest.size)
        .execute()
    ).map((r) => r.tsa_url),
  );
  // Every TSA that has not timestamped the newest checkpoint yet, side by side; the first answer
  // seals it. One TSA failing leaves its record for the next round (same checkpoint while the log
  // does not grow) and never holds up the others.
  const errors: string[] = [];
  let timestamped = !!newest.tsa_response;
  await Promise.all(
    [deps.tsa]
      .flat()
      .filter((tsa) => !done.has(tsa.url))
      .map(async (tsa) => {
        try {
          const token = await requestTimestamp(Buffer.from(newest.note), tsa);
          await storeFirstTimestamp(deps.db, { logId: anchor.id, size: newest.size }, tsa, token);
          timestamped = true;
        } catch (e) {
          metrics.tsaErrors.inc({ tsa: tsaLabel(tsa.url) });
          errors.push(`${tsaLabel(tsa.url)}: ${e instanceof Error ? e.message : String(e)}`);
        }
      }),
  );
  return {
    tenantCheckpoints,
    anchorSize: newest.size,
    timestamped,
    ...(errors.length ? { tsaError: errors.join('; ') } : {}),
  };
}

/**
 * The checkpoint's evidence record from `tsa` (decision 0030), and — for the first TSA to answer
 * — the RFC 3161 response itself on the checkpoint, which seals what it covers.
 */
async function storeFirstTimestamp(
  db: Db,
  checkpoint: { logId: string; size: number },
  tsa: TsaClientOptions,
  token: VerifiedTimestamp,
): Promise<void> {
  const tokenDer = tokenOf(token.responseDer);
  await db.transaction().execute(async (tx) => {
    await tx
      .insertInto('anchor_evidence')
      .values({
        log_id: checkpoint.logId,
        size: checkpoint.size,
        tsa_url: tsa.url,
        ...evidenceColumns(evidenceRecord(tokenDer)),
      })
      .onConflict((oc) => oc.doNothing())
      .execute();
    await tx
      .updateTable('ledger_checkpoints')
      .set({ tsa_response: Buffer.from(token.responseDer), tsa_gen_time: token.genTime })
      .where('log_id', '=', checkpoint.logId)
      .where('size', '=', checkpoint.size)
      .where('tsa_response', 'is', null)
      .execute();
  });
}

/**
 * The timestamped anchor checkpoint covering tenant entry `index`, if any yet: the first tenant
 * checkpoint beyond the entry, and the first timestamped anchor checkpoint beyond that note.
 */
export async function timestampCovering(db: Db | Tx, tenantLogId: string, index: number) {
  const tenantCp = await db
    .selectFrom('ledger_checkpoints')
    .selectAll()
    .where('log_id', '=', tenantLogId)
    .where('size', '>', index)
    .orderBy('size', 'asc')
    .executeTakeFirst();
  if (!tenantCp || tenantCp.anchor_index === null) return undefined;
  const anchorCp = await db
    .selectFrom('ledger_checkpoints')
    .selectAll()
    .where('tenant_id', 'is', null)
    .where('size', '>', tenantCp.anchor_index)
    .where('tsa_response', 'is not', null)
    .orderBy('size', 'asc')
    .executeTakeFirst();
  return anchorCp ? { tenantCheckpoint: tenantCp, anchorCheckpoint: anchorCp } : undefined;
}

/**
 * Per log — the anchor log, or every tenant log — the size of its newest checkpoint that is
 * timestamped, or whose note entered the anchor log below a size: a backward walk of the primary
 * key (log_id, size) that stops at the first match, not a scan of every checkpoint ever made.
 */
function newestCheckpoints(
  db: Db,
  logs: 'anchor' | 'tenants',
  which: { timestamped: true } | { anchoredBelow: number },
) {
  return db
    .selectFrom('ledger_logs as l')
    .innerJoinLateral(
      (eb) => {
        const q = eb
          .selectFrom('ledger_checkpoints as c')
          .select('c.size')
          .whereRef('c.log_id', '=', 'l.id');
        return (
          'timestamped' in which
            ? q.where('c.tsa_response', 'is not', null)
            : q.where('c.anchor_index', '<', which.anchoredBelow)
        )
          .orderBy('c.size', 'desc')
          .limit(1)
          .as('newest');
      },
      (join) => join.onTrue(),
    )
    .select(['l.tenant_id', 'newest.size'])
    .where('l.tenant_id', logs === 'anchor' ? 'is' : 'is not', null)
    .execute();
}

/**
 * For every tenant log, how many of its entries a timestamped anchor checkpoint covers: the size
 * of its largest checkpoint whose note entered the anchor log below the newest timestamped anchor
 * checkpoint. Entries below that size are sealed.
 */
export async function timestampedSizes(db: Db): Promise<{ tenantId: string; size: number }[]> {
  const [anchor] = await newestCheckpoints(db, 'anchor', { timestamped: true });
  if (!anchor) return [];
  const rows = await newestCheckpoints(db, 'tenants', { anchoredBelow: Number(anchor.size) });
  return rows.map((r) => ({ tenantId: r.tenant_id!, size: Number(r.size) }));
}
