import { randomBytes, randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import { config } from '../lib/config';
import { createDb, type Db } from '../lib/db';
import { dropDatabase, ensureDatabase, migrateToLatest } from '../lib/db/migrate';
import { hashLeaf, verifyInclusion } from '../lib/ledger/merkle';
import {
  appendEntry,
  ensureLog,
  inclusionProofFor,
  integrateLog,
  type LogRef,
} from '../lib/ledger/store';
import { AppendBatcher } from '../lib/ledger/append-batcher';
import { fmt } from './measure';

/**
 * Ledger figures (issue 4) on a throw-away database: sustained appends/s as the ledgerAppend
 * activity does them (one transaction per entry, several concurrent callers), integration
 * throughput, and inclusion-proof generation p50/p99 from PostgreSQL tiles at large sizes.
 * Usage: npm run bench:ledger [-- <leaves for the proof benchmark, default 1000000>]
 */

const percentile = (xs: number[], p: number) =>
  xs.slice().sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(p * xs.length))]!;

async function appendsPerSecond(
  db: Db,
  log: LogRef,
  seconds: number,
  concurrency: number,
): Promise<number> {
  const end = Date.now() + seconds * 1000;
  let n = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (Date.now() < end) {
        await db.transaction().execute((tx) => appendEntry(tx, log, randomBytes(32), 'mail'));
        n++;
      }
    }),
  );
  return n / seconds;
}

/** Fills a log quickly for the proof benchmark: bulk-inserted entries, then batched integration. */
async function fill(
  db: Db,
  log: LogRef,
  leaves: number,
): Promise<{ insertS: number; integrateS: number }> {
  let t = performance.now();
  const chunk = 5000;
  for (let from = 0; from < leaves; from += chunk) {
    const rows = Array.from({ length: Math.min(chunk, leaves - from) }, (_, k) => ({
      log_id: log.id,
      tenant_id: null,
      idx: from + k,
      entry_hash: randomBytes(32),
      kind: 'mail' as const,
    }));
    await db.insertInto('ledger_entries').values(rows).execute();
  }
  await db.updateTable('ledger_logs').set({ size: leaves }).where('id', '=', log.id).execute();
  const insertS = (performance.now() - t) / 1000;
  t = performance.now();
  for (;;) {
    const { size } = await db.transaction().execute((tx) => integrateLog(tx, log, 100_000));
    if (size >= leaves) break;
  }
  return { insertS, integrateS: (performance.now() - t) / 1000 };
}

async function main(): Promise<void> {
  const leaves = Number(process.argv[2] ?? 1_000_000);
  const cfg = config();
  const url = new URL(cfg.DATABASE_URL);
  url.pathname = `/mailrepo_bench_${Date.now()}`;
  await ensureDatabase(url.toString());
  const db = createDb(url.toString(), 10);
  const wrapKey = Buffer.from(cfg.LEDGER_KEY_WRAP_KEY, 'base64');
  try {
    await migrateToLatest(db);
    // Logs here have no tenant row; the benchmark runs as the system role.
    await sql`ALTER TABLE ledger_logs DROP CONSTRAINT ledger_logs_tenant_id_fkey`.execute(db);
    const mk = async () =>
      ensureLog(db, { tenantId: randomUUID(), originPrefix: 'bench.invalid', wrapKey });

    const appendLog = await mk();
    // As ledgerAppend does it: through the batcher, many concurrent activities.
    const batcher = new AppendBatcher(db, { wrapKey, originPrefix: 'bench.invalid' });
    for (const c of [64, 256]) {
      const end = Date.now() + 5000;
      let n = 0;
      await Promise.all(
        Array.from({ length: c }, async () => {
          while (Date.now() < end) {
            await batcher.append(appendLog.tenantId!, randomBytes(32), 'mail');
            n++;
          }
        }),
      );
      console.log(
        `ledger appends through the batcher (${c} concurrent callers, one tenant): ${fmt(n / 5)}/s (goal ≥ 5,000/s)`,
      );
    }
    for (const c of [1, 8]) {
      console.log(
        `ledger appends (1 transaction per entry, ${c} concurrent callers, one log): ${fmt(await appendsPerSecond(db, appendLog, 5, c))}/s`,
      );
    }

    const big = await ensureLog(db, { tenantId: null, originPrefix: 'bench.invalid', wrapKey });
    const { insertS, integrateS } = await fill(db, big, leaves);
    console.log(
      `${fmt(leaves)} leaves: bulk insert ${insertS.toFixed(1)} s, integration into tiles ${integrateS.toFixed(1)} s (${fmt(leaves / integrateS)} leaves/s)`,
    );
    const row = await db
      .selectFrom('ledger_logs')
      .select('root')
      .where('id', '=', big.id)
      .executeTakeFirstOrThrow();
    const entries = new Map<number, Buffer>();
    const cold: number[] = [];
    for (let i = 0; i < 100; i++) {
      const t = performance.now();
      await inclusionProofFor(db, big.id, Math.floor(Math.random() * leaves), leaves);
      cold.push(performance.now() - t);
    }
    console.log(
      `inclusion proof right after the bulk load (cold caches, PostgreSQL still writing): p50 ${percentile(cold, 0.5).toFixed(2)} ms, p99 ${percentile(cold, 0.99).toFixed(2)} ms`,
    );
    // Steady state: the bulk load checkpointed and analysed, as it would be in a running archive.
    await sql`CHECKPOINT`.execute(db);
    await sql`ANALYZE ledger_tiles`.execute(db);
    const times: number[] = [];
    for (let i = 0; i < 300; i++) {
      const index = Math.floor(Math.random() * leaves);
      const t = performance.now();
      const proof = await inclusionProofFor(db, big.id, index, leaves);
      times.push(performance.now() - t);
      if (i < 20) {
        const e = await db
          .selectFrom('ledger_entries')
          .select('entry_hash')
          .where('log_id', '=', big.id)
          .where('idx', '=', index)
          .executeTakeFirstOrThrow();
        entries.set(index, e.entry_hash);
        verifyInclusion(hashLeaf(e.entry_hash), index, leaves, proof, row.root);
      }
    }
    console.log(
      `inclusion proof from PostgreSQL tiles at ${fmt(leaves)} leaves, steady state: p50 ${percentile(times, 0.5).toFixed(2)} ms, p99 ${percentile(times, 0.99).toFixed(2)} ms (goal p99 < 5 ms); ${entries.size} proofs verified`,
    );
  } finally {
    await db.destroy();
    await dropDatabase(url.toString());
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
