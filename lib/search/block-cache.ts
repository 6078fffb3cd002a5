import { metrics } from '../metrics/metrics';

const HITS = metrics.searchCacheRequests.labels('hit');
const MISSES = metrics.searchCacheRequests.labels('miss');

/**
 * Decrypted index blocks of this process, shared by all sessions of a tenant (decision 0021):
 * one LRU under one byte budget for every tenant, so memory stays bounded however many sessions
 * and tenants are signed in. Keys start with the tenant; a tenant's entries go when its last
 * session ends. A block is loaded once however many requests want it at the same moment.
 */
export class BlockCache {
  private readonly entries = new Map<string, { value: unknown; bytes: number; tenant: string }>();
  private readonly loading = new Map<string, Promise<unknown>>();
  /** Bumped when a tenant is dropped: a load that started before stores nothing. */
  private readonly generation = new Map<string, number>();
  bytes = 0;
  hits = 0;
  misses = 0;
  evictions = 0;

  constructor(readonly budget: number) {}

  /** The cached value of `key`, or what `load` gives (with its size in memory, estimated). */
  async get<T>(
    tenant: string,
    key: string,
    load: () => Promise<{ value: T; bytes: number }>,
  ): Promise<T> {
    const k = `${tenant}/${key}`;
    const entry = this.entries.get(k);
    if (entry) {
      // Map order is the LRU order: a hit moves to the end.
      this.entries.delete(k);
      this.entries.set(k, entry);
      this.count('hit');
      return entry.value as T;
    }
    const pending = this.loading.get(k);
    if (pending) {
      this.count('hit');
      return pending as Promise<T>;
    }
    this.count('miss');
    const generation = this.generation.get(tenant) ?? 0;
    const loaded = load()
      .then(({ value, bytes }) => {
        if ((this.generation.get(tenant) ?? 0) === generation) this.store(k, tenant, value, bytes);
        return value;
      })
      .finally(() => this.loading.delete(k));
    this.loading.set(k, loaded);
    return loaded;
  }

  has(tenant: string, key: string): boolean {
    return this.entries.has(`${tenant}/${key}`);
  }

  /** Forgets everything of `tenant` (its last session ended). */
  dropTenant(tenant: string): void {
    this.generation.set(tenant, (this.generation.get(tenant) ?? 0) + 1);
    for (const [k, e] of this.entries)
      if (e.tenant === tenant) {
        this.entries.delete(k);
        this.bytes -= e.bytes;
      }
    metrics.searchCacheBytes.set(this.bytes);
  }

  bytesOf(tenant: string): number {
    let n = 0;
    for (const e of this.entries.values()) if (e.tenant === tenant) n += e.bytes;
    return n;
  }

  private store(k: string, tenant: string, value: unknown, bytes: number): void {
    if (bytes > this.budget) return;
    this.entries.set(k, { value, bytes, tenant });
    this.bytes += bytes;
    for (const [old, e] of this.entries) {
      if (this.bytes <= this.budget) break;
      this.entries.delete(old);
      this.bytes -= e.bytes;
      this.evictions++;
      metrics.searchCacheEvictions.inc();
    }
    metrics.searchCacheBytes.set(this.bytes);
  }

  private count(kind: 'hit' | 'miss'): void {
    if (kind === 'hit') this.hits++;
    else this.misses++;
    (kind === 'hit' ? HITS : MISSES).inc();
  }
}
