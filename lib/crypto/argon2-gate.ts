/**
 * A bound on concurrent Argon2 runs in this process (issue 17 §3): each costs 64 MiB and a core
 * for ~100 ms, so unbounded parallel logins would exhaust memory. At most `concurrent` run; up to
 * `queued` more wait their turn; beyond that the caller is refused at once with BusyError (the
 * portal answers 503 with Retry-After), before any memory is taken.
 */
export class BusyError extends Error {
  override name = 'BusyError';
  constructor(readonly retryAfterS = 5) {
    super('too many password checks at once; try again shortly');
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

/** The process's gate for Argon2: 4 × 64 MiB at once, 64 waiting. */
export const argon2Gate = new Gate(4, 64);
