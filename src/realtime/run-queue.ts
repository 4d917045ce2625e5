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
 *
 * A run's end may let its agent's next run start, but only a run queued before it: when a claim
 * saw no other run waiting and nothing was queued since, an end claims nothing (the statement
 * would find nothing). The timer always claims, in case a "queued" notice was lost.
 */
export class RunQueue {
  private readonly running = new Map<string, { controller: AbortController; done: Promise<void> }>();
  private pumping: Promise<void> | null = null;
  private again = false;
  private stopped = false;
  private readonly timer: NodeJS.Timeout | undefined;
  /** Counts "something was queued" notices (and timer ticks). */
  private queuedNotices = 0;
  /** The notice count when a claim last saw no other run waiting (-1: not since). */
  private emptyAtNotice = -1;

  constructor(private readonly options: RunQueueOptions) {
    if (options.concurrency > 0) {
      this.timer = setInterval(() => this.notify(), options.pollMs);
      this.timer.unref();
    }
  }

  /**
   * Something was queued, or a run ended (here or elsewhere): claim what may start now. After an
   * end, nothing does if no run waited at the last claim and nothing was queued since.
   */
  notify(reason: 'queued' | 'ended' = 'queued'): void {
    if (this.stopped || this.options.concurrency === 0) return;
    if (reason === 'queued') this.queuedNotices += 1;
    else if (this.emptyAtNotice === this.queuedNotices) return;
    if (this.pumping) {
      this.again = true;
      return;
    }
    this.pumping = this.pump().finally(() => {
      this.pumping = null;
      if (this.again) {
        // A "queued" notice during the pump moved the count: this claims again.
        this.again = false;
        this.notify('ended');
      }
    });
  }

  private async pump() {
    while (!this.stopped && this.running.size < this.options.concurrency) {
      let run: QueuedRun | null;
      const notices = this.queuedNotices;
      try {
        run = await this.options.claim();
      } catch (error) {
        this.options.logger.error({ err: error }, 'claiming a queued run failed');
        return;
      }
      if (!run) return;
      this.start(run);
      // Runs queued after the claim notify again.
      if (run.more === false) {
        this.emptyAtNotice = notices;
        return;
      }
    }
  }

  private start(run: QueuedRun) {
    const controller = new AbortController();
    const done = this.options
      .execute(run, controller.signal)
      .catch((error: unknown) => this.options.logger.error({ err: error, runId: run.id }, 'run execution failed'))
      .finally(() => {
        this.running.delete(run.id);
        this.notify('ended'); // the agent's next run may start now
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
