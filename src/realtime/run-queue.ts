/**
 * Runs of one agent execute one at a time, in arrival order (FIFO per agent), in this process.
 * Each queued run has an AbortController so that cancellation can stop its model call at once.
 */
export class RunQueue {
  private readonly tails = new Map<string, Promise<void>>();
  private readonly depth = new Map<string, number>();
  private readonly controllers = new Map<string, AbortController>();

  /** Queues `task` behind the agent's earlier runs; resolves when it has run. */
  enqueue(agentId: string, runId: string, task: (signal: AbortSignal) => Promise<void>): Promise<void> {
    const controller = new AbortController();
    this.controllers.set(runId, controller);
    this.depth.set(agentId, (this.depth.get(agentId) ?? 0) + 1);
    const previous = this.tails.get(agentId) ?? Promise.resolve();
    const done = previous.then(() => task(controller.signal)).finally(() => {
      this.controllers.delete(runId);
      const left = (this.depth.get(agentId) ?? 1) - 1;
      if (left === 0) {
        this.depth.delete(agentId);
        this.tails.delete(agentId);
      } else {
        this.depth.set(agentId, left);
      }
    });
    this.tails.set(agentId, done.catch(() => {}));
    return done;
  }

  /** Runs of the agent queued or executing here. */
  activeCount(agentId: string): number {
    return this.depth.get(agentId) ?? 0;
  }

  /** Aborts a run's in-flight model call, if the run lives in this process. */
  abort(runId: string): boolean {
    const controller = this.controllers.get(runId);
    controller?.abort();
    return Boolean(controller);
  }

  /** Waits for every queued run (used at shutdown). */
  async drain(): Promise<void> {
    await Promise.allSettled([...this.tails.values()]);
  }
}
