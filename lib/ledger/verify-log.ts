import type { Transaction } from 'kysely';
import type { Database, Db } from '../db';
import { equalBytes } from '../crypto/bytes';
import { openCheckpoint } from './checkpoint';
import { noteHash } from './checkpointer';
import {
  consistencyProof,
  hashLeaf,
  memoryHasher,
  verifyConsistency,
  verifyInclusion,
  type Hash,
} from './merkle';
import { consistencyProofFor, inclusionProofFor } from './store';
import { integrate, type TileReader } from './tiles';

/**
 * Whole-log audit: recomputes the log from its entries and compares everything stored against it —
 * every tile, every checkpoint (root, signature, consistency with its predecessor) and, for a
 * tenant log, each checkpoint's inclusion in the anchor log. Reports the first problem found with
 * the leaf index or size where it appears. Reads as the system (across row-level security).
 */

type Tx = Transaction<Database>;

export interface LogProblem {
  what: string;
  /** First leaf index (or tree size) at which the stored data disagrees with the recomputation. */
  at: number;
}

export interface LogReport {
  logId: string;
  size: number;
  checkpoints: number;
  problems: LogProblem[];
}

export function verifyLog(db: Db, logId: string): Promise<LogReport> {
  // One snapshot for the log row, its entries, tiles and checkpoints: integration commits new
  // tiles and a new size every few seconds, and tiles read after the size would hold hashes the
  // recomputation does not expect (a false "tile differs" on a live archive).
  return db
    .transaction()
    .setIsolationLevel('repeatable read')
    .execute((tx) => verifyInSnapshot(tx, logId));
}

async function verifyInSnapshot(db: Tx, logId: string): Promise<LogReport> {
  const log = await db
    .selectFrom('ledger_logs')
    .selectAll()
    .where('id', '=', logId)
    .executeTakeFirstOrThrow();
  const entries = await db
    .selectFrom('ledger_entries')
    .select(['idx', 'entry_hash'])
    .where('log_id', '=', logId)
    .orderBy('idx')
    .execute();
  const problems: LogProblem[] = [];
  const gap = entries.findIndex((e, k) => e.idx !== k);
  if (gap >= 0) problems.push({ what: 'entry indices have a gap', at: gap });
  const leaves = entries.map((e) => hashLeaf(e.entry_hash));
  const size = log.integrated_size;

  // Tiles as they should be, rebuilt from the entries; compared hash by hash.
  const rebuilt = new Map<string, Buffer>();
  const reader: TileReader = { tile: (l, i) => rebuilt.get(`${l}/${i}`) ?? Buffer.alloc(0) };
  for (const [key, t] of integrate(reader, 0, leaves.slice(0, size))) rebuilt.set(key, t.hashes);
  const tileProblems: (LogProblem & { level: number })[] = [];
  const stored = await db
    .selectFrom('ledger_tiles')
    .select(['level', 'tile_index', 'hashes'])
    .where('log_id', '=', logId)
    .execute();
  for (const t of stored) {
    const want = rebuilt.get(`${t.level}/${t.tile_index}`) ?? Buffer.alloc(0);
    for (let k = 0; k * 32 < Math.max(want.length, t.hashes.length); k++) {
      const a = t.hashes.subarray(k * 32, k * 32 + 32);
      const b = want.subarray(k * 32, k * 32 + 32);
      if (a.length !== b.length || !equalBytes(a, b)) {
        tileProblems.push({
          what: `tile (${t.level}, ${t.tile_index}) differs from the entries`,
          at: (t.tile_index * 256 + k) * 256 ** t.level,
          level: t.level,
        });
        break;
      }
    }
  }

  // A higher tile disagrees as a consequence of a lower one; report it only when nothing below it,
  // within the 256^level leaves its hash covers, explains it (then that interior hash was altered).
  for (const p of tileProblems) {
    const span = 256 ** p.level;
    const explained = tileProblems.some(
      (q) => q.level < p.level && q.at >= p.at && q.at < p.at + span,
    );
    if (!explained) problems.push({ what: p.what, at: p.at });
  }

  const reference = memoryHasher(leaves);
  if (size > 0 && !equalBytes(log.root, reference.hash(0, size)))
    problems.push({ what: 'stored root differs from the entries', at: size });

  const checkpoints = await db
    .selectFrom('ledger_checkpoints')
    .selectAll()
    .where('log_id', '=', logId)
    .orderBy('size')
    .execute();
  const anchor = log.tenant_id
    ? await db
        .selectFrom('ledger_logs')
        .selectAll()
        .where('tenant_id', 'is', null)
        .executeTakeFirst()
    : undefined;
  let previous: { size: number; root: Hash } | undefined;
  for (const c of checkpoints) {
    let cp;
    try {
      cp = openCheckpoint(c.note, { name: log.origin, publicKey: log.signing_public_key });
    } catch (e) {
      problems.push({ what: `checkpoint at size ${c.size}: ${(e as Error).message}`, at: c.size });
      continue;
    }
    if (cp.size !== c.size || !equalBytes(cp.root, c.root))
      problems.push({ what: `checkpoint at size ${c.size} does not match its row`, at: c.size });
    if (cp.size > leaves.length || !equalBytes(cp.root, reference.hash(0, cp.size)))
      problems.push({
        what: `checkpoint at size ${c.size} is not the root of the entries`,
        at: c.size,
      });
    if (previous) {
      try {
        const proof = await consistencyProofFor(db, logId, previous.size, cp.size, { fresh: true });
        verifyConsistency(previous.size, cp.size, proof, previous.root, cp.root);
      } catch (e) {
        // The stored tiles cannot prove it; the entries themselves still might (tiles were reported).
        try {
          verifyConsistency(
            previous.size,
            cp.size,
            consistencyProof(reference, previous.size, cp.size),
            previous.root,
            cp.root,
          );
        } catch {
          problems.push({
            what: `checkpoint at size ${c.size} is not consistent with size ${previous.size}: ${(e as Error).message}`,
            at: previous.size,
          });
        }
      }
    }
    previous = { size: cp.size, root: cp.root };
    if (anchor && c.anchor_index !== null) {
      const anchorCp = await db
        .selectFrom('ledger_checkpoints')
        .selectAll()
        .where('log_id', '=', anchor.id)
        .where('size', '>', c.anchor_index)
        .orderBy('size')
        .executeTakeFirst();
      if (anchorCp) {
        try {
          const proof = await inclusionProofFor(db, anchor.id, c.anchor_index, anchorCp.size, {
            fresh: true,
          });
          verifyInclusion(
            hashLeaf(noteHash(c.note)),
            c.anchor_index,
            anchorCp.size,
            proof,
            anchorCp.root,
          );
        } catch (e) {
          problems.push({
            what: `checkpoint at size ${c.size} is not in the anchor log: ${(e as Error).message}`,
            at: c.size,
          });
        }
      }
    }
  }
  problems.sort((a, b) => a.at - b.at);
  return { logId, size, checkpoints: checkpoints.length, problems };
}
