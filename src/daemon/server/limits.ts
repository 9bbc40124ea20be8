/**
 * Per-VM admission control. A VM is one guest: its requests are serial in the
 * service anyway, so the limits here only stop one VM (or a runaway VMM) from
 * queueing unbounded work or starving the others of the event loop.
 */

export interface RateLimit {
  /** Sustained MM operations per second per VM; 0 disables the limit. */
  ratePerSecond: number;
  /** Operations allowed back to back before the rate applies. */
  burst: number;
}

/** Generous: an OVMF boot makes a few thousand requests; a guest loop writing variables is what this slows. */
export const DEFAULT_RATE_LIMIT: Readonly<RateLimit> = Object.freeze({ ratePerSecond: 20000, burst: 20000 });

/** MM operations admitted per VM at once (running, waiting for the rate or for the VM's turn). */
export const DEFAULT_MAX_IN_FLIGHT = 4;

/**
 * Token bucket that delays instead of refusing: the guest's firmware cannot do
 * anything useful with a refusal (it would surface as EFI_DEVICE_ERROR), while
 * a slower device is invisible to it. Waiters reserve tokens in arrival order
 * by driving the balance negative; the in-flight limit bounds how far.
 */
export class TokenBucket {
  private tokens: number;
  private last: number;

  constructor(private readonly limit: RateLimit, private readonly now: () => number = () => performance.now()) {
    this.tokens = limit.burst;
    this.last = now();
  }

  /** Milliseconds the caller must wait before its operation may run (0 = now). */
  reserve(): number {
    if (this.limit.ratePerSecond <= 0) return 0;
    const t = this.now();
    this.tokens = Math.min(this.limit.burst, this.tokens + ((t - this.last) / 1000) * this.limit.ratePerSecond);
    this.last = t;
    this.tokens -= 1;
    return this.tokens >= 0 ? 0 : (-this.tokens / this.limit.ratePerSecond) * 1000;
  }
}

/** A FIFO async lock: device register operations of one VM must not interleave. */
export class AsyncMutex {
  private tail: Promise<void> = Promise.resolve();

  async run<T>(fn: () => Promise<T>): Promise<T> {
    let release!: () => void;
    const next = new Promise<void>((r) => { release = r; });
    const prev = this.tail;
    this.tail = next;
    await prev;
    try { return await fn(); } finally { release(); }
  }
}

export function delay(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Work the daemon must let finish before it exits (requests, host writes). */
export class WorkTracker {
  private readonly pending = new Set<Promise<unknown>>();

  get size(): number { return this.pending.size; }

  track<T>(p: Promise<T>): Promise<T> {
    this.pending.add(p);
    const done = (): void => { this.pending.delete(p); };
    p.then(done, done);
    return p;
  }

  /** Resolves once nothing tracked is pending, including work added while waiting. */
  async idle(): Promise<void> {
    while (this.pending.size > 0) await Promise.allSettled([...this.pending]);
  }
}
