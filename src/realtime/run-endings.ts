/**
 * Callers that wait for a run to end (sendMessage without async), woken when any instance
 * announces the end on the bus, and by a slow database check in case that message was lost.
 */
export class RunEndings {
  private readonly waiters = new Map<string, Set<() => void>>();

  constructor(private readonly checkMs: number) {}

  /** Resolves once `hasEnded` is true, or the end is announced. */
  async wait(runId: string, hasEnded: () => Promise<boolean>): Promise<void> {
    let wake!: () => void;
    const announced = new Promise<void>((resolve) => (wake = resolve));
    const set = this.waiters.get(runId) ?? new Set();
    set.add(wake);
    this.waiters.set(runId, set);
    try {
      for (;;) {
        let timer: NodeJS.Timeout | undefined;
        const tick = new Promise<'tick'>((resolve) => (timer = setTimeout(() => resolve('tick'), this.checkMs)));
        const woke = await Promise.race([announced, tick]);
        clearTimeout(timer);
        if (woke !== 'tick' || (await hasEnded())) return;
      }
    } finally {
      set.delete(wake);
      if (set.size === 0) this.waiters.delete(runId);
    }
  }

  ended(runId: string): void {
    for (const wake of this.waiters.get(runId) ?? []) wake();
  }
}
