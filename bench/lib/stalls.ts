import { nowMs } from './clock.js';

/** A span of time, [start, end] in milliseconds on the monotonic clock (bench/lib/clock.ts). */
export type Span = [number, number];

/**
 * Records the spans in which this thread's event loop did not run a 5 ms interval timer for more
 * than `overMs` (a block, or the process not being scheduled). Spans are on the monotonic clock,
 * so that those of two processes can be laid over each other (which process held up a stream).
 */
export function recordStalls(overMs = 35): { take(): Span[]; stop(): void } {
  let spans: Span[] = [];
  let last = nowMs();
  const timer = setInterval(() => {
    const at = nowMs();
    if (at - last > overMs) spans.push([last + 5, at]);
    last = at;
  }, 5);
  timer.unref();
  return {
    take: () => spans.splice(0),
    stop: () => clearInterval(timer),
  };
}

/** How much of `span` the `others` cover (ms; they may overlap each other only when from two sources). */
export function covered(span: Span, others: readonly Span[]): number {
  let total = 0;
  for (const [start, end] of others) total += Math.max(0, Math.min(end, span[1]) - Math.max(start, span[0]));
  return total;
}
