import { metrics } from '../metrics/metrics';

const HITS = metrics.searchCacheRequests.labels('hit');
const MISSES = metrics.searchCacheRequests.labels('miss');

/** Share of the budget for decoded blocks; the rest holds decrypted plaintext. */
const DECODED_SHARE = 1 / 4;
/** Per entry: its key, the map slot, the Buffer object. */
const ENTRY_OVERHEAD = 160;

/**
 * `b` in memory of its own when it is a small view of a bigger buffer (a pool, or zlib's output
 * chunk), so the cache does not keep the rest alive.
 */
function ownBytes(b: Buffer): Buffer {
  if (b.length * 2 >= b.buffer.byteLength) return b;
  const own = Buffer.allocUnsafeSlow(b.length);
  b.copy(own);
  return own;
}

/** One least-recently-used map under a byte budget (Map order is the LRU order). */
class Lru<V> {
  readonly entries = new Map<string, { value: V; bytes: number; tenant: string }>();
  bytes = 0;
  evictions = 0;

  constructor(
    readonly budget: number,
    /** Whether an eviction here is one the metric counts (a decrypted block gone). */
    private readonly metered = false,
  ) {}

  get(k: string): V | undefined {
    const e = this.entries.get(k);
    if (!e) return undefined;
    this.entries.delete(k);
    this.entries.set(k, e);
    return e.value;
  }

  set(k: string, tenant: string, value: V, bytes: number): void {
    if (bytes > this.budget) return;
    const old = this.entries.get(k);
    if (old) {
      this.entries.delete(k);
      this.bytes -= old.bytes;
    }
    this.entries.set(k, { value, bytes, tenant });
    this.bytes += bytes;
    for (const [key, e] of this.entries) {
      if (this.bytes <= this.budget) break;
      this.entries.delete(key);
      this.bytes -= e.bytes;
      this.evictions++;
      if (this.metered) metrics.searchCacheEvictions.inc();
    }
  }

  dropTenant(tenant: string): void {
    for (const [k, e] of this.entries)
      if (e.tenant === tenant) {
        this.entries.delete(k);
        this.bytes -= e.bytes;
      }
  }

  bytesOf(tenant: string): number {
    let n = 0;
    for (const e of this.entries.values()) if (e.tenant === tenant) n += e.bytes;
    return n;
  }
}

/**
 * Decrypted index blocks of this process, shared by all sessions of a tenant (decision 0021):
 * one cache under one byte budget for every tenant, so memory stays bounded however many sessions
 * and tenants are signed in. Keys start with the tenant; a tenant's entries go when its last
 * session ends. A block is loaded once however many requests want it at the same moment.
 *
 * Two tiers, both LRU: most of the budget holds blocks as decrypted, decompressed bytes — counted
 * at their exact length, and three to four times as many as their decoded form would fit; a
 * quarter holds the decoded form (terms, entries, summaries: JS objects, sized by estimate) of the
 * blocks used most recently, so a hot block is not decoded on every request.
 */
export class BlockCache {
  private readonly plain: Lru<Buffer>;
  private readonly decoded: Lru<unknown>;
  private readonly loading = new Map<string, Promise<unknown>>();
  /** Bumped when a tenant is dropped: a load that started before stores nothing. */
  private readonly generation = new Map<string, number>();
  hits = 0;
  misses = 0;

  constructor(readonly budget: number) {
    this.decoded = new Lru(Math.floor(budget * DECODED_SHARE));
    this.plain = new Lru(budget - this.decoded.budget, true);
  }

  get bytes(): number {
    return this.plain.bytes + this.decoded.bytes;
  }

  get evictions(): number {
    return this.plain.evictions;
  }

