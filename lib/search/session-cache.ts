import type { SearchIndex } from './engine';

/**
 * Decrypted indexes of unlocked sessions, in this process's memory only, keyed by session. An
 * entry unused for `idleMs` is dropped (the session's own idle timeout ends it anyway); logout
 * drops it at once. Loads of one session are serialised, so concurrent requests never add a segment twice.
 */
export class SessionIndexCache {
  private readonly entries = new Map<string, { index: Promise<SearchIndex>; usedAt: number }>();
  private readonly timer: NodeJS.Timeout;

  constructor(private readonly idleMs = 30 * 60_000) {
    this.timer = setInterval(() => this.sweep(), Math.min(idleMs, 60_000));
    this.timer.unref();
  }

  /** The cached index of `session`, refreshed by `load` (which gets the cached one to extend). */
  async get(
    session: string,
    load: (current: SearchIndex | undefined) => Promise<SearchIndex>,
  ): Promise<SearchIndex> {
    // Refreshes of one session run one after another: each extends what the previous loaded.
    const entry = this.entries.get(session);
    const index = (entry?.index ?? Promise.resolve(undefined))
      .catch(() => undefined)
      .then((previous) => load(previous));
    this.entries.set(session, { index, usedAt: Date.now() });
    try {
      return await index;
    } catch (e) {
      this.entries.delete(session);
      throw e;
    }
  }

  drop(session: string): void {
    this.entries.delete(session);
  }

  get size(): number {
    return this.entries.size;
  }

  private sweep(): void {
    const limit = Date.now() - this.idleMs;
    for (const [key, entry] of this.entries) if (entry.usedAt < limit) this.entries.delete(key);
  }
}
