import { randomUUID } from 'node:crypto';
import type { Client } from '@temporalio/client';
import { MAX_BATCH_MAILS, type ArchiveMailInput, type BatchMail } from '../../contracts/archive';
import { MAIL_IDS, MAIL_SHA256, MAIL_STAGE, TENANT_ID } from '../../contracts/search-attributes';
import { startWorkflow } from '../temporal/start-workflow';

/** Where ingest hands a mail once its ciphertext is durable and its row committed. */
export interface ArchiveStarter {
  /** Resolves once the mail's archive workflow has started; rejects (→ 4xx) otherwise. */
  submit(mail: ArchiveMailInput): Promise<void>;
}

interface Waiting {
  mail: BatchMail;
  resolve: () => void;
  reject: (e: unknown) => void;
}

/**
 * Starts one archiveBatch workflow for the mails of a tenant that arrive together (decision 0020):
 * a mail of a quiet tenant starts at once, alone; a busy tenant's mails are gathered — while its
 * start is under way, and until `windowMs` after the previous start began — and go in one start,
 * up to MAX_BATCH_MAILS. The archive then pays one workflow per window and tenant, however many
 * mails arrive in it, and a mail waits at most the window plus one start. Each caller learns
 * whether *its* mail's workflow started.
 */
export class ArchiveBatcher implements ArchiveStarter {
  private readonly queues = new Map<string, Waiting[]>();
  private readonly running = new Set<string>();
  private readonly lastStart = new Map<string, number>();
  private readonly timers = new Map<string, NodeJS.Timeout>();

  private readonly windowMs: number;

  constructor(
    private readonly client: Client,
    private readonly taskQueue: string,
    private readonly opts: { windowMs?: number; maxBatch?: number; startTimeoutMs?: number } = {},
  ) {
    this.windowMs = opts.windowMs ?? 50;
  }

  submit(mail: ArchiveMailInput): Promise<void> {
    return new Promise((resolve, reject) => {
      const q = this.queues.get(mail.tenantId) ?? [];
      q.push({ mail: { messageId: mail.messageId, sha256Hex: mail.sha256Hex }, resolve, reject });
      this.queues.set(mail.tenantId, q);
      this.pump(mail.tenantId);
    });
  }

  private pump(tenantId: string): void {
    const q = this.queues.get(tenantId);
    if (!q?.length || this.running.has(tenantId) || this.timers.has(tenantId)) return;
    const maxBatch = this.opts.maxBatch ?? MAX_BATCH_MAILS;
    const wait = (this.lastStart.get(tenantId) ?? 0) + this.windowMs - Date.now();
    if (wait > 0 && q.length < maxBatch) {
      this.timers.set(
        tenantId,
        setTimeout(() => {
          this.timers.delete(tenantId);
          this.pump(tenantId);
        }, wait),
      );
      return;
    }
    const batch = q.splice(0, maxBatch);
    if (!q.length) this.queues.delete(tenantId);
    this.running.add(tenantId);
    this.lastStart.set(tenantId, Date.now());
    void this.start(tenantId, batch).finally(() => {
      this.running.delete(tenantId);
      this.pump(tenantId);
    });
    // Quiet tenants are forgotten once their window has passed: the map stays small.
    if (this.lastStart.size > 10_000)
      for (const [t, at] of this.lastStart)
        if (Date.now() - at > this.windowMs) this.lastStart.delete(t);
  }

  private async start(tenantId: string, batch: Waiting[]): Promise<void> {
    const mails = batch.map((w) => w.mail);
    try {
      // The senders wait for this answer: give up after a few seconds (451, they retry) rather
      // than letting the client's own retries stretch the reply while Temporal is away.
      await this.client.withDeadline(Date.now() + (this.opts.startTimeoutMs ?? 5_000), () =>
        startWorkflow(this.client, 'archiveBatch', {
          taskQueue: this.taskQueue,
          workflowId: `archive-batch-${tenantId}-${randomUUID()}`,
          args: [{ tenantId, mails }],
          typedSearchAttributes: [
            { key: TENANT_ID, value: tenantId },
            { key: MAIL_STAGE, value: 'staged' },
            { key: MAIL_IDS, value: mails.map((m) => m.messageId) },
            { key: MAIL_SHA256, value: mails.map((m) => m.sha256Hex) },
          ],
        }),
      );
      for (const w of batch) w.resolve();
    } catch (e) {
      for (const w of batch) w.reject(e);
    }
  }
}
