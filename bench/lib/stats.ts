import { createHistogram, type RecordableHistogram } from 'node:perf_hooks';

/** Summary of durations, in milliseconds (NaN when nothing was recorded). */
export interface Stats {
  n: number;
  p50: number;
  p99: number;
  max: number;
  mean: number;
}

/**
 * The benchmarks' one percentile implementation: durations in milliseconds are recorded as
 * integer nanoseconds into a perf_hooks (HDR) histogram with 3 significant figures, so every
 * figure is within 0.1% of the exact order statistic and all benches round the same way.
 * A histogram holds positive integers only: a duration ≤ 0 (a clock read twice in the same
 * nanosecond) counts as 1 ns.
 */
export class Distribution {
  private readonly histogram: RecordableHistogram = createHistogram();

  record(ms: number): void {
    this.histogram.record(Math.max(1, Math.round(ms * 1e6)));
  }

  recordAll(values: Iterable<number>): this {
    for (const value of values) this.record(value);
    return this;
  }

  get count(): number {
    return this.histogram.count;
  }

  /** The value (ms) at or below which `p` percent of the recorded values lie. */
  percentile(p: number): number {
    return this.count ? this.histogram.percentile(p) / 1e6 : NaN;
  }

  stats(): Stats {
    const n = this.count;
    if (!n) return { n, p50: NaN, p99: NaN, max: NaN, mean: NaN };
    return { n, p50: this.percentile(50), p99: this.percentile(99), max: this.histogram.max / 1e6, mean: this.histogram.mean / 1e6 };
  }
}

/** Stats of a list of durations in milliseconds. */
export const stats = (values: Iterable<number>): Stats => new Distribution().recordAll(values).stats();
