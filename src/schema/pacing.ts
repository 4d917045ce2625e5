import { performance } from 'node:perf_hooks';

/**
 * Keeps the execution of a large response from holding the event loop (issue 13). Once a level of
 * a nested list is loaded, graphql completes every item of that level synchronously: thousands of
 * them for the largest query the cost limit admits, one block of a quarter of a second. List
 * resolvers `await pace()` before they return: while the current slice of the loop's time is
 * under SLICE_MS, nothing waits (undefined); past it, the resolver waits its turn in a queue that
 * releases a batch per turn of the event loop (setImmediate), so timers, sockets and other
 * requests run between batches.
 *
 * A slice begins at the first pace() of a turn. The batch adapts: a turn that released `n`
 * waiters and took `t` ms until the next turn sets the next batch to about n × SLICE_MS / t.
 * Waiters are released in the order they came (one queue for the process: it paces the loop).
 */
const SLICE_MS = 5;
const MAX_BATCH = 1024;

const waiting: Array<() => void> = [];
let turnScheduled = false;
let sliceStart = 0;
let released = 0;
let batch = 16;

export function pace(): Promise<void> | undefined {
  const now = performance.now();
  if (!turnScheduled) {
    turnScheduled = true;
    sliceStart = now;
    setImmediate(turn);
    return undefined;
  }
  if (waiting.length === 0 && now - sliceStart < SLICE_MS) return undefined;
  return new Promise((resolve) => waiting.push(resolve));
}

function turn() {
  const now = performance.now();
  if (released > 0) batch = Math.max(1, Math.min(batch * 2, MAX_BATCH, Math.floor((released * SLICE_MS) / Math.max(now - sliceStart, 0.1))));
  released = 0;
  turnScheduled = waiting.length > 0;
  if (!turnScheduled) return;
  sliceStart = now;
  setImmediate(turn);
  const next = waiting.splice(0, batch);
  released = next.length;
  for (const resolve of next) resolve();
}
