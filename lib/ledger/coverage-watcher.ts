import { sql } from 'kysely';
import type { Db } from '../db';

/**
 * Answers "is entry i of this tenant's log covered by a timestamped checkpoint yet?" for many
 * waiting workflows at once: one query per tenant and poll interval, however many mails wait.
 * An entry is covered once a tenant checkpoint beyond it sits in the anchor log below a
 * timestamped anchor checkpoint.
 */
export class CoverageWatcher {
  private readonly waiting = new Map<string, { index: number; resolve: () => void }[]>();
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly db: Db,
    private readonly intervalMs = 1000,
  ) {}

  /** Resolves true once covered, false when `timeoutMs` passes first. */
  wait(tenantId: string, index: number, timeoutMs: number): Promise<boolean> {
    return new Promise((resolve) => {
      const entry = { index, resolve: () => resolve(true) };
      const list = this.waiting.get(tenantId) ?? [];
      list.push(entry);
      this.waiting.set(tenantId, list);
      setTimeout(() => {
        const l = this.waiting.get(tenantId);
        const at = l?.indexOf(entry) ?? -1;
        if (at >= 0) {
          l!.splice(at, 1);
          if (!l!.length) this.waiting.delete(tenantId);
          resolve(false);
        }
      }, timeoutMs).unref();
      this.timer ??= setInterval(() => void this.poll(), this.intervalMs);
      this.timer.unref();
    });
  }

  private polling = false;

  private async poll(): Promise<void> {
    if (this.polling) return;
    this.polling = true;
    try {
      for (const [tenantId, list] of this.waiting) {
        const r = await sql<{ covered: string | null }>`
          SELECT max(tc.size) AS covered
            FROM ledger_checkpoints tc JOIN ledger_logs l ON l.id = tc.log_id
           WHERE l.tenant_id = ${tenantId}
             AND tc.anchor_index < (SELECT max(size) FROM ledger_checkpoints
                                     WHERE tenant_id IS NULL AND tsa_response IS NOT NULL)`.execute(
          this.db,
        );
        const covered = Number(r.rows[0]?.covered ?? 0);
        const still = list.filter((w) => {
          if (w.index < covered) {
            w.resolve();
            return false;
          }
          return true;
        });
        if (still.length) this.waiting.set(tenantId, still);
        else this.waiting.delete(tenantId);
      }
      if (!this.waiting.size && this.timer) {
        clearInterval(this.timer);
        this.timer = undefined;
      }
    } catch {
      // The next poll tries again; waiters time out on their own if the database stays away.
    } finally {
      this.polling = false;
    }
  }
}
