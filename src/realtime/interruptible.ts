/**
 * Async iteration that ends when its consumer leaves. An async generator's return() waits for the
 * generator's pending await, so a subscriber that leaves while nothing happens would linger (with
 * its Redis channel or stream reader) until the next event. These end such waits at once.
 */

export const STOPPED = Symbol('stopped');

/** Set by the consumer's return() (see `interruptible`): ends the current wait with STOPPED. */
export class Interrupt {
  stopped = false;
  private onStop: (() => void) | undefined;

  /** What stop() ends: the current wait (each wait sets its own, and clears it when it ends). */
  set(onStop: (() => void) | undefined): void {
    this.onStop = onStop;
  }

  stop(): void {
    this.stopped = true;
    const onStop = this.onStop;
    this.onStop = undefined;
    onStop?.();
  }

  /** The step's outcome, or STOPPED if stop() comes first. */
  race<T>(step: Promise<T>): Promise<T | typeof STOPPED> {
    if (this.stopped) return Promise.resolve(STOPPED);
    return new Promise<T | typeof STOPPED>((resolve, reject) => {
      this.set(() => resolve(STOPPED));
      step.then(resolve, reject);
    });
  }
}

/** A generator whose return() and throw() first stop its current wait. */
export function interruptible<T>(make: (interrupt: Interrupt) => AsyncGenerator<T>): AsyncGenerator<T> {
  const interrupt = new Interrupt();
  const inner = make(interrupt);
  const outer: AsyncGenerator<T> = {
    [Symbol.asyncIterator]: () => outer,
    next: (...args) => inner.next(...args),
    return: (value) => {
      interrupt.stop();
      return inner.return(value);
    },
    throw: (error) => {
      interrupt.stop();
      return inner.throw(error);
    },
  };
  return outer;
}

/** The source's events up to and including the first for which `last` holds; ends at once when the consumer leaves. */
export function takeUntil<T>(source: AsyncIterable<T>, last: (event: T) => boolean): AsyncGenerator<T> {
  return interruptible(async function* (interrupt) {
    const iterator = source[Symbol.asyncIterator]();
    try {
      for (;;) {
        const step = await interrupt.race(iterator.next());
        if (step === STOPPED || step.done) return;
        yield step.value;
        if (last(step.value)) return;
      }
    } finally {
      await iterator.return?.();
    }
  });
}
