import { createHash } from 'node:crypto';
import { sql } from 'kysely';
import type { Db } from '../db';
import { metrics } from '../metrics/metrics';
import {
  evidenceRecord,
  hashTreeRenewalImprint,
  parseEvidenceRecord,
  timestampRenewalImprint,
  withHashTreeRenewal,
  withTimestampRenewal,
} from '../evidence/evidence-record';
import { verifyEvidenceRecord } from '../evidence/verify-evidence';
import { readToken, requestTimestamp, tokenOf, type TsaClientOptions } from '../tsa/client';

/**
 * The anchor checkpoints' RFC 4998 evidence records (decision 0030): one per checkpoint and TSA,
 * renewed in place so that the proof of every mail outlives TSA certificates, TSAs and hash
 * algorithms. A renewal asks the configured TSAs in order for a timestamp over what RFC 4998
 * says (the last token, or the data and the chains before), keeps the first whose certificate
 * lasts past the renewal window, checks the whole renewed record before storing it, and stores
 * it only over the version it started from (retries and parallel runs renew once).
 */

const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest();

/** What scheduling reads of a record: its current chain, times and the TSA certificate's end. */
export function evidenceColumns(record: Uint8Array) {
  const parsed = parseEvidenceRecord(record);
  const chain = parsed.chains[parsed.chains.length - 1]!;
  const last = readToken(chain[chain.length - 1]!.tokenDer);
  const first = readToken(parsed.chains[0]![0]!.tokenDer);
  return {
    record: Buffer.from(record),
    chain_alg: readToken(chain[0]!.tokenDer).imprint.alg,
    first_gen_time: first.genTime,
    last_gen_time: last.genTime,
    expires_at: last.notAfter,
    last_signer_sha256: sha256(last.signerCertDer),
  };
}

export interface RenewalSettings {
  /** The TSAs, in order of preference. */
  tsas: readonly Omit<TsaClientOptions, 'caPem'>[];
  /** Every trusted TSA root (PEM). */
  rootsPem: string;
  /** Renew this long before the last timestamp's certificate expires. */
  windowDays: number;
  /** SHA-256 fingerprints (hex) of TSA signing certificates no longer trusted. */
  distrusted: ReadonlySet<string>;
  /** A hash-tree renewal to this digest algorithm (OID) for records on another one. */
  hashTo?: string;
  now?: () => Date;
}

const windowEnd = (s: RenewalSettings) =>
  new Date((s.now?.() ?? new Date()).getTime() + s.windowDays * 86_400_000);

/**
 * Records for checkpoints timestamped before evidence records were kept (their RFC 3161
 * response is on the checkpoint): made from that response, up to `limit` per call.
 */
export async function backfillEvidence(db: Db, firstTsaUrl: string, limit: number) {
  const rows = await db
    .selectFrom('ledger_checkpoints as c')
    .select(['c.log_id', 'c.size', 'c.tsa_response'])
    .where('c.tenant_id', 'is', null)
    .where('c.tsa_response', 'is not', null)
    .where(({ not, exists, selectFrom }) =>
      not(
        exists(
          selectFrom('anchor_evidence as e')
            .select('e.size')
            .whereRef('e.log_id', '=', 'c.log_id')
            .whereRef('e.size', '=', 'c.size'),
        ),
      ),
    )
    .limit(limit)
    .execute();
  for (const r of rows)
    await db
      .insertInto('anchor_evidence')
      .values({
        log_id: r.log_id,
        size: r.size,
        tsa_url: firstTsaUrl,
        ...evidenceColumns(evidenceRecord(tokenOf(r.tsa_response!))),
      })
      .onConflict((oc) => oc.doNothing())
      .execute();
  return rows.length;
}

export interface DueRecord {
  log_id: string;
  size: number;
  tsa_url: string;
  record: Buffer;
  chain_alg: string;
  expires_at: Date;
  last_signer_sha256: Buffer;
  renewals: number;
  note: string;
}

/**
 * Records that need a renewal now, soonest expiry first: the last certificate expires within the
 * window, or is distrusted, or (hash-tree renewal) the chain uses another algorithm. Records that
 * failed since `failedSince` wait for the next run.
 */
export function dueEvidence(
  db: Db,
  s: RenewalSettings,
  limit: number,
  failedSince: Date,
): Promise<DueRecord[]> {
  const distrusted = [...s.distrusted].map((h) => Buffer.from(h, 'hex'));
  return db
    .selectFrom('anchor_evidence as e')
    .innerJoin('ledger_checkpoints as c', (j) =>
      j.onRef('c.log_id', '=', 'e.log_id').onRef('c.size', '=', 'e.size'),
    )
    .select([
      'e.log_id',
      'e.size',
      'e.tsa_url',
      'e.record',
      'e.chain_alg',
      'e.expires_at',
      'e.last_signer_sha256',
      'e.renewals',
      'c.note',
    ])
    .where((eb) =>
      eb.or([
        eb('e.expires_at', '<', windowEnd(s)),
        ...(distrusted.length ? [eb('e.last_signer_sha256', 'in', distrusted)] : []),
        ...(s.hashTo ? [eb('e.chain_alg', '<>', s.hashTo)] : []),
      ]),
    )
    .where((eb) =>
      eb.or([eb('e.renewal_failed_at', 'is', null), eb('e.renewal_failed_at', '<', failedSince)]),
    )
    .orderBy('e.expires_at')
    .limit(limit)
    .execute();
}

