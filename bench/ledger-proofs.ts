import { createDb } from '../lib/db';
import { hashLeaf, verifyInclusion } from '../lib/ledger/merkle';
import { inclusionProofFor } from '../lib/ledger/store';
import { percentile } from './measure';

/**
 * Inclusion-proof latency as a serving process sees it: a fresh process (no bulk load's garbage in
 * its heap), a warm-up, then timed proofs for random leaves. Started by bench/ledger.ts:
 *   tsx bench/ledger-proofs.ts <database url> <log id> <size>
 * Prints one JSON line: {p50, p99, max, verified}.
 */
async function main(): Promise<void> {
  const [url, logId, sizeArg] = process.argv.slice(2);
  const size = Number(sizeArg);
  const db = createDb(url!, 2);
  try {
    const { root } = await db
      .selectFrom('ledger_logs')
      .select('root')
      .where('id', '=', logId!)
      .executeTakeFirstOrThrow();
    const pick = () => Math.floor(Math.random() * size);
    for (let i = 0; i < 500; i++) await inclusionProofFor(db, logId!, pick(), size);
    const times: number[] = [];
    let verified = 0;
    for (let i = 0; i < 2000; i++) {
      const index = pick();
      const t = performance.now();
      const proof = await inclusionProofFor(db, logId!, index, size);
      times.push(performance.now() - t);
      if (i % 100 === 0) {
        const e = await db
          .selectFrom('ledger_entries')
          .select('entry_hash')
          .where('log_id', '=', logId!)
          .where('idx', '=', index)
          .executeTakeFirstOrThrow();
        verifyInclusion(hashLeaf(e.entry_hash), index, size, proof, root);
        verified++;
      }
    }
    console.log(
      JSON.stringify({
        p50: percentile(times, 0.5),
        p99: percentile(times, 0.99),
        max: Math.max(...times),
        verified,
      }),
    );
  } finally {
    await db.destroy();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
