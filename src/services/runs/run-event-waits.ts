import { STOPPED, type Interrupt } from '../../realtime/interruptible.js';
import type { ServiceContext } from '../platform/context.js';

/**
 * The waits of a runEvents subscription: for a run's first event, and for its next event or the
 * next ping. Each can be ended at once by the subscriber leaving, and none leaves anything
 * behind per event or per subscriber on a promise that lives longer than the wait.
 */

export const TIMEOUT = Symbol('timeout');

type StartOutcome = 'started' | 'ended';

/** How often a run that has stored nothing yet is checked for having ended without storing anything (its stream expired, or it predates streams). */
const RUN_POLL_MS = 500;

class StartWait {
  outcome: StartOutcome | undefined;
  subscribers = 0;
  readonly stop = new AbortController();
  private readonly listeners = new Set<(outcome: StartOutcome) => void>();

  settle(outcome: StartOutcome) {
    this.outcome = outcome;
    for (const listener of [...this.listeners]) listener(outcome);
  }

  /** The outcome, TIMEOUT after `ms`, or STOPPED by `interrupt`. */
  next(ms: number, interrupt: Interrupt): Promise<StartOutcome | typeof TIMEOUT | typeof STOPPED> {
    if (this.outcome) return Promise.resolve(this.outcome);
    if (interrupt.stopped) return Promise.resolve(STOPPED);
    return new Promise((resolve) => {
      const settle = (value: StartOutcome | typeof TIMEOUT | typeof STOPPED) => {
        this.listeners.delete(settle);
        clearTimeout(timer);
        interrupt.set(undefined);
        resolve(value);
      };
      this.listeners.add(settle);
      const timer = setTimeout(() => settle(TIMEOUT), ms);
      interrupt.set(() => settle(STOPPED));
    });
  }
}

/** One wait per run in this process, shared by all its subscribers, stopped when the last leaves. */
const startWaits = new Map<string, StartWait>();

/** Waits for a run that has stored nothing yet (queued, or waiting for the model) to store its first event, or to end without. */
export function waitForFirstEvent(ctx: ServiceContext, runId: string) {
  let wait = startWaits.get(runId);
  if (!wait) {
    const created = (wait = new StartWait());
    startWaits.set(runId, created);
    let started: boolean | undefined;
    let wake: (() => void) | undefined;
    void ctx.runtime.streams.waitForStart(runId, created.stop.signal).then((value) => {
      started = value;
      wake?.();
    });
    void (async (): Promise<StartOutcome> => {
      for (;;) {
        if (started === undefined) {
          await new Promise<void>((resolve) => {
            wake = resolve;
            setTimeout(resolve, RUN_POLL_MS).unref();
          });
        }
        if (started === true) return 'started';
        if (started === false) return 'ended'; // stopped: every subscriber left, or the server is closing
        const run = await ctx.prisma.run.findUnique({ where: { id: runId }, select: { status: true } });
        // Read the stream once more: it may have been written between the two reads.
        if (!run || ['completed', 'failed', 'cancelled'].includes(run.status)) {
          return (await ctx.runtime.streams.status(runId)).exists ? 'started' : 'ended';
        }
      }
    })()
      .catch((error: unknown) => {
        ctx.logger.warn({ err: error, runId }, 'waiting for a run to start failed');
        return 'ended' as const;
      })
      .then((outcome) => {
        created.stop.abort();
        if (startWaits.get(runId) === created) startWaits.delete(runId);
        created.settle(outcome);
      });
  }
  const joined = wait;
  joined.subscribers += 1;
  let left = false;
  return {
    next: (ms: number, interrupt: Interrupt) => joined.next(ms, interrupt),
    leave: () => {
      if (left) return;
      left = true;
      if (--joined.subscribers > 0 || joined.outcome) return;
      joined.stop.abort();
      if (startWaits.get(runId) === joined) startWaits.delete(runId);
    },
  };
}

/**
 * Races each next step of a stream against silence: TIMEOUT once nothing was sent for `ms` since
 * the last reset, STOPPED when interrupted. One timer per silent period, not one per event.
 */
export function silenceTimer(ms: number, interrupt: Interrupt) {
  let lastReset = Date.now();
  let timer: NodeJS.Timeout | undefined;
  let onSilence: (() => void) | undefined;
  let elapsed = false;
  const check = () => {
    timer = undefined;
    const left = lastReset + ms - Date.now();
    if (left > 0) {
      timer = setTimeout(check, left);
      return;
    }
    const waiting = onSilence;
    onSilence = undefined;
    elapsed = waiting !== undefined;
    waiting?.();
  };
  return {
    reset() {
      lastReset = Date.now();
      elapsed = false;
    },
    /** The current race has ended with TIMEOUT (set at once, before the racer resumes); cleared by reset(). */
    get elapsed() {
      return elapsed;
    },
    race<T>(step: Promise<T>): Promise<T | typeof TIMEOUT | typeof STOPPED> {
      if (interrupt.stopped) return Promise.resolve(STOPPED);
      return new Promise<T | typeof TIMEOUT | typeof STOPPED>((resolve, reject) => {
        onSilence = () => resolve(TIMEOUT);
        interrupt.set(() => resolve(STOPPED));
        step.then(resolve, reject);
        if (!timer) check();
      });
    },
    stop() {
      onSilence = undefined;
      interrupt.set(undefined);
      clearTimeout(timer);
    },
  };
}
