/**
 * Callers that wait for a run to end (sendMessage without async), woken when any instance
 * announces the end on the bus, and by a slow database check in case that message was lost.
 */
export class RunEndings {
  private readonly waiters = new Map<string, Set<() => void>>();

  constructor(private readonly checkMs: number) {}

  /** Resolves once `hasEnded` is true, or the end is announced. */
  async wait(runId: string, hasEnded: () => Promise<boolean>): Promise<void> {
    let announced = false;
    let wake: (() => void) | undefined;
    const onEnded = () => {
      announced = true;
      wake?.();
    };
    const set = this.waiters.get(runId) ?? new Set();
    set.add(onEnded);
    this.waiters.set(runId, set);
    try {
      for (;;) {
        let timer: NodeJS.Timeout | undefined;
        await new Promise<void>((resolve) => {
          if (announced) return resolve();
          wake = resolve;
          timer = setTimeout(resolve, this.checkMs);
        });
        clearTimeout(timer);
        // A check that fails (the database connection lost) is tried again: the run itself is
        // bound to end (see services/runs/run-liveness.ts).
        if (announced || (await hasEnded().catch(() => false))) return;
      }
    } finally {
      set.delete(onEnded);
      if (set.size === 0) this.waiters.delete(runId);
    }
  }

  ended(runId: string): void {
    for (const wake of this.waiters.get(runId) ?? []) wake();
  }
}
