/**
 * The nested-query phase of bench/isolation.ts alone, quickly: the server in this process, 40
 * agents sharing 5 blocks, then the query with `first: n` on each of its five lists (n the
 * largest the cost limit admits), BENCH_ROUNDS times (default 5). Per round: the wall time, the
 * longest event-loop block seen by a 1 ms timer and monitorEventLoopDelay's max, and whether the
 * answer equals the first round's.
 *
 *   npx tsx bench/isolation-nested.ts            embedded mode (in-memory PGlite)
 *   DATABASE_URL=... REDIS_URL=... npx tsx bench/isolation-nested.ts     services mode (a fresh schema, dropped at the end)
 *
 * BENCH_CPU_PROF=<file> writes a CPU profile (node:inspector) of the rounds to that file.
 */
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import os from 'node:os';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { closeServer, modeEnv, openServer } from './lib/server.js';

const QUERY = `query NestedEveryList($n: Int) { agents(first: $n) { edges { node { id blocks(first: $n) { id agents(first: $n) { id blocks(first: $n) { id agents(first: $n) { id } } } } } } } }`;
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);

const mode = process.env.DATABASE_URL || process.env.REDIS_URL ? 'services' : 'embedded';
const { env, schemaUrl } = modeEnv(mode);
const { app, server } = await openServer(env);

type Result = { data?: unknown; errors?: Array<{ extensions?: { code?: string } }> };
const post = async (query: string, variables?: Record<string, unknown>): Promise<Result> => {
  const response = await fetch(server.url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query, variables }) });
  return (await response.json()) as Result;
};
const ok = async <T>(query: string, variables?: Record<string, unknown>): Promise<T> => {
  const result = await post(query, variables);
  if (result.errors?.length || !result.data) throw new Error(JSON.stringify(result.errors));
  return result.data as T;
};

const blockIds: string[] = [];
for (let i = 0; i < 5; i++) blockIds.push((await ok<{ createBlock: { block: { id: string } } }>(`mutation($l: String!) { createBlock(input: { label: $l, value: "shared" }) { block { id } } }`, { l: `shared_${i}` })).createBlock.block.id);
for (let i = 0; i < 40; i++) await ok(`mutation { createAgent(input: { model: "test/scripted", blockIds: ${JSON.stringify(blockIds)} }) { agent { id } } }`);
let admitted = 0;
for (let low = 1, high = 100; low <= high; ) {
  const n = Math.floor((low + high) / 2);
  const code = (await post(QUERY, { n })).errors?.[0]?.extensions?.code;
  if (code === 'QUERY_TOO_COSTLY') high = n - 1;
  else if (code) throw new Error(`first: ${n}: ${code}`);
  else (admitted = n), (low = n + 1);
}

const profiler = process.env.BENCH_CPU_PROF ? new Session() : undefined;
if (profiler) {
  profiler.connect();
  await profiler.post('Profiler.enable');
  await profiler.post('Profiler.setSamplingInterval', { interval: 100 });
  await profiler.post('Profiler.start');
}
console.log(`nested query, ${mode} mode, first: ${admitted}; load ${os.loadavg().map((value) => value.toFixed(1)).join(' ')}`);
let first: string | undefined;
for (let round = 0; round < ROUNDS; round++) {
  const loop = monitorEventLoopDelay({ resolution: 1 });
  loop.enable();
  let longest = 0;
  let last = performance.now();
  const timer = setInterval(() => {
    const now = performance.now();
    longest = Math.max(longest, now - last);
    last = now;
  }, 1);
  const started = performance.now();
  const text = JSON.stringify(await post(QUERY, { n: admitted }));
  const ms = performance.now() - started;
  await new Promise((resolve) => setTimeout(resolve, 20));
  clearInterval(timer);
  loop.disable();
  first ??= text;
  const ids = text.match(/"id"/g)?.length ?? 0;
  console.log(`  round ${round + 1}: ${ms.toFixed(0)} ms, ${ids} ids, longest block ${longest.toFixed(1)} ms (loop max ${(loop.max / 1e6).toFixed(1)} ms), ${text === first ? 'same answer' : 'DIFFERENT ANSWER'}`);
}
if (profiler) {
  const { profile } = await profiler.post('Profiler.stop');
  writeFileSync(process.env.BENCH_CPU_PROF!, JSON.stringify(profile));
  profiler.disconnect();
}
await closeServer({ app, server }, schemaUrl);