export type RenewalOutcome = 'renewed' | 'failed' | 'skipped';

/** Renews one record (see the module comment); failures are recorded on the row and counted. */
export async function renewEvidence(
  db: Db,
  row: DueRecord,
  s: RenewalSettings,
): Promise<RenewalOutcome> {
  const now = s.now?.() ?? new Date();
  const kind = s.hashTo && row.chain_alg !== s.hashTo ? 'hash-tree' : 'timestamp';
  const data = Buffer.from(row.note);
  const parsed = parseEvidenceRecord(row.record);
  const imprint =
    kind === 'hash-tree'
      ? hashTreeRenewalImprint(parsed, data, s.hashTo!)
      : timestampRenewalImprint(parsed, row.chain_alg);
  const lastDistrusted = s.distrusted.has(row.last_signer_sha256.toString('hex'));
  const errors: string[] = [];
  let best: ReturnType<typeof evidenceColumns> | undefined;
  for (const tsa of s.tsas) {
    const label = new URL(tsa.url).host;
    try {
      const token = await requestTimestamp(imprint, { ...tsa, caPem: s.rootsPem });
      if (s.distrusted.has(sha256(token.signerCertDer).toString('hex'))) {
        errors.push(`${label}: its certificate is distrusted`);
        continue;
      }
      const tokenDer = tokenOf(token.responseDer);
      const record =
        kind === 'hash-tree'
          ? withHashTreeRenewal(parsed, tokenDer, s.hashTo!)
          : withTimestampRenewal(parsed, tokenDer);
      // Never store a record that does not verify as a whole (judged once the new token exists:
      // a TSA's clock may run a little ahead of ours).
      const at = new Date(Math.max(now.getTime(), token.genTime.getTime()));
      await verifyEvidenceRecord(record, data, { caPem: s.rootsPem, at });
      const cols = evidenceColumns(record);
      if (!best || cols.expires_at > best.expires_at) best = cols;
      if (cols.expires_at >= windowEnd(s)) break;
    } catch (e) {
      errors.push(`${label}: ${e instanceof Error ? e.message : String(e)}`);
    }
  }
  // A renewal must move the evidence on: to a later expiry, off a distrusted TSA, or to the new
  // algorithm. Otherwise (every TSA's certificate ends as soon) the run reports a failure.
  const progress =
    best && (kind === 'hash-tree' || lastDistrusted || best.expires_at > row.expires_at);
  if (!best || !progress) {
    const why = errors.join('; ') || 'no configured TSA has a certificate lasting longer';
    await db
      .updateTable('anchor_evidence')
      .set({ renewal_error: why.slice(0, 2000), renewal_failed_at: now })
      .where('log_id', '=', row.log_id)
      .where('size', '=', row.size)
      .where('tsa_url', '=', row.tsa_url)
      .execute();
    metrics.evidenceRenewals.inc({ kind, result: 'failed' });
    return 'failed';
  }
  const stored = await db
    .updateTable('anchor_evidence')
    .set({
      ...best,
      renewals: sql`renewals + 1`,
      renewal_error: null,
      renewal_failed_at: null,
      updated_at: now,
    })
    .where('log_id', '=', row.log_id)
    .where('size', '=', row.size)
    .where('tsa_url', '=', row.tsa_url)
    .where('renewals', '=', row.renewals)
    .executeTakeFirst();
  if (!Number(stored.numUpdatedRows)) return 'skipped';
  metrics.evidenceRenewals.inc({ kind, result: 'renewed' });
  return 'renewed';
}

/** Per TSA (that made the first timestamps): records, renewed, due, failed, soonest end. */
export async function evidenceStatus(db: Db, windowDays: number) {
  const { rows } = await sql<{
    tsa_url: string;
    records: string;
    renewed: string;
    due: string;
    failed: string;
    soonest: Date | null;
  }>`
    SELECT tsa_url, count(*) AS records, count(*) FILTER (WHERE renewals > 0) AS renewed,
           count(*) FILTER (WHERE expires_at < now() + make_interval(days => ${windowDays})) AS due,
           count(*) FILTER (WHERE renewal_error IS NOT NULL) AS failed, min(expires_at) AS soonest
      FROM anchor_evidence GROUP BY tsa_url ORDER BY tsa_url`.execute(db);
  return rows.map((r) => ({
    tsa: r.tsa_url,
    records: Number(r.records),
    renewed: Number(r.renewed),
    due: Number(r.due),
    failed: Number(r.failed),
    soonestEnd: r.soonest?.toISOString().slice(0, 10),
  }));
}
