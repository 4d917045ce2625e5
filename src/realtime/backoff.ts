/**
 * Growing delays between retries while Redis is away: `first`, then doubled each time up to `max`;
 * reset() after a success starts over. The one backoff of every Redis loop (appends, live readers,
 * waits for a run's first event).
 */
export class Backoff {
  private current = 0;

  constructor(
    private readonly first: number,
    private readonly max: number,
  ) {}

  /** The next delay. */
  next(): number {
    this.current = this.current ? Math.min(this.current * 2, this.max) : this.first;
    return this.current;
  }

  reset(): void {
    this.current = 0;
  }
}

/** Waits `ms` without keeping the process alive. */
export const pause = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms).unref());
