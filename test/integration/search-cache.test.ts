import { createDb, type Db } from '../../lib/db';
import { mergeAll } from '../../lib/search/index-store';
import { parseQuery } from '../../lib/search/query';
import { openIndex, TenantIndexes } from '../../lib/search/tenant-index';
import { WARM_SHARE } from '../../lib/search/index-warmup';
import { currentEpochPublicKey, lock } from '../../lib/vault';
import { EpochKeyring } from '../../lib/vault/epoch-keyring';
import type { UnlockedSession } from '../../lib/vault/session';
import { BlockCache } from '../../lib/search/block-cache';
import { unlockedTenant } from '../helpers/tenant';
import { queueMails } from '../helpers/search-corpus';
import { stackConfig } from '../helpers/stack-env';

/**
 * The portal's decrypted index cache (decision 0021): sessions of one tenant share what was
 * decrypted, a block is decrypted once however many ask at the same moment, the byte budget holds
 * (answers stay the same while blocks are evicted), another tenant's session reads none of it,
 * and a tenant's blocks are gone when its last session ends.
 */
const cfg = stackConfig();
let db: Db;
beforeAll(() => {
  db = createDb(cfg.DATABASE_URL, 6);
});
afterAll(() => db.destroy());

async function tenant(name: string, mails: number) {
  const t = await unlockedTenant(db, name);
  const { session } = t;
  const epoch = await currentEpochPublicKey(db, {
    tenantId: t.tenantId,
    retentionClass: 'default',
  });
  await queueMails(
    db,
    t.tenantId,
    epoch,
    Array.from({ length: mails }, (_, i) => ({
      subject: `${name} Vorgang ${i}`,
      from: `sender${i % 17}@${name.toLowerCase()}.example`,
      to: 'archiv@kunde.example',
      text: `Vorgang ${i} ${i % 3 ? 'Rechnung' : 'Angebot'} ${name}geheim`,
    })),
  );
  const k = new EpochKeyring(db, session);
  await mergeAll(db, session, k);
  k.dispose();
  return { ...t, session };
}

/** One portal request: a keyring of its own over the shared cache. */
async function request(s: UnlockedSession, cache: BlockCache, q: string, sort = 'newest' as const) {
  const k = new EpochKeyring(db, s);
  try {
    const index = await openIndex(db, s.tenantId, k, cache);
    const r = await index.search(parseQuery(q), { sort, limit: 20 });
    return { ids: r.hits.map((h) => h.id), total: r.total };
  } finally {
    k.dispose();
  }
}

const QUERIES = ['', 'rechnung', 'angebot', 'vorgang*', 'from:sender3@cachea.example'];

