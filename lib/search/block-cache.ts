import { metrics } from '../metrics/metrics';

const HITS = metrics.searchCacheRequests.labels('hit');
const MISSES = metrics.searchCacheRequests.labels('miss');

/** Share of the budget for decoded blocks; the rest holds decrypted plaintext. */
const DECODED_SHARE = 1 / 4;
/** Share of the plaintext tier for blocks used more than once (segmented LRU). */
const PROTECTED_SHARE = 3 / 4;
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

type Entry<V> = { value: V; bytes: number; tenant: string };

/**
 * Least-recently-used maps under one byte budget (Map order is the LRU order). With a
 * `protectedShare`, segmented (SLRU): a new entry is on probation and goes first; one used again
 * moves to the protected part (up to that share of the budget), whose oldest fall back to
 * probation. A query that reads many blocks once — a rare word's lists in every segment, a read
 * ahead — then pushes out other such blocks, not the dictionaries and order starts most queries
 * use.
 */
class Lru<V> {
  private readonly probation = new Map<string, Entry<V>>();
  private readonly kept = new Map<string, Entry<V>>();
  private keptBytes = 0;
  private readonly keptBudget: number;
  bytes = 0;
  evictions = 0;

  constructor(
    readonly budget: number,
    /** Whether an eviction here is one the metric counts (a decrypted block gone). */
    private readonly metered = false,
    protectedShare = 0,
  ) {
    this.keptBudget = Math.floor(budget * protectedShare);
  }

  has(k: string): boolean {
    return this.probation.has(k) || this.kept.has(k);
  }

  get(k: string): V | undefined {
    const kept = this.kept.get(k);
    if (kept) {
      this.kept.delete(k);
      this.kept.set(k, kept);
      return kept.value;
    }
    const e = this.probation.get(k);
    if (!e) return undefined;
    this.probation.delete(k);
    if (this.keptBudget && e.bytes <= this.keptBudget) {
      this.kept.set(k, e);
      this.keptBytes += e.bytes;
      for (const [key, old] of this.kept) {
        if (this.keptBytes <= this.keptBudget) break;
        this.kept.delete(key);
        this.keptBytes -= old.bytes;
        this.probation.set(key, old);
      }
    } else this.probation.set(k, e);
    return e.value;
  }

  set(k: string, tenant: string, value: V, bytes: number): void {
    if (bytes > this.budget) return;
    this.delete(k);
    this.probation.set(k, { value, bytes, tenant });
    this.bytes += bytes;
    for (const part of [this.probation, this.kept])
      for (const key of part.keys()) {
        if (this.bytes <= this.budget) return;
        if (key === k) continue;
        this.delete(key);
        this.evictions++;
        if (this.metered) metrics.searchCacheEvictions.inc();
      }
  }

  private delete(k: string): void {
    const kept = this.kept.get(k);
    const e = kept ?? this.probation.get(k);
    if (!e) return;
    (kept ? this.kept : this.probation).delete(k);
    this.bytes -= e.bytes;
    if (kept) this.keptBytes -= e.bytes;
  }

  dropTenant(tenant: string): void {
    for (const part of [this.probation, this.kept])
      for (const [k, e] of part) if (e.tenant === tenant) this.delete(k);
  }

  bytesOf(tenant: string): number {
    let n = 0;
    for (const part of [this.probation, this.kept])
      for (const e of part.values()) if (e.tenant === tenant) n += e.bytes;
    return n;
  }
}

/**
 * Decrypted index blocks of this process, shared by all sessions of a tenant (decision 0021):
 * one cache under one byte budget for every tenant, so memory stays bounded however many sessions
 * and tenants are signed in. Keys start with the tenant; a tenant's entries go when its last
 * session ends. A block is loaded once however many requests want it at the same moment.
 *
 * Two tiers: most of the budget holds blocks as decrypted, decompressed bytes — counted at their
 * exact length, and three to four times as many as their decoded form would fit — in a segmented
 * LRU, so blocks used again outlast blocks used once; a quarter holds the decoded form (terms,
 * entries, summaries: JS objects, sized by estimate) of the blocks used most recently (LRU), so a
 * hot block is not decoded on every request. A use of the decoded form counts as a use of its
 * bytes too.
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
    this.plain = new Lru(budget - this.decoded.budget, true, PROTECTED_SHARE);
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
      this.plain.get(k);
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
    if (this.plain.has(k) || this.decoded.has(k) || this.loading.has(k)) return true;
    if (this.plain.bytes >= this.plain.budget * share) return false;
    const generation = this.generation.get(tenant) ?? 0;
    const loaded = await load();
    const plain = ownBytes(loaded);
    const bytes = plain.length + ENTRY_OVERHEAD;
    // Checked again: other blocks of the same step were loading meanwhile.
    if ((this.generation.get(tenant) ?? 0) !== generation) return false;
    if (this.plain.bytes + bytes > this.plain.budget * share) return false;
    if (!this.plain.has(k)) this.plain.set(k, tenant, plain, bytes);
    return true;
  }

  has(tenant: string, key: string): boolean {
    const k = `${tenant}/${key}`;
    return this.decoded.has(k) || this.plain.has(k);
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
