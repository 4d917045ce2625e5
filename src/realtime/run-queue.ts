import type { Logger } from '../logger.js';

export interface QueuedRun {
  id: string;
  agentId: string;
  organizationId: string;
  input: unknown;
  createdAt: Date;
  /** Whether other runs were queued at the claim: if not, there is nothing more to claim now. */
  more?: boolean;
}

export interface RunQueueOptions {
  /** How many runs this instance executes at once (0: it only queues runs for others). */
  concurrency: number;
  /** How often to look for claimable runs without being told (a missed notification costs this much). */
  pollMs: number;
  /** Takes the next run that may start now, or null (see src/db/run-claims.ts). */
  claim: () => Promise<QueuedRun | null>;
  execute: (run: QueuedRun, signal: AbortSignal) => Promise<void>;
  logger: Logger;
}

/**
 * The worker side of the shared run queue. Runs wait in the database; every instance claims
 * runs that may start (per-agent order is decided by the claim) up to its concurrency, when told
 * that something was queued or ended, and on a timer. Each executing run has an AbortController
 * so that a cancel stops its model call at once.
 */
export class RunQueue {
  private readonly running = new Map<string, { controller: AbortController; done: Promise<void> }>();
  private pumping: Promise<void> | null = null;
  private again = false;
  private stopped = false;
  private readonly timer: NodeJS.Timeout | undefined;

  constructor(private readonly options: RunQueueOptions) {
    if (options.concurrency > 0) {
      this.timer = setInterval(() => this.notify(), options.pollMs);
      this.timer.unref();
    }
  }

  /** Something was queued or ended: claim what may start now. */
  notify(): void {
    if (this.stopped || this.options.concurrency === 0) return;
    if (this.pumping) {
      this.again = true;
      return;
    }
    this.pumping = this.pump().finally(() => {
      this.pumping = null;
      if (this.again) {
        this.again = false;
        this.notify();
      }
    });
  }

  private async pump() {
    while (!this.stopped && this.running.size < this.options.concurrency) {
      let run: QueuedRun | null;
      try {
        run = await this.options.claim();
      } catch (error) {
        this.options.logger.error({ err: error }, 'claiming a queued run failed');
        return;
      }
      if (!run) return;
      this.start(run);
      // Runs queued after the claim notify again.
      if (run.more === false) return;
    }
  }

  private start(run: QueuedRun) {
    const controller = new AbortController();
    const done = this.options
      .execute(run, controller.signal)
      .catch((error: unknown) => this.options.logger.error({ err: error, runId: run.id }, 'run execution failed'))
      .finally(() => {
        this.running.delete(run.id);
        this.notify(); // the agent's next run may start now
      });
    this.running.set(run.id, { controller, done });
  }

  /** Ids of the runs executing here. */
  runningIds(): string[] {
    return [...this.running.keys()];
  }

  /** Aborts a run's in-flight model call, if the run executes in this process. */
  abort(runId: string): boolean {
    const entry = this.running.get(runId);
    entry?.controller.abort();
    return Boolean(entry);
  }

  /** Stops claiming and waits for the runs executing here (used at shutdown). */
  async drain(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    await this.pumping;
    await Promise.allSettled([...this.running.values()].map((entry) => entry.done));
  }
}
