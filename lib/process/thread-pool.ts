import { Worker, type ResourceLimits } from 'node:worker_threads';

/**
 * Worker threads that take one request at a time, started when there is work (up to `lanes`) and
 * stopped after a minute without any; idle threads do not keep the process alive. A request that
 * takes longer than `timeoutMs` ends its thread (a stuck parser is stopped, not waited for), as
 * does a thread that dies; the request then fails with a `ThreadFailure` saying why. Used for the
 * merge (decision 0021) and for attachment text (decision 0022): plaintext and keys stay in this
 * process.
 */

export interface ThreadPoolOptions {
  /** The thread's module, without extension, next to the caller (`path.join(__dirname, …)`). */
  module: string;
  lanes: number;
  timeoutMs?: number;
  resourceLimits?: ResourceLimits;
}

export class ThreadFailure extends Error {
  override name = 'ThreadFailure';
  constructor(
    readonly kind: 'timeout' | 'memory' | 'exit',
    message: string,
  ) {
    super(message);
  }
}

interface Job<Req, Res> {
  request: Req;
  resolve: (r: Res) => void;
  reject: (e: ThreadFailure) => void;
}

/** Threads that stop after this long without a request. */
const IDLE_MS = 60_000;

export class ThreadPool<Req, Res> {
  private readonly idle: Worker[] = [];
  private readonly busy = new Map<Worker, { job: Job<Req, Res>; timer?: NodeJS.Timeout }>();
  private readonly queue: Job<Req, Res>[] = [];
  private idleTimer: NodeJS.Timeout | undefined;
  private count = 0;

  constructor(private readonly options: ThreadPoolOptions) {
    if (!Number.isInteger(options.lanes) || options.lanes < 1)
      throw new Error('a thread pool needs at least one thread');
  }

  get lanes(): number {
    return this.options.lanes;
  }

  /** The thread's answer to `request` (one message back). */
  run(request: Req): Promise<Res> {
    return new Promise((resolve, reject) => {
      this.queue.push({ request, resolve, reject });
      this.dispatch();
    });
  }

  /** Ends every thread; requests in flight fail. */
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
      const job = this.queue.shift()!;
      const timer = this.options.timeoutMs
        ? setTimeout(() => {
            this.settle(worker)?.reject(
              new ThreadFailure('timeout', `took longer than ${this.options.timeoutMs} ms`),
            );
            void worker.terminate();
          }, this.options.timeoutMs)
        : undefined;
      this.busy.set(worker, { job, timer });
      worker.ref();
      worker.postMessage(job.request);
    }
    if (!this.busy.size) this.idleTimer = setTimeout(() => void this.close(), IDLE_MS).unref();
  }

  /** The job `worker` was running, no longer tracked as running. */
  private settle(worker: Worker): Job<Req, Res> | undefined {
    const running = this.busy.get(worker);
    if (!running) return undefined;
    clearTimeout(running.timer);
    this.busy.delete(worker);
    return running.job;
  }

  private spawn(): Worker {
    const source = __filename.endsWith('.ts');
    const worker = new Worker(`${this.options.module}${source ? '.ts' : '.js'}`, {
      // From source (tests, benchmarks, the dev stack) the thread needs the TypeScript loader.
      // Otherwise it inherits the process's flags.
      execArgv:
        source && !process.execArgv.some((a) => a.includes('tsx'))
          ? ['--import', 'tsx']
          : undefined,
      resourceLimits: this.options.resourceLimits,
    });
    worker.unref();
    this.count++;
    worker.on('message', (answer: Res) => {
      // An answer that lost the race against the timeout: the thread is being ended.
      const job = this.settle(worker);
      if (!job) return;
      worker.unref();
      this.idle.push(worker);
      job.resolve(answer);
      this.dispatch();
    });
    let ended = false;
    const gone = (err?: Error) => {
      if (ended) return;
      ended = true;
      this.count--;
      const i = this.idle.indexOf(worker);
      if (i >= 0) this.idle.splice(i, 1);
      const memory = (err as { code?: string } | undefined)?.code === 'ERR_WORKER_OUT_OF_MEMORY';
      this.settle(worker)?.reject(
        new ThreadFailure(memory ? 'memory' : 'exit', err?.message ?? 'the thread ended'),
      );
      if (this.queue.length) this.dispatch();
    };
    worker.on('error', gone);
    worker.on('exit', () => gone());
    return worker;
  }
}