describe('shared index cache', () => {
  let a: Awaited<ReturnType<typeof tenant>>;
  let b: Awaited<ReturnType<typeof tenant>>;
  // 2,540 mails encrypted, queued and merged: seconds on a fast machine, more on a loaded one.
  beforeAll(async () => {
    a = await tenant('CacheA', 2500);
    b = await tenant('CacheB', 40);
  }, 120_000);
  afterAll(() => {
    lock(a.session);
    lock(b.session);
  });

  it('decrypts a block once for all sessions of a tenant, even when they ask at once', async () => {
    const indexes = new TenantIndexes();
    const { cache } = indexes;
    const alone = [];
    for (const q of QUERIES) alone.push(await request(a.session, cache, q));
    const decrypted = cache.misses;
    expect(decrypted).toBeGreaterThan(0);
    // Ten more sessions of the tenant, all at once: the same answers, nothing decrypted again.
    const together = await Promise.all(
      Array.from({ length: 10 }, () =>
        Promise.all(QUERIES.map((q) => request(a.session, cache, q))),
      ),
    );
    for (const answers of together) expect(answers).toEqual(alone);
    expect(cache.misses).toBe(decrypted);

    // A fresh cache asked by ten sessions at once decrypts each block once too.
    const fresh = new BlockCache(512 * 2 ** 20);
    await Promise.all(Array.from({ length: 10 }, () => request(a.session, fresh, 'rechnung')));
    const once = new BlockCache(512 * 2 ** 20);
    await request(a.session, once, 'rechnung');
    expect(fresh.misses).toBe(once.misses);
    indexes.close();
  });

  it('keeps to its byte budget and answers the same while evicting', async () => {
    const BUDGET = 512 * 1024;
    const big = new BlockCache(512 * 2 ** 20);
    const small = new BlockCache(BUDGET);
    for (const q of QUERIES)
      for (const sort of ['newest', 'subject', 'largest'] as const) {
        const expected = await request(a.session, big, q, sort as 'newest');
        expect(await request(a.session, small, q, sort as 'newest')).toEqual(expected);
        expect(small.bytes).toBeLessThanOrEqual(BUDGET);
      }
    expect(small.evictions).toBeGreaterThan(0);
    expect(big.evictions).toBe(0);
  });

  it("gives another tenant's session nothing of the tenant, cached or not", async () => {
    const indexes = new TenantIndexes();
    await request(a.session, indexes.cache, 'rechnung');
    const mine = await request(b.session, indexes.cache, '');
    expect(mine.total).toBe(40);
    expect((await request(b.session, indexes.cache, 'cacheageheim')).total).toBe(0);
    // B's keys open none of A's blocks when they are not cached.
    const k = new EpochKeyring(db, b.session);
    await expect(
      openIndex(db, a.tenantId, k, new BlockCache(2 ** 20)).then((i) =>
        i.search(parseQuery('rechnung')),
      ),
    ).rejects.toThrow();
    k.dispose();
    indexes.close();
  });

  it("drops a tenant's blocks with its last session, and after idling", async () => {
    const indexes = new TenantIndexes({ idleMs: 60_000 });
    await indexes.enter(a.tenantId, 'one');
    await indexes.enter(a.tenantId, 'two');
    await indexes.enter(b.tenantId, 'three');
    await request(a.session, indexes.cache, 'rechnung');
    await request(b.session, indexes.cache, 'rechnung');
    expect(indexes.cache.bytesOf(a.tenantId)).toBeGreaterThan(0);
    indexes.leave('one');
    expect(indexes.cache.bytesOf(a.tenantId)).toBeGreaterThan(0);
    indexes.leave('two');
    expect(indexes.cache.bytesOf(a.tenantId)).toBe(0);
    expect(indexes.cache.bytesOf(b.tenantId)).toBeGreaterThan(0);
    indexes.sweep(Date.now() + 61_000);
    expect(indexes.cache.bytesOf(b.tenantId)).toBe(0);
    expect(indexes.cache.bytes).toBe(0);
    indexes.close();
  });

  it("reads a tenant's index ahead when its first session enters, within its share", async () => {
    const indexes = new TenantIndexes();
    const k = new EpochKeyring(db, a.session);
    await indexes.enter(a.tenantId, 'one', { db, keyring: k });
    k.dispose();
    // The keys were taken while the request held them; the warm-up runs on without the keyring.
    expect(await indexes.warmed).toBeGreaterThan(0);
    const warmed = indexes.cache.bytesOf(a.tenantId);
    expect(warmed).toBeGreaterThan(0);
    // The queries of the session then decrypt nothing themselves.
    const misses = indexes.cache.misses;
    for (const q of QUERIES) await request(a.session, indexes.cache, q);
    expect(indexes.cache.misses).toBe(misses);
    // A second session of the tenant starts none.
    const running = indexes.warmed;
    const again = new EpochKeyring(db, a.session);
    await indexes.enter(a.tenantId, 'two', { db, keyring: again });
    again.dispose();
    expect(indexes.warmed).toBe(running);
    indexes.close();

    // A small cache: the warm-up stops at its share of the plaintext tier and evicts nothing.
    const small = new TenantIndexes({ budgetBytes: 64 * 1024 });
    const k2 = new EpochKeyring(db, a.session);
    await small.enter(a.tenantId, 'one', { db, keyring: k2 });
    k2.dispose();
    await small.warmed;
    // (Three quarters of the budget hold plaintext; the headers are in the decoded quarter.)
    expect(small.cache.bytesOf(a.tenantId)).toBeLessThanOrEqual(48 * 1024 * WARM_SHARE + 16 * 1024);
    expect(small.cache.bytesOf(a.tenantId)).toBeGreaterThan(0);
    expect(small.cache.evictions).toBe(0);
    small.close();

    // The tenant's last session ends while it runs: it stops and leaves nothing behind.
    const leaving = new TenantIndexes();
    const k3 = new EpochKeyring(db, a.session);
    await leaving.enter(a.tenantId, 'one', { db, keyring: k3 });
    k3.dispose();
    leaving.leave('one');
    await leaving.warmed;
    expect(leaving.cache.bytesOf(a.tenantId)).toBe(0);
    leaving.close();
  });
});
