import { availableParallelism } from 'node:os';
import { Piscina } from 'piscina';
import { AppError } from '../errors.js';
import type { TaskInput, TaskName, TaskOutput } from './tasks.js';

/**
 * The worker pool: CPU-bound work (file parsing and chunking, local embedding, regex search over
 * files, reading agent files) runs on a few worker threads so that the main thread, which serves
 * every request and stream, only coordinates. Bounded twice: at most `threads` tasks run at once,
 * and at most `queueLimit` wait; a task beyond that is refused with UNAVAILABLE rather than
 * queued without end.
 */

export interface WorkerPoolOptions {
  /** Worker threads (0: one less than the cores, at least 1). */
  threads: number;
  /** Tasks that may wait for a thread. */
  queueLimit: number;
}

export interface RunOptions {
  /** Aborting ends the task; one already running is stopped by ending its thread. */
  signal?: AbortSignal;
  /** A deadline in milliseconds: the task then fails with WorkerTimeoutError. */
  timeoutMs?: number;
}

export interface WorkerPoolStats {
  threads: number;
  queued: number;
  /** Tasks completed since start (an observable sign that work ran off the main thread). */
  completed: number;
}

export interface WorkerPool {
  run<K extends TaskName>(task: K, input: TaskInput<K>, options?: RunOptions): Promise<TaskOutput<K>>;
  stats(): WorkerPoolStats;
  close(): Promise<void>;
}

/** A task that passed its deadline; its thread was ended. */
export class WorkerTimeoutError extends Error {
  constructor(readonly timeoutMs: number) {
    super(`the task did not finish within ${timeoutMs} ms`);
    this.name = 'WorkerTimeoutError';
  }
}

const ENTRY = new URL('./worker.mjs', import.meta.url).href;

export function defaultThreads(): number {
  return Math.max(1, availableParallelism() - 1);
}

export function createWorkerPool(options: WorkerPoolOptions): WorkerPool {
  const threads = options.threads > 0 ? options.threads : defaultThreads();
  const piscina = new Piscina({
    filename: ENTRY,
    minThreads: 1,
    maxThreads: threads,
    maxQueue: options.queueLimit,
    idleTimeout: 60_000,
    // worker.mjs registers tsx itself: loader flags of the parent (e.g. --import tsx) would register it twice.
    execArgv: [],
  });
  let closed = false;

  return {
    async run(task, input, runOptions = {}) {
      if (closed) throw new AppError('UNAVAILABLE', 'The server is shutting down');
      const signals = [runOptions.signal, runOptions.timeoutMs ? AbortSignal.timeout(runOptions.timeoutMs) : undefined].filter((signal): signal is AbortSignal => !!signal);
      const signal = signals.length > 1 ? AbortSignal.any(signals) : signals[0];
      try {
        return (await piscina.run({ task, input }, { signal })) as TaskOutput<typeof task>;
      } catch (error) {
        if (runOptions.timeoutMs && signal?.aborted && !runOptions.signal?.aborted) throw new WorkerTimeoutError(runOptions.timeoutMs);
        if (error instanceof Error && /queue is at limit/i.test(error.message)) {
          throw new AppError('UNAVAILABLE', `The server is busy: ${options.queueLimit} background tasks are already waiting; try again shortly`, { queueLimit: options.queueLimit });
        }
        throw error;
      }
    },
    stats: () => ({ threads: piscina.threads.length, queued: piscina.queueSize, completed: piscina.completed }),
    async close() {
      closed = true;
      await piscina.close({ force: true });
    },
  };
}
