import type { Db } from '../db';
import { withTenant } from '../db/tenant-scope';
import { appendEntries, ensureLog, type EntryKind, type LedgerKeys } from './store';

interface Pending {
  entryHash: Buffer;
  kind: EntryKind;
  resolve: (r: { index: number }) => void;
  reject: (e: unknown) => void;
}

/**
 * Collects ledger appends arriving within a few milliseconds and sequences each tenant's share in
 * one transaction (Tessera's "sequence in batches"): one row lock and one commit for many entries
 * instead of one per entry. A caller's promise resolves only after its batch committed, so an
 * activity that returns has durably sequenced its entry; a failed batch rejects all its callers,
 * who retry (appending is idempotent).
 */
export class AppendBatcher {
  private readonly queues = new Map<string, Pending[]>();
  private timer?: NodeJS.Timeout;
  private readonly inFlight = new Set<Promise<void>>();

  constructor(
    private readonly db: Db,
    private readonly ledger: LedgerKeys,
    private readonly opts: { maxDelayMs?: number; maxBatch?: number } = {},
  ) {}

  append(tenantId: string, entryHash: Buffer, kind: EntryKind): Promise<{ index: number }> {
    return new Promise((resolve, reject) => {
      const q = this.queues.get(tenantId) ?? [];
      q.push({ entryHash, kind, resolve, reject });
      this.queues.set(tenantId, q);
      if (q.length >= (this.opts.maxBatch ?? 1000)) this.flushTenant(tenantId);
      else this.timer ??= setTimeout(() => this.flushAll(), this.opts.maxDelayMs ?? 5);
    });
  }

  private flushAll(): void {
    this.timer = undefined;
    for (const tenantId of [...this.queues.keys()]) this.flushTenant(tenantId);
  }

  private flushTenant(tenantId: string): void {
    const batch = this.queues.get(tenantId);
    this.queues.delete(tenantId);
    if (!batch?.length) return;
    const run = withTenant(this.db, tenantId, async (tx) => {
      const log = await ensureLog(tx, { tenantId, ...this.ledger });
      return appendEntries(tx, log, batch);
    }).then(
      (results) => batch.forEach((p, k) => p.resolve({ index: results[k]!.index })),
      (err) => batch.forEach((p) => p.reject(err)),
    );
    this.inFlight.add(run);
    void run.finally(() => this.inFlight.delete(run));
  }

  /** Flushes what is queued and waits for every batch in flight (worker shutdown). */
  async drain(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.flushAll();
    await Promise.all([...this.inFlight]);
  }
}
