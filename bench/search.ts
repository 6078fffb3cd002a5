import { sql } from 'kysely';
import { figure } from './report';
import { SearchIndex } from '../lib/search/engine';
import { loadIndex, mergeQueued } from '../lib/search/index-store';
import { parseQuery } from '../lib/search/query';
import { createTenant, currentEpochPublicKey, unlock } from '../lib/vault';
import { EpochKeyring } from '../lib/vault/epoch-keyring';
import { queueMails, type CorpusMail } from '../test/helpers/search-corpus';
import { FAST_ARGON2 } from '../test/helpers/ledger';
import { fmt, percentile } from './measure';
import { withThrowawayDb } from './throwaway-db';

/**
 * Search figures (issue 8, goal: unlock < 5 s and query p99 < 1 s with 100k mails) on a throw-away
 * database: a synthetic corpus spread over 24 monthly epochs (Zipf-distributed vocabulary of
 * 50,000 words, ~120 distinct words per mail, 2,000 correspondents) is queued as ingest leaves
 * it, merged into encrypted segments, and then loaded from scratch as a new session would
 * ("unlock": decrypt and decode every segment) before a mix of queries runs against it.
 * Usage: npm run bench:search [-- <mails, default 100000>]
 */

function rng(seed: number) {
  return () => {
    seed = (seed * 1664525 + 1013904223) >>> 0;
    return seed / 2 ** 32;
  };
}

function corpus(n: number): CorpusMail[] {
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
  const word = () => {
    const u = random();
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
  return Array.from({ length: n }, (_, i) => ({
    subject: `${word()} ${word()} ${word()}`,
    from: person(Math.floor(random() * 2000)),
    to: person(Math.floor(random() * 2000)),
    text: Array.from({ length: 160 }, word).join(' '),
    attachment: i % 5 === 0 ? `${word()}-${i}.pdf` : undefined,
    receivedAt: new Date(start + (i / n) * 730 * 86_400_000),
  }));
}

async function main(): Promise<void> {
  const n = Number(process.argv[2] ?? 100_000);
  await withThrowawayDb('search', 4, async (db) => {
    console.log(`node ${process.version}; ${fmt(n)} synthetic mails over 24 monthly epochs`);
    const tenant = await createTenant(db, {
      name: 'Bench',
      admin: { email: 'bench@bench.example', password: 'ein langes Passwort' },
      argon2: FAST_ARGON2,
    });
    const session = await unlock(db, {
      tenantId: tenant.tenantId,
      email: 'bench@bench.example',
      password: 'ein langes Passwort',
      argon2: FAST_ARGON2,
    });

    let t = performance.now();
    const mails = corpus(n);
    const byMonth = new Map<string, CorpusMail[]>();
    for (const m of mails) {
      const month = m.receivedAt!.toISOString().slice(0, 7);
      byMonth.set(month, [...(byMonth.get(month) ?? []), m]);
    }
    for (const [month, list] of byMonth) {
      const epoch = await currentEpochPublicKey(db, {
        tenantId: tenant.tenantId,
        retentionClass: 'default',
        now: new Date(`${month}-15T00:00:00Z`),
      });
      for (let i = 0; i < list.length; i += 5000)
        await queueMails(db, tenant.tenantId, epoch, list.slice(i, i + 5000));
      process.stderr.write(`${month} `);
    }
    process.stderr.write('\n');
    console.log(
      `queued (encrypted as ingest does): ${((performance.now() - t) / 1000).toFixed(1)} s`,
    );

    t = performance.now();
    const keyring = new EpochKeyring(db, session);
    let merged = 0;
    for (let m; (m = await mergeQueued(db, session, keyring)) > 0;) merged += m;
    const mergeS = (performance.now() - t) / 1000;
    const seg = await sql<{ segments: number; bytes: string }>`
      SELECT count(*)::int AS segments, sum(length(enc_segment))::text AS bytes FROM search_segments`.execute(
      db,
    );
    console.log(
      `merged ${fmt(merged)} mails into ${seg.rows[0]!.segments} segments ` +
        `(${(Number(seg.rows[0]!.bytes) / 2 ** 20).toFixed(1)} MiB encrypted) in ${mergeS.toFixed(1)} s ` +
        `= ${fmt(merged / mergeS)} mails/s`,
    );
    figure('search', `index merge (${fmt(merged)} mails)`, merged / mergeS, 'mails/s');
    keyring.dispose();

    // Unlock: a fresh session's keyring and an empty index, everything decrypted and decoded.
    global.gc?.();
    const heapBefore = process.memoryUsage().heapUsed;
    const unlocks: number[] = [];
    let index: SearchIndex | undefined;
    for (let i = 0; i < 3; i++) {
      index = undefined;
      global.gc?.();
      t = performance.now();
      const fresh = new EpochKeyring(db, session);
      index = await loadIndex(db, session, fresh);
      unlocks.push(performance.now() - t);
      fresh.dispose();
    }
    global.gc?.();
    const heapMiB = (process.memoryUsage().heapUsed - heapBefore) / 2 ** 20;
    console.log(
      `unlock (load + decrypt + decode the whole index): ${unlocks.map((u) => (u / 1000).toFixed(2)).join(' / ')} s; ` +
        `index in memory ≈ ${heapMiB.toFixed(0)} MiB heap, RSS ${(process.memoryUsage().rss / 2 ** 20).toFixed(0)} MiB`,
    );

    figure('search', `unlock (${fmt(n)} mails, median of 3)`, percentile(unlocks, 0.5) / 1000, 's');
    figure('search', `index memory (${fmt(n)} mails)`, heapMiB, 'MiB');
    const sample = mails.filter((_, i) => i % 997 === 0);
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
    }
    const latencies: number[] = [];
    let hits = 0;
    for (const q of queries)
      for (const sort of ['newest', 'subject'] as const) {
        const t0 = performance.now();
        const r = await index!.search(parseQuery(q), { sort, limit: 50 });
        latencies.push(performance.now() - t0);
        hits += r.hits.length;
      }
    console.log(
      `queries: ${latencies.length} (words, pairs, prefixes, from:, date ranges, subject:, ` +
        `has:attachment, browse; sorted by time and by subject), ${fmt(hits)} hits shown; ` +
        `p50 ${percentile(latencies, 0.5).toFixed(1)} ms, p99 ${percentile(latencies, 0.99).toFixed(1)} ms, ` +
        `max ${Math.max(...latencies).toFixed(1)} ms`,
    );
    figure('search', `query p50 (${fmt(n)} mails)`, percentile(latencies, 0.5), 'ms');
    figure('search', `query p99 (${fmt(n)} mails)`, percentile(latencies, 0.99), 'ms');
  });
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
