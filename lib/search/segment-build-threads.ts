import path from 'node:path';
import { Worker } from 'node:worker_threads';
import type { UnlockedEpoch } from '../vault/epochs';
import { buildSegment, type SegmentJob } from './segment-build';
import type { SealedSegment } from './segment-store';

/**
 * Where merge batches become segments. A merge hands out one job per epoch batch; `lanes` is how
 * many it may have in flight. In-process is one lane; SegmentBuildThreads runs jobs on worker
 * threads, so decrypting and inverting a tenant's queue uses every core (decision 0021: the merge
 * rate goal at 10M mails). The epoch's private and index keys go to the thread with the job, as
 * bytes in this process's memory, and are zeroed there when the job ends.
 */

export interface SegmentBuilder {
  readonly lanes: number;
  build(job: SegmentJob, epoch: UnlockedEpoch): Promise<SealedSegment>;
}

export const inProcess: SegmentBuilder = { lanes: 1, build: buildSegment };

interface Pending {
  resolve: (s: SealedSegment) => void;
  reject: (e: Error) => void;
}

/** Threads that stop after this long without a job (each holds ~10 MB). */
const IDLE_MS = 60_000;

export class SegmentBuildThreads implements SegmentBuilder {
  private readonly idle: Worker[] = [];
  private readonly busy = new Map<Worker, Pending>();
  private readonly queue: { job: SegmentJob; epoch: UnlockedEpoch; pending: Pending }[] = [];
  private idleTimer: NodeJS.Timeout | undefined;
  private count = 0;

  constructor(readonly lanes: number) {
    if (!Number.isInteger(lanes) || lanes < 1) throw new Error('at least one merge thread');
  }

  build(job: SegmentJob, epoch: UnlockedEpoch): Promise<SealedSegment> {
    return new Promise((resolve, reject) => {
      this.queue.push({ job, epoch, pending: { resolve, reject } });
      this.dispatch();
    });
  }

  /** Stops every thread; jobs in flight fail. */
  async close(): Promise<void> {
    clearTimeout(this.idleTimer);
    const all = [...this.idle, ...this.busy.keys()];
    this.idle.length = 0;
    await Promise.all(all.map((w) => w.terminate()));
  }

  private dispatch(): void {
    clearTimeout(this.idleTimer);
    while (this.queue.length) {
      const worker = this.idle.pop() ?? (this.count < this.lanes ? this.spawn() : undefined);
      if (!worker) return;
      const { job, epoch, pending } = this.queue.shift()!;
      this.busy.set(worker, pending);
      worker.ref();
      worker.postMessage({
        job,
        keys: {
          epochId: epoch.epochId,
          privateKey: epoch.privateKey,
          indexKey: epoch.indexKey,
          publicKey: epoch.known?.publicKey,
        },
      });
    }
    if (!this.busy.size) this.idleTimer = setTimeout(() => void this.close(), IDLE_MS).unref();
  }

  private spawn(): Worker {
    const source = __filename.endsWith('.ts');
    const worker = new Worker(
      path.join(__dirname, `segment-build-thread${source ? '.ts' : '.js'}`),
      {
        // From source (tests, benchmarks, the dev stack) the thread needs the TypeScript loader.
        // Otherwise it inherits the process's flags.
        execArgv:
          source && !process.execArgv.some((a) => a.includes('tsx'))
            ? ['--import', 'tsx']
            : undefined,
      },
    );
    worker.unref();
    this.count++;
    worker.on('message', (m: { segment?: SealedSegment; error?: string }) => {
      const pending = this.busy.get(worker);
      this.busy.delete(worker);
      // Idle threads do not keep the process alive.
      worker.unref();
      this.idle.push(worker);
      if (m.segment) pending?.resolve(m.segment);
      else pending?.reject(new Error(`segment build failed: ${m.error}`));
      this.dispatch();
    });
    let ended = false;
    const gone = (err: Error) => {
      if (ended) return;
      ended = true;
      this.count--;
      const i = this.idle.indexOf(worker);
      if (i >= 0) this.idle.splice(i, 1);
      this.busy.get(worker)?.reject(err);
      this.busy.delete(worker);
      if (this.queue.length) this.dispatch();
    };
    worker.on('error', gone);
    worker.on('exit', (code) => gone(new Error(`merge thread exited (${code})`)));
    return worker;
  }
}
