/**
 * At most `concurrent` runs of some costly work in this process; up to `queued` more wait their
 * turn in order; beyond that the caller is refused at once with BusyError (the portal answers 503
 * with Retry-After), before any memory is taken. Used for Argon2 (lib/crypto/argon2-gate.ts) and
 * searches (lib/search/tenant-index.ts).
 */
export class BusyError extends Error {
  override name = 'BusyError';
  constructor(
    readonly retryAfterS = 5,
    message = 'too much work at once; try again shortly',
  ) {
    super(message);
  }
}

export class Gate {
  private running = 0;
  private readonly waiting: (() => void)[] = [];

  constructor(
    private readonly concurrent: number,
    private readonly queued: number,
  ) {}

  async run<T>(fn: () => Promise<T>): Promise<T> {
    if (this.running >= this.concurrent) {
      if (this.waiting.length >= this.queued) throw new BusyError();
      await new Promise<void>((resolve) => this.waiting.push(resolve));
    } else this.running++;
    try {
      return await fn();
    } finally {
      // Hand the slot straight to the next waiter (running stays counted), or free it.
      const next = this.waiting.shift();
      if (next) next();
      else this.running--;
    }
  }

  get load() {
    return { running: this.running, waiting: this.waiting.length };
  }
}
