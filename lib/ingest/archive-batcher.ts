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
 * Starts one archiveBatch workflow for the mails of a tenant that arrive together (decision 0020),
 * batching as a database batches commits: a mail that finds no start of its tenant in flight (or
 * fewer than `maxInFlight`) starts at once, alone; mails arriving meanwhile wait for the next start
 * and go in together, up to MAX_BATCH_MAILS. A quiet archive adds no delay; a busy one pays one
 * workflow start for many mails. Each caller learns whether *its* mail's workflow started.
 */
export class ArchiveBatcher implements ArchiveStarter {
  private readonly queues = new Map<string, Waiting[]>();
  private readonly inFlight = new Map<string, number>();

  constructor(
    private readonly client: Client,
    private readonly taskQueue: string,
    private readonly opts: {
      maxInFlight?: number;
      maxBatch?: number;
      startTimeoutMs?: number;
    } = {},
  ) {}

  submit(mail: ArchiveMailInput): Promise<void> {
    return new Promise((resolve, reject) => {
      const q = this.queues.get(mail.tenantId) ?? [];
      q.push({ mail: { messageId: mail.messageId, sha256Hex: mail.sha256Hex }, resolve, reject });
      this.queues.set(mail.tenantId, q);
      this.pump(mail.tenantId);
    });
  }

  private pump(tenantId: string): void {
    const running = this.inFlight.get(tenantId) ?? 0;
    const q = this.queues.get(tenantId);
    if (!q?.length || running >= (this.opts.maxInFlight ?? 1)) return;
    const batch = q.splice(0, this.opts.maxBatch ?? MAX_BATCH_MAILS);
    if (!q.length) this.queues.delete(tenantId);
    this.inFlight.set(tenantId, running + 1);
    void this.start(tenantId, batch).finally(() => {
      const left = (this.inFlight.get(tenantId) ?? 1) - 1;
      if (left) this.inFlight.set(tenantId, left);
      else this.inFlight.delete(tenantId);
      this.pump(tenantId);
    });
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
