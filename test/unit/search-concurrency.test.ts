import { TenantIndexes } from '../../lib/search/tenant-index';

/**
 * A portal process runs a bounded number of searches at once (their working memory adds up);
 * the others wait in order, and a failing search frees its place.
 */
describe('TenantIndexes.limit', () => {
  it('runs at most `concurrency` searches at once, the rest in the order they came', async () => {
    const indexes = new TenantIndexes({ concurrency: 3 });
    let running = 0;
    let most = 0;
    const started: number[] = [];
    const search = (i: number) =>
      indexes.limit(async () => {
        started.push(i);
        most = Math.max(most, ++running);
        await new Promise((r) => setTimeout(r, 5 + (i % 4)));
        running--;
        if (i % 5 === 0) throw new Error(`search ${i} failed`);
        return i;
      });
    const results = await Promise.allSettled(Array.from({ length: 20 }, (_, i) => search(i)));
    expect(most).toBe(3);
    expect(started.slice(3)).toEqual(Array.from({ length: 17 }, (_, i) => i + 3));
    results.forEach((r, i) =>
      expect(r).toEqual(
        i % 5 === 0
          ? { status: 'rejected', reason: new Error(`search ${i} failed`) }
          : { status: 'fulfilled', value: i },
      ),
    );
    // Every place came back: three run at once again.
    await Promise.all([0, 1, 2].map(() => indexes.limit(async () => (most = 0))));
    let together = 0;
    await Promise.all(
      [0, 1, 2].map(() =>
        indexes.limit(async () => {
          together++;
          await new Promise((r) => setTimeout(r, 5));
          expect(together).toBe(3);
        }),
      ),
    );
    indexes.close();
  });
});
