import { availableParallelism } from 'node:os';
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import { sql } from 'kysely';
import { figure } from './report';
import { MERGE_BATCH, mergeQueued } from '../lib/search/index-store';
import { inProcess, SegmentBuildThreads } from '../lib/search/segment-build-threads';
import { parseQuery } from '../lib/search/query';
import { openIndex, TenantIndexes } from '../lib/search/tenant-index';
import type { SortOrder } from '../lib/search/sort';
import { createTenant, currentEpochPublicKey, unlock } from '../lib/vault';
import { EpochKeyring } from '../lib/vault/epoch-keyring';
import type { CorpusMail } from '../test/helpers/search-corpus';
import { FAST_ARGON2 } from '../test/helpers/ledger';
import { fmt, percentile } from './measure';
import { withKeptDb, withThrowawayDb } from './throwaway-db';
import type { Db } from '../lib/db';

/**
 * Search figures (issue 26, goal at 10M mails: first result of a new session < 2 s, query
 * p99 < 200 ms, index memory < 1 GiB however many sessions, merge ≥ 2,000 mails/s) on a
 * throw-away database: a synthetic corpus spread over 24 monthly epochs (Zipf-distributed
 * vocabulary of 50,000 words, ~120 distinct words per mail, 2,000 correspondents) is queued as
 * ingest leaves it and merged into encrypted segments. Then, as the portal does it: a new
 * session's first page with an empty cache, the query mix once more with a warm cache, and 1, 10
 * and 50 sessions of the tenant running the mix at once over the shared cache while memory is
 * sampled. Usage: npm run bench:search [-- <mails, default 100000>]
 */

function rng(seed: number) {
  return () => {
    seed = (seed * 1664525 + 1013904223) >>> 0;
    return seed / 2 ** 32;
  };
}

/**
 * The synthetic mails in order (generated as they are queued: a million do not fit in memory).
 * Only the mails `wanted` are built; for the others the generator's draws are made and dropped,
 * so a kept corpus's query sample costs seconds, not the minutes of building ten million mails.
 */
const documents = process.env.BENCH_SEARCH_DOCUMENTS === '1';

function* corpus(
  n: number,
  wanted: (i: number) => boolean = () => true,
): Generator<CorpusMail | null> {
  const random = rng(42);
  const syllables = [
    'ver',
    'trag',
    'rech',
    'nung',
    'lie',
    'fer',
    'an',
    'ge',
    'bot',
    'mül',
    'ler',
    'stra',
    'ße',
    'kö',
    'nig',
    'be',
    'richt',
    'pro',
    'jekt',
    'zeit',
    'plan',
    'kun',
    'de',
    'ord',
    'ung',
  ];
  const vocabulary = Array.from({ length: 50_000 }, (_, i) => {
    let w = '';
    for (let k = 0, x = i + 7; k < 2 + (i % 3); k++, x = Math.floor(x / syllables.length) + k * 13)
      w += syllables[x % syllables.length];
    return `${w}${i}`;
  }); // prettier-ignore
  // Zipf: word rank r drawn with probability ∝ 1/r.
  const harmonic = vocabulary.reduce((h, _, i) => h + 1 / (i + 1), 0);
  const cumulative = new Float64Array(vocabulary.length);
  vocabulary.reduce((acc, _, i) => (cumulative[i] = acc + 1 / (i + 1) / harmonic), 0);
  const word = (draw = random) => {
    const u = draw();
    let lo = 0;
    let hi = cumulative.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (cumulative[mid]! < u) lo = mid + 1;
      else hi = mid;
    }
    return vocabulary[lo]!;
  };
  const person = (i: number) => `person${i % 2000}@firma${i % 97}.example`;
  const start = Date.UTC(2024, 11, 1);
  for (let i = 0; i < n; i++) {
    if (!wanted(i)) {
      // subject 3, from 1, to 1, text 160, attachment name for every fifth mail.
      for (let k = 3 + 1 + 1 + 160 + (i % 5 === 0 ? 1 : 0); k > 0; k--) random();
      yield null;
      continue;
    }
    // With BENCH_SEARCH_DOCUMENTS=1, three mails in ten carry a PDF whose text (800 words, a
    // two-page letter or invoice) the index job has read; drawn from a stream of its own, so the
    // mails themselves are the same as without.
    const own = rng(1_000_003 + i);
    const documentText =
      documents && i % 10 < 3 ? Array.from({ length: 800 }, () => word(own)).join(' ') : undefined;
    yield {
      ...(documentText ? { documentText } : {}),
      subject: `${word()} ${word()} ${word()}`,
      from: person(Math.floor(random() * 2000)),
      to: person(Math.floor(random() * 2000)),
      text: Array.from({ length: 160 }, word).join(' '),
      attachment: i % 5 === 0 ? `${word()}-${i}.pdf` : undefined,
      receivedAt: new Date(start + (i / n) * 730 * 86_400_000),
    };
  }
}