  /**
   * Block `key` decoded by `decode`: from the decoded tier, else decoded from the plaintext tier,
   * else from what `load` decrypts. `memory` estimates the decoded form's heap per plaintext byte.
   */
  async get<T>(
    tenant: string,
    key: string,
    load: () => Promise<Buffer>,
    decode: (plain: Buffer) => T,
    memory: number,
  ): Promise<T> {
    const k = `${tenant}/${key}`;
    const value = this.decoded.get(k);
    if (value !== undefined) {
      this.count('hit');
      return value as T;
    }
    const pending = this.loading.get(k);
    if (pending) {
      this.count('hit');
      return pending as Promise<T>;
    }
    const generation = this.generation.get(tenant) ?? 0;
    const cached = this.plain.get(k);
    this.count(cached ? 'hit' : 'miss');
    const loaded = (cached ? Promise.resolve(cached) : load())
      .then((loaded) => {
        const plain = ownBytes(loaded);
        const value = decode(plain);
        if ((this.generation.get(tenant) ?? 0) === generation) {
          if (!cached) this.plain.set(k, tenant, plain, plain.length + ENTRY_OVERHEAD);
          this.decoded.set(k, tenant, value, ENTRY_OVERHEAD + plain.length * memory);
        }
        return value;
      })
      .finally(() => this.loading.delete(k));
    this.loading.set(k, loaded);
    return loaded;
  }

  /**
   * A value worked out from blocks (not decrypted itself), kept in the decoded tier at its
   * exact size; computed once however many requests ask at the same moment.
   */
  async remember<T extends ArrayBufferView>(
    tenant: string,
    key: string,
    compute: () => Promise<T>,
  ): Promise<T> {
    const k = `${tenant}/${key}`;
    const value = this.decoded.get(k);
    if (value !== undefined) return value as T;
    const pending = this.loading.get(k);
    if (pending) return pending as Promise<T>;
    const generation = this.generation.get(tenant) ?? 0;
    const computed = compute()
      .then((v) => {
        if ((this.generation.get(tenant) ?? 0) === generation)
          this.decoded.set(k, tenant, v, ENTRY_OVERHEAD + v.byteLength);
        return v;
      })
      .finally(() => this.loading.delete(k));
    this.loading.set(k, computed);
    return computed;
  }

  /**
   * Block `key` read ahead of any query (index-warmup.ts): decrypted into the plaintext tier if it
   * is not cached yet and the tier is less than `share` full — never evicting what queries use.
   * False once the tier is that full (the warm-up stops).
   */
  async warm(
    tenant: string,
    key: string,
    load: () => Promise<Buffer>,
    share: number,
  ): Promise<boolean> {
    const k = `${tenant}/${key}`;
    if (this.plain.entries.has(k) || this.decoded.entries.has(k) || this.loading.has(k))
      return true;
    if (this.plain.bytes >= this.plain.budget * share) return false;
    const generation = this.generation.get(tenant) ?? 0;
    const loaded = await load();
    const plain = ownBytes(loaded);
    const bytes = plain.length + ENTRY_OVERHEAD;
    // Checked again: other blocks of the same step were loading meanwhile.
    if ((this.generation.get(tenant) ?? 0) !== generation) return false;
    if (this.plain.bytes + bytes > this.plain.budget * share) return false;
    if (!this.plain.entries.has(k)) this.plain.set(k, tenant, plain, bytes);
    return true;
  }

  has(tenant: string, key: string): boolean {
    const k = `${tenant}/${key}`;
    return this.decoded.entries.has(k) || this.plain.entries.has(k);
  }

  /** Forgets everything of `tenant` (its last session ended). */
  dropTenant(tenant: string): void {
    this.generation.set(tenant, (this.generation.get(tenant) ?? 0) + 1);
    this.plain.dropTenant(tenant);
    this.decoded.dropTenant(tenant);
    metrics.searchCacheBytes.set(this.bytes);
  }

  bytesOf(tenant: string): number {
    return this.plain.bytesOf(tenant) + this.decoded.bytesOf(tenant);
  }

  private count(kind: 'hit' | 'miss'): void {
    if (kind === 'hit') this.hits++;
    else this.misses++;
    (kind === 'hit' ? HITS : MISSES).inc();
    metrics.searchCacheBytes.set(this.bytes);
  }
}
