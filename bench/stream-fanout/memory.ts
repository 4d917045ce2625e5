/** The server thread's memory after a forced GC, and the per-subscription table. */
import v8 from 'node:v8';
import vm from 'node:vm';
import { sleep } from '../lib/clock.js';
import { fixed } from '../lib/table.js';

let gcFunction: (() => void) | undefined;
/** A forced full GC (the server is in this thread; `--expose-gc` is set at run time). */
export function gc(): void {
  if (!gcFunction) {
    v8.setFlagsFromString('--expose-gc');
    gcFunction = vm.runInNewContext('gc') as () => void;
  }
  gcFunction();
}

export interface Memory {
  heap: number;
  external: number;
  rss: number;
}

export async function settledMemory(): Promise<Memory> {
  for (let i = 0; i < 4; i++) {
    gc();
    await sleep(30);
  }
  const usage = process.memoryUsage();
  return { heap: usage.heapUsed, external: usage.external, rss: usage.rss };
}

export interface MemoryRow {
  name: string;
  count: number;
  before: Memory;
  after: Memory;
  /** After closing them all (leak check). */
  closed?: Memory;
}

export const kbPer = (bytes: number, count: number) => fixed(bytes / count / 1024, 1);
export const heapPlusExternalKb = (row: MemoryRow) => (row.after.heap + row.after.external - row.before.heap - row.before.external) / row.count / 1024;

export function memoryRows(rows: MemoryRow[]): string[][] {
  return rows.map((row) => [
    row.name,
    String(row.count),
    kbPer(row.after.heap - row.before.heap, row.count),
    kbPer(row.after.external - row.before.external, row.count),
    fixed(heapPlusExternalKb(row)),
    kbPer(row.after.rss - row.before.rss, row.count),
    row.closed ? fixed((row.closed.heap - row.before.heap) / 1024 / 1024, 1) : '-',
  ]);
}
