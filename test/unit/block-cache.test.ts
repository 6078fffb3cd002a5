import { BlockCache } from '../../lib/search/block-cache';

/**
 * The cache's two tiers (decision 0021): decrypted bytes counted at their length, decoded blocks
 * in a quarter of the budget; a block whose decoded form was evicted is decoded again from its
 * bytes without being loaded (decrypted) again; the budget holds for both tiers together.
 */
describe('BlockCache', () => {
  const block = (n: number, size = 1000) => Buffer.alloc(size, n);

  it('decodes again from the kept bytes instead of loading again', async () => {
    const cache = new BlockCache(64 * 1024);
    const loads: number[] = [];
    let decodes = 0;
    const get = (n: number) =>
      cache.get(
        't',
        String(n),
        async () => (loads.push(n), block(n)),
        (plain) => (decodes++, plain[0]),
        4,
      );
    // 4 KB decoded each: the decoded quarter (16 KB) keeps 3, the bytes tier (48 KB) all 20.
    for (let n = 0; n < 20; n++) expect(await get(n)).toBe(n);
    expect(loads).toHaveLength(20);
    expect(cache.misses).toBe(20);
    expect(await get(0)).toBe(0);
    expect(loads).toHaveLength(20);
    expect(decodes).toBe(21);
    expect(cache.hits).toBe(1);
    // The most recent one is still decoded.
    expect(await get(0)).toBe(0);
    expect(decodes).toBe(21);
    expect(cache.bytes).toBeLessThanOrEqual(64 * 1024);
  });

  it('keeps to its budget across both tiers and evicts the least recently used', async () => {
    const cache = new BlockCache(32 * 1024);
    for (let n = 0; n < 100; n++)
      await cache.get(
        't',
        String(n),
        async () => block(n, 2000),
        (p) => p.length,
        1,
      );
    expect(cache.bytes).toBeLessThanOrEqual(32 * 1024);
    expect(cache.evictions).toBeGreaterThan(0);
    expect(cache.has('t', '99')).toBe(true);
    expect(cache.has('t', '0')).toBe(false);
  });

  it('keeps blocks used again when a query reads many blocks once (segmented LRU)', async () => {
    const cache = new BlockCache(64 * 1024);
    const loads: string[] = [];
    const get = (key: string) =>
      cache.get(
        't',
        key,
        async () => (loads.push(key), block(1, 2000)),
        (p) => p.length,
        1,
      );
    // Ten blocks every query uses (read twice), then a scan of sixty blocks read once — more than
    // the whole budget.
    for (const _round of [1, 2]) for (let n = 0; n < 10; n++) await get(`hot${n}`);
    for (let n = 0; n < 60; n++) await get(`scan${n}`);
    loads.length = 0;
    for (let n = 0; n < 10; n++) await get(`hot${n}`);
    expect(loads).toEqual([]);
    expect(cache.has('t', 'scan0')).toBe(false);
    expect(cache.bytes).toBeLessThanOrEqual(64 * 1024);
  });

  it('keeps only the bytes of a small view, not the chunk behind it', async () => {
    const cache = new BlockCache(1024 * 1024);
    const chunk = Buffer.alloc(64 * 1024);
    let kept: Buffer | undefined;
    await cache.get(
      't',
      'v',
      async () => chunk.subarray(0, 100),
      (p) => (kept = p),
      1,
    );
    expect(kept!.length).toBe(100);
    expect(kept!.buffer.byteLength).toBeLessThan(64 * 1024);
    expect(cache.bytesOf('t')).toBeLessThan(2000);
  });

  it('loads a block once for requests at the same moment, and stores nothing of a dropped tenant', async () => {
    const cache = new BlockCache(1024 * 1024);
    let loads = 0;
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const load = async () => {
      loads++;
      await gate;
      return block(1);
    };
    const all = Promise.all([1, 2, 3].map(() => cache.get('t', 'x', load, (p) => p[0], 1)));
    cache.dropTenant('t');
    release();
    expect(await all).toEqual([1, 1, 1]);
    expect(loads).toBe(1);
    expect(cache.bytes).toBe(0);
    expect(cache.has('t', 'x')).toBe(false);
  });

  it('remembers a worked-out list once, at its size, and forgets it with the tenant', async () => {
    const cache = new BlockCache(1024 * 1024);
    let computed = 0;
    const compute = async () => (computed++, Int32Array.from([1, 5, 9]));
    const [a, b] = await Promise.all([
      cache.remember('t', 'p:rech', compute),
      cache.remember('t', 'p:rech', compute),
    ]);
    expect([...a]).toEqual([1, 5, 9]);
    expect(b).toBe(a);
    expect(await cache.remember('t', 'p:rech', compute)).toBe(a);
    expect(computed).toBe(1);
    expect(cache.bytesOf('t')).toBeGreaterThanOrEqual(12);
    cache.dropTenant('t');
    expect(cache.bytes).toBe(0);
    await cache.remember('t', 'p:rech', compute);
    expect(computed).toBe(2);
  });
});