async function main(): Promise<void> {
  const n = Number(process.argv[2] ?? 100_000);
  const budgetMiB = Number(process.env.SEARCH_CACHE_MB ?? 512);
  // BENCH_SEARCH_KEEP=1 keeps the queued corpus in a database of its own for the next run, which
  // then only merges again (the corpus of a 10M run takes an hour to build).
  const keep = process.env.BENCH_SEARCH_KEEP === '1';
  const withDb = keep
    ? <T>(fn: (db: Db, url: string, created: boolean) => Promise<T>) =>
        withKeptDb(`search_kept_${n}${documents ? '_documents' : ''}`, 4, fn)
    : <T>(fn: (db: Db, url: string, created: boolean) => Promise<T>) =>
        withThrowawayDb('search', 4, (db, url) => fn(db, url, true));
  await withDb(async (db, url, created) => {
    console.log(
      `node ${process.version}; ${fmt(n)} synthetic mails over 24 monthly epochs` +
        (documents ? '; 30 % with the text of a PDF (800 words)' : ''),
    );
    const tenant = created
      ? await createTenant(db, {
          name: 'Bench',
          admin: { email: 'bench@bench.example', password: 'ein langes Passwort' },
          argon2: FAST_ARGON2,
        })
      : { tenantId: (await db.selectFrom('tenants').select('id').executeTakeFirstOrThrow()).id };
    const session = await unlock(db, {
      tenantId: tenant.tenantId,
      email: 'bench@bench.example',
      password: 'ein langes Passwort',
      argon2: FAST_ARGON2,
    });

    let t = performance.now();
    // Mails come in time order: each month's are queued in chunks as they are generated.
    const step = Math.max(1, Math.floor(n / 100));
    const sample: CorpusMail[] = [];
    let chunk: CorpusMail[] = [];
    let month = '';
    // One thread per core encrypts and stores chunks; this one generates them in order.
    const threads = Array.from(
      { length: Math.max(1, availableParallelism()) },
      () => new Worker(path.join(__dirname, 'search-queue-worker.ts'), { workerData: { url } }),
    );
    const idle = [...threads];
    const waiting: (() => void)[] = [];
    let sent = 0;
    const flush = async () => {
      if (!chunk.length) return;
      const epoch = await currentEpochPublicKey(db, {
        tenantId: tenant.tenantId,
        retentionClass: 'default',
        now: new Date(`${month}-15T00:00:00Z`),
      });
      while (!idle.length) await new Promise<void>((r) => waiting.push(r));
      const thread = idle.pop()!;
      const n = sent++;
      thread.once('message', () => {
        idle.push(thread);
        waiting.shift()?.();
      });
      thread.postMessage({ n, tenantId: tenant.tenantId, epoch, mails: chunk });
      chunk = [];
    };
    let i = 0;
    // BENCH_SEARCH_MERGE=0 with a kept corpus: queries only, on the index the last run left.
    if (!created && process.env.BENCH_SEARCH_MERGE !== '0') {
      // The kept corpus: every mail queued again, the index rebuilt from scratch.
      await sql`DELETE FROM search_segments`.execute(db);
      await sql`INSERT INTO search_index_queue (message_id, tenant_id, queued_at)
        SELECT id, tenant_id, received_at FROM messages ON CONFLICT DO NOTHING`.execute(db);
    }
    if (!created) {
      for (const thread of threads) thread.postMessage(null);
      threads.length = 0;
    }
    const sampled = (k: number) => k % step === 0 && k / step < 100;
    for (const m of corpus(n, created ? undefined : sampled)) {
      if (!m) {
        i++;
        continue;
      }
      if (!created) {
        if (sampled(i++)) sample.push(m);
        continue;
      }
      const of = m.receivedAt!.toISOString().slice(0, 7);
      if (of !== month || chunk.length >= 5000) {
        await flush();
        if (of !== month) process.stderr.write(`${of} `);
        month = of;
      }
      chunk.push(m);
      if (sampled(i++)) sample.push(m);
    }
    await flush();
    while (idle.length < threads.length) await new Promise<void>((r) => waiting.push(r));
    for (const thread of threads) thread.postMessage(null);
    process.stderr.write('\n');
    // What autovacuum does after a bulk load (this machine's PostgreSQL runs without it).
    await sql`ANALYZE messages, search_index_queue`.execute(db);
    console.log(
      created
        ? `queued (encrypted as ingest does): ${((performance.now() - t) / 1000).toFixed(1)} s`
        : process.env.BENCH_SEARCH_MERGE === '0'
          ? 'the kept corpus and its index as they are'
          : 'the kept corpus queued again',
    );

    t = performance.now();
    const keyring = new EpochKeyring(db, session);
    let merged = 0;
    const lanes = Number(process.env.SEARCH_MERGE_THREADS ?? Math.min(4, availableParallelism()));
    const builder = lanes > 0 ? new SegmentBuildThreads(lanes) : inProcess;
    for (let m; (m = await mergeQueued(db, session, keyring, MERGE_BATCH, builder)) > 0;) {
      merged += m;
      if (merged % 100_000 < m) process.stderr.write(`${fmt(merged)} `);
      // What autovacuum does in production (this machine's PostgreSQL runs without it): merged
      // segments leave dead rows, at 10M mails tens of GB of them. Counted in the merge's time.
      if (merged % 500_000 < m) await sql`VACUUM search_segments, search_index_queue`.execute(db);
    }
    process.stderr.write('\n');
    const mergeS = (performance.now() - t) / 1000;
    const seg = await sql<{ segments: number; bytes: string }>`
      SELECT count(*)::int AS segments,
             (sum(length(enc_blocks)) + sum(length(enc_header)))::text AS bytes
        FROM search_segments`.execute(db);
    console.log(
      `merged ${fmt(merged)} mails into ${seg.rows[0]!.segments} segments ` +
        `(${(Number(seg.rows[0]!.bytes) / 2 ** 20).toFixed(1)} MiB encrypted) in ${mergeS.toFixed(1)} s ` +
        `= ${fmt(merged / mergeS)} mails/s (tiered merges included)`,
    );
    if (builder instanceof SegmentBuildThreads) await builder.close();
    if (merged) figure('search', `index merge (${fmt(merged)} mails)`, merged / mergeS, 'mails/s');
    keyring.dispose();
    // BENCH_SEARCH_QUERIES=0 with BENCH_SEARCH_KEEP=1: build and merge only; a later run with
    // BENCH_SEARCH_MERGE=0 measures the queries in a process the merge has not grown.
    if (process.env.BENCH_SEARCH_QUERIES === '0') return;

    const queries: string[] = [];
    for (const m of sample) {
      const words = m.text.split(' ');
      queries.push(
        words[3]!,
        `${words[5]} ${words[9]}`,
        `${words[7]!.slice(0, 4)}*`,
        `from:${m.from}`,
        `${words[2]} after:2025-06-01 before:2025-12-31`,
        `subject:${m.subject.split(' ')[0]}`,
        'has:attachment',
        '',
      );
      // A word of its PDF, anywhere and in attachments only.
      const inPdf = m.documentText?.split(' ')[5];
      if (inPdf) queries.push(inPdf, `in:anhang ${inPdf}`);
    }
    const mix: [string, SortOrder][] = queries.flatMap((q) => [
      [q, 'newest'],
      [q, 'subject'],
    ]);

    const newIndexes = () =>
      new TenantIndexes({
        budgetBytes: budgetMiB * 2 ** 20,
        concurrency: Number(process.env.SEARCH_CONCURRENCY ?? 8),
      });
    const indexes = newIndexes();
    /** One request as the portal makes it: a keyring of its own, the shared cache. */
    const request = async (q: string, sort: SortOrder, ix = indexes) => {
      const k = new EpochKeyring(db, session);
      try {
        return await ix.limit(async () => {
          const index = await openIndex(db, tenant.tenantId, k, ix.cache);
          const r = await index.search(parseQuery(q), { sort, limit: 50 });
          return r.hits.length;
        });
      } finally {
        k.dispose();
      }
    };

    // A new session: nothing of the tenant decrypted in this process yet.
    global.gc?.();
    const before = process.memoryUsage();
    console.log(
      `process before any session: RSS ${(before.rss / 2 ** 20).toFixed(0)} MiB, heap ${(before.heapUsed / 2 ** 20).toFixed(0)} MiB`,
    );
    // The session's first request enters it, as the portal does: the index is read ahead from then.
    t = performance.now();
    const warmStart = t;
    {
      const k = new EpochKeyring(db, session);
      await indexes.enter(tenant.tenantId, 'bench', { db, keyring: k });
      k.dispose();
    }
    await request('', 'newest');
    const firstPage = performance.now() - t;
    t = performance.now();
    await request(queries[0]!, 'newest');
    const firstSearch = performance.now() - t;
    console.log(
      `new session, empty cache: first archive page ${firstPage.toFixed(0)} ms, ` +
        `first search ${firstSearch.toFixed(0)} ms`,
    );
    figure('search', `new session: first page (${fmt(n)} mails)`, firstPage / 1000, 's');
    figure('search', `new session: first search (${fmt(n)} mails)`, firstSearch / 1000, 's');

    const run = async (label: string, ix = indexes) => {
      const latencies: number[] = [];
      const slowest: [number, string][] = [];
      let hits = 0;
      for (const [q, sort] of mix) {
        const t0 = performance.now();
        hits += await request(q, sort, ix);
        latencies.push(performance.now() - t0);
        slowest.push([latencies.at(-1)!, `${sort} ${q || '(all)'}`]);
      }
      console.log(
        `${label}: ${latencies.length} queries (words, pairs, prefixes, from:, date ranges, ` +
          `subject:, has:attachment, browse; by time and by subject), ${fmt(hits)} hits shown; ` +
          `p50 ${percentile(latencies, 0.5).toFixed(1)} ms, p99 ${percentile(latencies, 0.99).toFixed(1)} ms, ` +
          `max ${Math.max(...latencies).toFixed(1)} ms; cache ${(ix.cache.bytes / 2 ** 20).toFixed(0)} MiB`,
      );
      // Where the tail comes from: the slowest queries, to look at first.
      const tail = slowest.sort((a, b) => b[0] - a[0]).slice(0, 8);
      console.log(`  slowest: ${tail.map(([ms, q]) => `${ms.toFixed(0)} ms ${q}`).join('; ')}`);
      return latencies;
    };
    const blocksAhead = await indexes.warmed;
    const aheadMs = performance.now() - warmStart;
    console.log(
      `read ahead: ${fmt(blocksAhead)} blocks, ${(indexes.cache.bytes / 2 ** 20).toFixed(0)} MiB cached, ` +
        `done ${(aheadMs / 1000).toFixed(1)} s after the session began`,
    );
    figure('search', `index read ahead (${fmt(n)} mails)`, aheadMs / 1000, 's');
    const cold = await run('query mix, first time (after the read-ahead)');
    const warm = await run('query mix, again');
    figure('search', `query p50, first time (${fmt(n)} mails)`, percentile(cold, 0.5), 'ms');
    figure('search', `query p99, first time (${fmt(n)} mails)`, percentile(cold, 0.99), 'ms');
    figure('search', `query p50 (${fmt(n)} mails)`, percentile(warm, 0.5), 'ms');
    figure('search', `query p99 (${fmt(n)} mails)`, percentile(warm, 0.99), 'ms');

    // Sessions of the tenant at once, each running the mix from its own offset.
    for (const sessions of [1, 10, 50]) {
      global.gc?.();
      let peakRss = process.memoryUsage().rss;
      let peakHeap = process.memoryUsage().heapUsed;
      let peakBuffers = process.memoryUsage().arrayBuffers;
      const sampler = setInterval(() => {
        const m = process.memoryUsage();
        peakRss = Math.max(peakRss, m.rss);
        peakHeap = Math.max(peakHeap, m.heapUsed);
        peakBuffers = Math.max(peakBuffers, m.arrayBuffers);
      }, 20);
      const latencies: number[] = [];
      const t0 = performance.now();
      await Promise.all(
        Array.from({ length: sessions }, async (_, s) => {
          for (let i = 0; i < 40; i++) {
            const [q, sort] = mix[(s * 37 + i) % mix.length]!;
            const t1 = performance.now();
            await request(q, sort);
            latencies.push(performance.now() - t1);
          }
        }),
      );
      clearInterval(sampler);
      const seconds = (performance.now() - t0) / 1000;
      console.log(
        `${sessions} sessions at once, 40 queries each: ${fmt(latencies.length / seconds)} queries/s, ` +
          `p50 ${percentile(latencies, 0.5).toFixed(0)} ms, p99 ${percentile(latencies, 0.99).toFixed(0)} ms; ` +
          `peak RSS ${(peakRss / 2 ** 20).toFixed(0)} MiB (${((peakRss - before.rss) / 2 ** 20).toFixed(0)} above the process before any session), ` +
          `peak heap ${(peakHeap / 2 ** 20).toFixed(0)} MiB, buffers ${(peakBuffers / 2 ** 20).toFixed(0)} MiB, ` +
          `cache ${(indexes.cache.bytes / 2 ** 20).toFixed(0)} MiB of ${budgetMiB} (evictions ${fmt(indexes.cache.evictions)})`,
      );
      figure(
        'search',
        `${sessions} sessions: peak RSS (${fmt(n)} mails)`,
        peakRss / 2 ** 20,
        'MiB',
      );
      figure(
        'search',
        `${sessions} sessions: query p99 (${fmt(n)} mails)`,
        percentile(latencies, 0.99),
        'ms',
      );
    }
    const { hits, misses } = indexes.cache;
    console.log(
      `cache: ${fmt(hits)} hits, ${fmt(misses)} misses (${((100 * hits) / (hits + misses)).toFixed(1)} % hits)`,
    );
    // The worst case of a new session: its mix right away, while the index is still read ahead
    // (in a cache of its own; last, so that the memory figures above hold one cache only).
    const early = newIndexes();
    {
      const k = new EpochKeyring(db, session);
      await early.enter(tenant.tenantId, 'early', { db, keyring: k });
      k.dispose();
    }
    const earlyStart = performance.now();
    let earlyDone = 0;
    void early.warmed.then(() => (earlyDone = performance.now()));
    const during = await run('query mix, first time, right away (read-ahead running)', early);
    const mixMs = performance.now() - earlyStart;
    console.log(
      `  its read-ahead ${earlyDone ? `finished ${((earlyDone - earlyStart) / 1000).toFixed(1)} s` : 'was still running'} into the ${(mixMs / 1000).toFixed(1)} s of the mix`,
    );
    early.leave('early');
    await early.warmed;
    early.close();
    figure('search', `query p99, first time during read-ahead (${fmt(n)} mails)`, percentile(during, 0.99), 'ms'); // prettier-ignore
    indexes.close();
  });
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
