import type { Stats } from './stats.js';

/** A number with `digits` decimals, or '-' when it is not finite. */
export const fixed = (value: number, digits = 1): string => (Number.isFinite(value) ? value.toFixed(digits) : '-');

/** A plain-text table: the first column left-aligned, the others right-aligned. */
export function printTable(header: string[], rows: string[][]): void {
  const widths = header.map((title, i) => Math.max(title.length, ...rows.map((row) => (row[i] ?? '').length)));
  const format = (cells: string[]) => cells.map((cell, i) => (i === 0 ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!))).join('  ');
  console.log(format(header));
  console.log(widths.map((width) => '-'.repeat(width)).join('  '));
  for (const row of rows) console.log(format(row));
}

/** Header and rows of a latency table (Stats in ms). */
export const STAT_HEADER = ['ms', 'n', 'p50', 'p99', 'max', 'mean'];
export const statRow = (name: string, s: Stats, digits = 1): string[] => [name, String(s.n), fixed(s.p50, digits), fixed(s.p99, digits), fixed(s.max, digits), fixed(s.mean, digits)];
