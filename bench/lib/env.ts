/** Reading the benchmarks' numeric environment knobs (BENCH_*). */

export interface NumberRange {
  min?: number;
  max?: number;
  /** Whole numbers only (counts); durations may be fractional. */
  integer?: boolean;
}

/** The variable's value, or `fallback` when unset or empty; throws on anything out of range. */
export function numberFromEnv(name: string, fallback: number, { min = 0, max = Number.MAX_SAFE_INTEGER, integer = true }: NumberRange = {}): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || (integer && !Number.isInteger(value)) || value < min || value > max) {
    throw new Error(`${name} must be ${integer ? 'an integer' : 'a number'} in [${min}, ${max}], got '${raw}'`);
  }
  return value;
}
