/**
 * Cleanup and exit for benches that start servers, workers and database schemas: each cleanup
 * runs once, when its owner ends or on SIGINT/SIGTERM (latest first), so an interrupted bench
 * leaves no schema, worker or child process behind.
 */

let interruptedFlag = false;

/** Set on SIGINT/SIGTERM: loops stop sending and nothing more is reported. */
export const interrupted = (): boolean => interruptedFlag;

/** Cleanups still to run (latest first). */
const pending = new Set<() => Promise<void>>();

/** Registers `step`; returns a function that runs it (once) and unregisters it. */
export function cleanupStep(step: () => Promise<unknown>): () => Promise<void> {
  let done: Promise<void> | undefined;
  const run = () => {
    pending.delete(run);
    return (done ??= step().then(() => undefined));
  };
  pending.add(run);
  return run;
}

export async function runPendingCleanups(): Promise<void> {
  for (const step of [...pending].reverse()) await step().catch((error: unknown) => console.error('cleanup:', error));
}

/**
 * Runs a bench's main: exits with its code; on an error prints it and exits 1; on SIGINT/SIGTERM
 * runs the pending cleanups and exits 130. Cleanups still pending at the end run before exiting.
 */
export function runMain(main: () => Promise<number>): void {
  const onSignal = (signal: NodeJS.Signals) => {
    interruptedFlag = true;
    console.error(`\n${signal}: cleaning up`);
    void runPendingCleanups().finally(() => process.exit(130));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  main().then(
    (code) => runPendingCleanups().finally(() => process.exit(code)),
    (error: unknown) => {
      if (interruptedFlag) return; // the signal handler exits once the cleanups ran
      console.error('benchmark failed:', error instanceof Error ? (error.stack ?? error.message) : error);
      void runPendingCleanups().finally(() => process.exit(1));
    },
  );
}
