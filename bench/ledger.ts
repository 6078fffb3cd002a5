import { auditLedgerKeyCreated } from '../lib/audit/ledger-keys';
import { execFileSync } from 'node:child_process';
import { figure } from './report';
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { unzipSync } from 'fflate';
import { sql } from 'kysely';
import { config } from '../lib/config';
import type { Db } from '../lib/db';
import { appendEntry, ensureLog, integrateLog, type LogRef } from '../lib/ledger/store';
import { AppendBatcher } from '../lib/ledger/append-batcher';
import { checkpointRound } from '../lib/checkpoint/round';
import { buildProofBundle, ProofUnavailableError } from '../lib/proof/build-bundle';
import { verifyBundle } from '../lib/proof/verify-bundle';
import { createDevPki } from '../lib/tsa/dev-ca';
import { createTsaServer } from '../lib/tsa/server';
import { SERVING_NODE_FLAGS } from '../infra/stack';
import { fmt, percentile } from './measure';
import { withThrowawayDb } from './throwaway-db';

/**
 * Ledger figures (issue 4) on a throw-away database: sustained appends/s as the ledgerAppend
 * activity does them (one transaction per entry, several concurrent callers), integration
 * throughput, inclusion-proof generation p50/p99 from PostgreSQL tiles at large sizes, and proof
 * bundles (build and verify) with the large log as the anchor log and an in-process dev TSA.
 * Usage: npm run bench:ledger [-- <log sizes for the proof benchmark, ascending; default 1000000>]
 * e.g. `npm run bench:ledger -- 1000000 10000000` (10M takes about 6 minutes and ~3 GB of disk).
 */

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
  start: number,
  leaves: number,
): Promise<{ insertS: number; integrateS: number }> {
  let t = performance.now();
  const chunk = 5000;
  for (let from = start; from < leaves; from += chunk) {
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

/** Proof bundle build and verification times for an entry of `log`, after one checkpoint round. */
async function benchBundles(db: Db, wrapKey: Buffer, log: LogRef): Promise<void> {
  const pki = await createDevPki();
  const tsa = createTsaServer({ signer: pki.tsa });
  await new Promise<void>((r) => tsa.listen(0, '127.0.0.1', r));
  const dir = mkdtempSync(path.join(os.tmpdir(), 'mailrepo-bench-bundle-'));
  try {
    const { port } = tsa.address() as AddressInfo;
    const round = await checkpointRound({
      db,
      wrapKey,
      originPrefix: 'bench.invalid',
      onKeyCreated: auditLedgerKeyCreated,
      tsa: { url: `http://127.0.0.1:${port}/tsa`, caPem: pki.ca.certPem },
    });
    if (!round.timestamped) throw new Error(`checkpoint not timestamped: ${round.tsaError}`);
    // A mail whose entry is in the log: append it, and checkpoint once more.
    const mail = randomBytes(40_000);
    const entry = createHash('sha256').update(mail).digest();
    await db.transaction().execute((tx) => appendEntry(tx, log, entry, 'mail'));
    const input = { tenantId: log.tenantId!, entrySha256: entry, tsaCaPem: pki.ca.certPem };
    // A log with a backlog (the append benchmark's entries) takes a few rounds to integrate.
    let rounds = 0;
    for (;;) {
      await checkpointRound({
        db,
        wrapKey,
        originPrefix: 'bench.invalid',
        onKeyCreated: auditLedgerKeyCreated,
        tsa: { url: `http://127.0.0.1:${port}/tsa`, caPem: pki.ca.certPem },
      });
      rounds++;
      const ok = await buildProofBundle(db, input).then(
        () => true,
        (e: unknown) => {
          if (e instanceof ProofUnavailableError && rounds < 100) return false;
          throw e;
        },
      );
      if (ok) break;
    }
    const build: number[] = [];
    let zip: Uint8Array = new Uint8Array();
    for (let i = 0; i < 30; i++) {
      const t = performance.now();
      zip = (await buildProofBundle(db, input)).zip;
      build.push(performance.now() - t);
    }
    const verify: number[] = [];
    for (let i = 0; i < 30; i++) {
      const t = performance.now();
      await verifyBundle(zip, mail);
      verify.push(performance.now() - t);
    }
    for (const [name, bytes] of Object.entries(unzipSync(zip))) {
      mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
      writeFileSync(path.join(dir, name), bytes);
    }
    writeFileSync(path.join(dir, 'mail.eml'), mail);
    const script: number[] = [];
    for (let i = 0; i < 5; i++) {
      const t = performance.now();
      execFileSync('python3', ['verify.py', 'mail.eml'], { cwd: dir, stdio: 'pipe' });
      script.push(performance.now() - t);
    }
    console.log(
      `proof bundle (${fmt(zip.length)} bytes, anchor log of ${fmt(round.anchorSize)} entries): build p50 ${percentile(build, 0.5).toFixed(1)} ms; verify (mailrepo verify, in process) p50 ${percentile(verify, 0.5).toFixed(1)} ms, p99 ${percentile(verify, 0.99).toFixed(1)} ms; verify.py with openssl p50 ${percentile(script, 0.5).toFixed(0)} ms`,
    );
  } finally {
    tsa.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const sizes = (process.argv.length > 2 ? process.argv.slice(2) : ['1000000']).map(Number);
  const cfg = config();
  const wrapKey = Buffer.from(cfg.LEDGER_KEY_WRAP_KEY, 'base64');
  await withThrowawayDb('ledger', 10, async (db, url) => {
    // A bare tenant row (no users, no keys in use) is all a ledger log needs.
    const mk = async () => {
      const id = randomUUID();
      await db
        .insertInto('tenants')
        .values({
          id,
          name: 'bench',
          public_key: randomBytes(32),
          key_version: 1,
          recovery_public_key: randomBytes(32),
        })
        .execute();
      return ensureLog(db, {
        tenantId: id,
        originPrefix: 'bench.invalid',
        onKeyCreated: auditLedgerKeyCreated,
        wrapKey,
      });
    };

    const appendLog = await mk();
    // As ledgerAppend does it: through the batcher, many concurrent activities.
    const batcher = new AppendBatcher(db, {
      wrapKey,
      originPrefix: 'bench.invalid',
      onKeyCreated: auditLedgerKeyCreated,
    });
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
      figure('ledger', `appends through the batcher (${c} callers)`, n / 5, '/s');
    }
    for (const c of [1, 8]) {
      console.log(
        `ledger appends (1 transaction per entry, ${c} concurrent callers, one log): ${fmt(await appendsPerSecond(db, appendLog, 5, c))}/s`,
      );
    }

    // The anchor log (tenant null) is the big one: proofs, then the bundles' anchor proofs, use it.
    const big = await ensureLog(db, {
      tenantId: null,
      originPrefix: 'bench.invalid',
      onKeyCreated: auditLedgerKeyCreated,
      wrapKey,
    });
    let filled = 0;
    for (const target of sizes) {
      const { insertS, integrateS } = await fill(db, big, filled, target);
      filled = target;
      console.log(
        `${fmt(target)} leaves: bulk insert ${insertS.toFixed(1)} s, integration into tiles ${integrateS.toFixed(1)} s (${fmt((target - (sizes[sizes.indexOf(target) - 1] ?? 0)) / integrateS)} leaves/s)`,
      );
      await sql`CHECKPOINT`.execute(db);
      await sql`VACUUM ANALYZE ledger_tiles`.execute(db);
      // The same serving process twice: with Node's default young generation, and with the
      // small one the product's serving processes use (docs/decisions/0006).
      for (const flags of [[], SERVING_NODE_FLAGS]) {
        const out = execFileSync(
          process.execPath,
          [
            ...flags,
            ...process.execArgv,
            path.join(__dirname, 'ledger-proofs.ts'),
            url,
            big.id,
            String(target),
          ],
          { encoding: 'utf8' },
        );
        const r = JSON.parse(out.trim().split('\n').at(-1)!) as Record<string, number>;
        if (flags.length)
          figure('ledger', `inclusion proof p99 at ${fmt(target)} leaves`, r.p99!, 'ms');
        console.log(
          `inclusion proof from PostgreSQL tiles at ${fmt(target)} leaves (serving process${flags.length ? ` with ${flags.join(' ')}` : ', default flags'}, 2,000 random leaves after warm-up): p50 ${r.p50!.toFixed(2)} ms, p99 ${r.p99!.toFixed(2)} ms, max ${r.max!.toFixed(1)} ms (goal p99 < 5 ms); ${r.verified} proofs verified`,
        );
      }
    }

    await benchBundles(db, wrapKey, appendLog);
  });
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
