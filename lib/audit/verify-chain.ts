import type { Db } from '../db';
import { withTenant, type TenantTx } from '../db/tenant-scope';
import { chainHash, GENESIS } from './canonical';
import { chainedFromRow } from './record';

/**
 * `mailrepo audit verify`: recomputes a tenant's audit chain from its rows and compares it with the
 * heads anchored in the tenant's ledger (the ledger itself is checked by `mailrepo ledger verify`).
 * Reads inside the tenant's own scope, where row-level security shows every row of that tenant,
 * in one snapshot.
 */

export interface AuditProblem {
  /** The first event found bad (or the last one of a range that must contain it). */
  seq: number;
  what: string;
}

export interface AuditReport {
  events: number;
  anchoredHeads: number;
  problems: AuditProblem[];
}

const BATCH = 2000;

type EventRow = Parameters<typeof chainedFromRow>[0] & { prev_hash: Buffer; hash: Buffer };

/** What is wrong with one stored event given the hash of the one before it (none: it holds). */
export function linkProblems(prev: Buffer, r: EventRow): AuditProblem[] {
  const seq = Number(r.seq);
  const problems: AuditProblem[] = [];
  if (!r.prev_hash.equals(prev))
    problems.push({ seq, what: 'its prev_hash is not the hash of the event before it' });
  if (!chainHash(r.prev_hash, chainedFromRow(r)).equals(r.hash))
    problems.push({ seq, what: 'its content does not match its hash (altered)' });
  return problems;
}

export function verifyAuditChain(db: Db, tenantId: string): Promise<AuditReport> {
  // One snapshot for the chain, the anchor records and the ledger: events and heads are appended
  // while we read (the check itself is audited, and anchoring runs every few seconds), and a head
  // anchored after the events were read would look like a head the chain does not reach.
  return withTenant(db, tenantId, (tx) => verifyInSnapshot(tx, tenantId), {
    isolation: 'repeatable read',
  });
}

async function verifyInSnapshot(tx: TenantTx, tenantId: string): Promise<AuditReport> {
  const problems: AuditProblem[] = [];
  // Hash → seq of every event of the unbroken chain from the first event on.
  const chain = new Map<string, number>();
  let intact = true;
  let prev: Buffer = GENESIS;
  let expectedSeq = 1;
  let events = 0;
  for (;;) {
    const rows = await tx
      .selectFrom('audit_events')
      .selectAll()
      .where('tenant_id', '=', tenantId)
      .where('seq', '>=', expectedSeq)
      .orderBy('seq')
      .limit(BATCH)
      .execute();
    for (const r of rows) {
      const seq = Number(r.seq);
      if (seq !== expectedSeq) {
        problems.push({ seq: expectedSeq, what: `events ${expectedSeq}…${seq - 1} are missing` });
        expectedSeq = seq;
        intact = false;
      }
      // Each row is checked against its own stored neighbours, so an edit is named exactly where
      // it is; a forger who recomputed every later hash is caught by the ledger below instead.
      const found = linkProblems(prev, r);
      problems.push(...found);
      if (!found.length && intact) chain.set(r.hash.toString('hex'), seq);
      else intact = false;
      prev = r.hash;
      expectedSeq++;
      events++;
    }
    if (rows.length < BATCH) break;
  }

  // The ledger is the authority: every audit head appended there must be a head of the
  // recomputed chain, at the position its anchor record says.
  const anchors = await tx
    .selectFrom('audit_anchors')
    .selectAll()
    .where('tenant_id', '=', tenantId)
    .orderBy('seq')
    .execute();
  const ledgered = await tx
    .selectFrom('ledger_entries as e')
    .innerJoin('ledger_logs as l', 'l.id', 'e.log_id')
    .select(['e.idx', 'e.entry_hash'])
    .where('l.tenant_id', '=', tenantId)
    .where('e.kind', '=', 'audit-head')
    .orderBy('e.idx')
    .execute();
  const anchorByIndex = new Map(anchors.map((a) => [Number(a.ledger_index), a]));
  let lastGood = 0;
  for (const e of ledgered) {
    const seq = chain.get(e.entry_hash.toString('hex'));
    const anchor = anchorByIndex.get(Number(e.idx));
    if (seq === undefined) {
      const upTo = anchor ? Number(anchor.seq) : events;
      problems.push({
        seq: upTo,
        what: `the chain head anchored at ledger index ${e.idx} is not in the intact chain: an event after ${lastGood} and up to ${upTo} was altered or removed`,
      });
    } else {
      if (anchor && Number(anchor.seq) !== seq)
        problems.push({
          seq,
          what: `anchor record for ledger index ${e.idx} names event ${anchor.seq}`,
        });
      lastGood = Math.max(lastGood, seq);
    }
  }
  for (const a of anchors)
    if (!ledgered.some((e) => Number(e.idx) === Number(a.ledger_index)))
      problems.push({
        seq: Number(a.seq),
        what: `anchor record names ledger index ${a.ledger_index}, which holds no audit head`,
      });
  problems.sort((a, b) => a.seq - b.seq);
  return { events, anchoredHeads: ledgered.length, problems };
}
