/** Timing the targets of bench/nested-query.ts: interleaved rounds, and an optional CPU profile. */
import fs from 'node:fs';
import { sleep } from '../lib/clock.js';
import type { LoadGenerator } from '../lib/load.js';
import { Distribution } from '../lib/stats.js';
import { fixed, printTable } from '../lib/table.js';
import { startProfile } from '../stream-fanout/profile.js';

export interface Target {
  name: string;
  url: string;
  /** The verified response: every response must be exactly this. */
  expectBody: string;
  statementCount(): number;
}

export interface Measurement {
  name: string;
  requests: number;
  rps: number;
  p50: number;
  p99: number;
  statementsPerRequest: number;
}

export interface Timing {
  seconds: number;
  warmupSeconds: number;
  rounds: number;
  connections: number;
}

/**
 * Waits until a counter has stopped moving for 60 ms: autocannon drops the requests still in
 * flight when it stops, but the server finishes them, and their statements belong to this slice
 * (not to the next target's).
 */
async function settled(counter: () => number): Promise<void> {
  let last = counter();
  for (let quiet = 0; quiet < 3; ) {
    await sleep(20);
    const now = counter();
    quiet = now === last ? quiet + 1 : 0;
    last = now;
  }
}

/**
 * Warms every target up, then measures them in `rounds` interleaved slices of seconds / rounds
 * each (the starting target rotating per round), so that a slow drift of the machine's speed
 * (other work, CPU steal) is shared by all targets instead of landing on one of them.
 */
export async function measureAll(load: LoadGenerator, targets: Target[], body: string, timing: Timing): Promise<Measurement[]> {
  const { connections } = timing;
  for (const target of targets) {
    if (timing.warmupSeconds <= 0) break;
    const warm = await load.run({ url: target.url, body, seconds: timing.warmupSeconds, connections, expectBody: target.expectBody });
    if (warm.failures) throw new Error(`${target.name}: ${warm.failures} failed requests during warm-up (first: ${warm.firstFailure})`);
  }
  const totals = targets.map(() => ({ latencies: new Distribution(), inWindow: 0, windowMs: 0, sent: 0, statements: 0 }));
  for (let round = 0; round < timing.rounds; round++) {
    for (let k = 0; k < targets.length; k++) {
      const index = (round + k) % targets.length;
      const target = targets[index]!;
      const before = target.statementCount();
      const result = await load.run({ url: target.url, body, seconds: timing.seconds / timing.rounds, connections, expectBody: target.expectBody });
      const total = totals[index]!;
      await settled(target.statementCount);
      total.statements += target.statementCount() - before;
      if (result.failures) throw new Error(`${target.name}: ${result.failures} failed requests (first: ${result.firstFailure})`);
      total.latencies.recordAll(result.latencies);
      total.inWindow += result.inWindow;
      total.sent += result.sent;
      total.windowMs += result.windowMs;
    }
  }
  return targets.map((target, index) => {
    const total = totals[index]!;
    return {
      name: target.name,
      requests: total.latencies.count,
      // Completions inside the windows per second: the drain after each window is not counted.
      rps: total.inWindow / (total.windowMs / 1000),
      p50: total.latencies.percentile(50),
      p99: total.latencies.percentile(99),
      // Every request sent reached the server, also those autocannon dropped when it stopped.
      statementsPerRequest: total.statements / total.sent,
    };
  });
}

export function printMeasurements(rows: Measurement[]): void {
  printTable(
    ['target', 'requests', 'req/s', 'p50 ms', 'p99 ms', 'SQL stmts/req'],
    rows.map((row) => [row.name, String(row.requests), fixed(row.rps), fixed(row.p50, 2), fixed(row.p99, 2), fixed(row.statementsPerRequest, 2)]),
  );
}

/**
 * BENCH_PROFILE=1: a CPU profile of this thread (the GraphQL server's; the load generator has
 * its own) while `target` alone is under load, printed as top-N tables; with BENCH_PROFILE_FILE
 * also written there as a .cpuprofile (Chrome DevTools, speedscope).
 */
export async function profileTarget(load: LoadGenerator, target: Target, body: string, seconds: number, connections: number, title: string): Promise<void> {
  const profiling = await startProfile();
  const result = await load.run({ url: target.url, body, seconds, connections, expectBody: target.expectBody });
  const profile = await profiling.stop(`${title}, ${result.inWindow} requests in ${seconds} s`);
  if (result.failures) throw new Error(`${target.name}: ${result.failures} failed requests while profiling (first: ${result.firstFailure})`);
  const file = process.env.BENCH_PROFILE_FILE;
  if (profile && file) {
    fs.writeFileSync(file, JSON.stringify(profile));
    console.log(`profile written to ${file}`);
  }
}
