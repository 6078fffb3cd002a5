import path from 'node:path';
import { Worker } from 'node:worker_threads';
import type { DocumentText, ExtractKind, UnreadableReason } from './document-text';

/**
 * Reads text out of attachments on threads with limits per part (issue 20): the input's size is
 * checked before a thread sees it, the thread's heap is capped (`resourceLimits`), and a part
 * that takes longer than `timeoutMs` ends its thread (a looping parser is stopped, not waited
 * for); officeparser adds limits of its own (document-text.ts). A part that cannot be read is an
 * answer, not an error: the mail is indexed with everything else and the reason is shown.
 * Plaintext stays in this process, as for the merge threads (decision 0021).
 */

export type PartText =
  ({ ok: true } & DocumentText) | { ok: false; reason: UnreadableReason; detail?: string };

export interface ExtractionLimits {
  /** Largest part handed to a parser. */
  maxInputBytes: number;
  /** Time one part may take, from when a thread starts on it. */
  timeoutMs: number;
  /** Old-generation heap of each thread. */
  heapMb: number;
  /** Threads at most. */
  threads: number;
}

export const DEFAULT_EXTRACTION_LIMITS: ExtractionLimits = {
  maxInputBytes: 32 * 2 ** 20,
  timeoutMs: 30_000,
  heapMb: 512,
  threads: 1,
};

interface Job {
  data: Uint8Array;
  kind: ExtractKind;
  maxChars: number;
  done: (result: PartText) => void;
}

/** Threads that stop after this long without a part. */
const IDLE_MS = 60_000;

export class DocumentExtractor {
  private readonly idle: Worker[] = [];
  private readonly busy = new Map<Worker, { job: Job; timer: NodeJS.Timeout }>();
  private readonly queue: Job[] = [];
  private idleTimer: NodeJS.Timeout | undefined;
  private count = 0;

  constructor(readonly limits: ExtractionLimits = DEFAULT_EXTRACTION_LIMITS) {}

  /** The text of one part, at most `maxChars` characters. Never rejects. */
  extract(data: Uint8Array, kind: ExtractKind, maxChars: number): Promise<PartText> {
    if (data.length > this.limits.maxInputBytes)
      return Promise.resolve({ ok: false, reason: 'too-large' });
    if (maxChars <= 0) return Promise.resolve({ ok: true, pages: [], truncated: true });
    return new Promise((done) => {
      this.queue.push({ data, kind, maxChars, done });
      this.dispatch();
    });
  }

  /** Ends every thread; parts in flight answer `timeout`. */
  async close(): Promise<void> {
    clearTimeout(this.idleTimer);
    const all = [...this.idle, ...this.busy.keys()];
    this.idle.length = 0;
    await Promise.all(all.map((w) => w.terminate()));
  }

  private dispatch(): void {
    clearTimeout(this.idleTimer);
    while (this.queue.length) {
      const worker =
        this.idle.pop() ?? (this.count < this.limits.threads ? this.spawn() : undefined);
      if (!worker) return;
      const job = this.queue.shift()!;
      const timer = setTimeout(
        () => this.end(worker, { ok: false, reason: 'timeout' }),
        this.limits.timeoutMs,
      );
      this.busy.set(worker, { job, timer });
      worker.ref();
      worker.postMessage({ data: job.data, kind: job.kind, maxChars: job.maxChars });
    }
    if (!this.busy.size) this.idleTimer = setTimeout(() => void this.close(), IDLE_MS).unref();
  }

  /** Answers the thread's part with `result` and ends the thread (it may be stuck or spent). */
  private end(worker: Worker, result: PartText): void {
    this.settle(worker, result);
    void worker.terminate();
  }

  private settle(worker: Worker, result: PartText): boolean {
    const running = this.busy.get(worker);
    if (!running) return false;
    clearTimeout(running.timer);
    this.busy.delete(worker);
    running.job.done(result);
    return true;
  }

  private spawn(): Worker {
    const source = __filename.endsWith('.ts');
    const worker = new Worker(path.join(__dirname, `extraction-thread${source ? '.ts' : '.js'}`), {
      execArgv:
        source && !process.execArgv.some((a) => a.includes('tsx'))
          ? ['--import', 'tsx']
          : undefined,
      resourceLimits: { maxOldGenerationSizeMb: this.limits.heapMb, maxYoungGenerationSizeMb: 32 },
    });
    worker.unref();
    this.count++;
    worker.on(
      'message',
      (m: { text?: DocumentText; unreadable?: UnreadableReason; detail?: string }) => {
        // An answer that lost the race against the timeout: the thread is being ended.
        if (!this.busy.has(worker)) return;
        this.settle(
          worker,
          m.text
            ? { ok: true, ...m.text }
            : {
                ok: false,
                reason: m.unreadable ?? 'damaged',
                ...(m.detail ? { detail: m.detail } : {}),
              },
        );
        worker.unref();
        this.idle.push(worker);
        this.dispatch();
      },
    );
    let ended = false;
    const gone = (err?: Error) => {
      if (ended) return;
      ended = true;
      this.count--;
      const i = this.idle.indexOf(worker);
      if (i >= 0) this.idle.splice(i, 1);
      const memory = (err as { code?: string } | undefined)?.code === 'ERR_WORKER_OUT_OF_MEMORY';
      this.settle(worker, {
        ok: false,
        reason: memory ? 'memory' : 'damaged',
        detail: err?.message,
      });
      if (this.queue.length) this.dispatch();
    };
    worker.on('error', gone);
    worker.on('exit', () => gone());
    return worker;
  }
}
