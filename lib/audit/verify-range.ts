import type { Db } from '../db';
import { withTenant } from '../db/tenant-scope';
import { buildProofBundle, ProofUnavailableError } from '../proof/build-bundle';
import { publishedKeys, verifySteps, type StepOutcome } from '../proof/verify-steps';
import { chainPreimage } from './canonical';
import { chainedFromRow, eventsBetween } from './record';
import { linkProblems, type AuditProblem } from './verify-chain';

/**
 * The audit page's verification panel (issue 25 §1): are the events a page shows complete and
 * unaltered, and where are they anchored? The chain is recomputed from the first shown event to
 * the first chain head anchored at or after the last one; that head's hash commits to every event
 * before it, so its proof bundle — checked here like any bundle, signatures and the RFC 3161
 * token included — anchors the whole range. Events newer than the newest anchored head are
 * checked as a chain and reported as not yet anchored (anchoring runs with every checkpoint).
 */

export interface RangeVerdict {
  from: number;
  to: number;
  /** Events recomputed: the range and those up to its anchoring head. */
  checked: number;
  problems: AuditProblem[];
  anchor?: {
    seq: number;
    ledgerIndex: number;
    tenantLog: { origin: string; checkpointSize: number };
    anchorLog: { origin: string; index: number; checkpointSize: number };
    /** The RFC 3161 time of the anchor checkpoint (the first TSA's token). */
    genTime?: string;
    /** How many TSAs' evidence records the checkpoint has. */
    records: number;
    /** The proof bundle's checks, as `mailrepo verify` runs them. */
    steps: StepOutcome[];
    /** The head is in the ledger but no timestamped checkpoint covers it yet. */
    pending?: boolean;
  };
  /** Shown events after the newest anchored head. */
  unanchored?: { from: number; to: number };
  intact: boolean;
}

/** More than this between a page and its anchoring head means something is off: say so. */
const MAX_WALK = 100_000;

export async function verifyAuditRange(
  db: Db,
  input: { tenantId: string; from: number; to: number; tsaCaPem: string },
): Promise<RangeVerdict> {
  const { tenantId, from, to } = input;
  const found = await withTenant(
    db,
    tenantId,
    async (tx) => {
      const closing =
        (await tx
          .selectFrom('audit_anchors')
          .selectAll()
          .where('tenant_id', '=', tenantId)
          .where('seq', '>=', to)
          .orderBy('seq')
          .limit(1)
          .executeTakeFirst()) ??
        (await tx
          .selectFrom('audit_anchors')
          .selectAll()
          .where('tenant_id', '=', tenantId)
          .where('seq', '>=', from)
          .orderBy('seq', 'desc')
          .limit(1)
          .executeTakeFirst());
      const end = Math.max(to, closing ? Number(closing.seq) : to);
      if (end - from > MAX_WALK) return { closing, end, rows: undefined, ledgered: undefined };
      const rows = await eventsBetween(tx, tenantId, from, end);
      const ledgered =
        closing &&
        (await tx
          .selectFrom('ledger_entries as e')
          .innerJoin('ledger_logs as l', 'l.id', 'e.log_id')
          .select(['e.entry_hash', 'e.kind'])
          .where('l.tenant_id', '=', tenantId)
          .where('e.idx', '=', closing.ledger_index)
          .executeTakeFirst());
      return { closing, end, rows, ledgered };
    },
    { isolation: 'repeatable read' },
  );
  const { closing, end, rows, ledgered } = found;
  if (!rows)
    return {
      from,
      to,
      checked: 0,
      intact: false,
      problems: [
        {
          seq: from,
          what: `the next anchored head is ${end - from} events away: run mailrepo audit verify`,
        },
      ],
    };

  const problems: AuditProblem[] = [];
  let expected = from;
  let prev = rows[0]?.prev_hash;
  for (const r of rows) {
    const seq = Number(r.seq);
    if (seq !== expected)
      problems.push({ seq: expected, what: `events ${expected}…${seq - 1} are missing` });
    problems.push(...linkProblems(prev!, r));
    prev = r.hash;
    expected = seq + 1;
  }
  if (expected <= end)
    problems.push({ seq: expected, what: `events ${expected}…${end} are missing` });

  const verdict: RangeVerdict = { from, to, checked: rows.length, problems, intact: false };
  if (!closing) {
    verdict.unanchored = { from, to };
    verdict.intact = !problems.length;
    return verdict;
  }
  const seq = Number(closing.seq);
  if (seq < to) verdict.unanchored = { from: seq + 1, to };
  const head = rows.find((r) => Number(r.seq) === seq);
  if (!head || !head.hash.equals(closing.hash))
    problems.push({ seq, what: 'the anchored chain head is not the hash of this event' });
  if (!ledgered || ledgered.kind !== 'audit-head' || !ledgered.entry_hash.equals(closing.hash))
    problems.push({
      seq,
      what: `the ledger holds no such audit head at index ${closing.ledger_index}`,
    });

  const anchor: NonNullable<RangeVerdict['anchor']> = {
    seq,
    ledgerIndex: Number(closing.ledger_index),
    tenantLog: { origin: '', checkpointSize: 0 },
    anchorLog: { origin: '', index: 0, checkpointSize: 0 },
    records: 0,
    steps: [],
  };
  verdict.anchor = anchor;
  try {
    const bundle = await buildProofBundle(db, {
      tenantId,
      entrySha256: closing.hash,
      tsaCaPem: input.tsaCaPem,
    });
    const m = bundle.manifest;
    anchor.tenantLog = { origin: m.tenantLog.origin, checkpointSize: m.tenantLog.checkpointSize };
    anchor.anchorLog = m.anchorLog;
    anchor.records = m.evidence?.length ?? 1;
    // The bundle is checked against what the head's event says, not what the anchor row says.
    const preimage = head ? chainPreimage(head.prev_hash, chainedFromRow(head)) : Buffer.alloc(0);
    const outcome = await verifySteps(bundle.zip, preimage, {
      ...(await publishedKeys(db, tenantId)),
      tsaRootPem: input.tsaCaPem,
    });
    anchor.steps = outcome.steps;
    anchor.genTime = outcome.genTime;
    if (!outcome.verified)
      problems.push({ seq, what: 'the proof bundle of the anchored head does not verify' });
  } catch (e) {
    if (!(e instanceof ProofUnavailableError)) throw e;
    if (e.reason === 'not-yet-timestamped') anchor.pending = true;
    else problems.push({ seq, what: e.message });
  }
  verdict.intact = !problems.length;
  return verdict;
}
