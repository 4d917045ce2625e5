/**
 * The server under test of bench/isolation.ts, in a process of its own so that the event-loop
 * delay measured is the server's alone (the load generator and the model live in the parent).
 * Started with fork(); configured by its environment; answers IPC messages:
 *   { type: 'stats', reset?: boolean } → { type: 'stats', p50, p99, max (ms), rss (bytes), poolTasks, stalls (spans over 35 ms since the last stats) }
 *   { type: 'close' } → closes and exits.
 */
import { writeFileSync } from 'node:fs';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { recordStalls, type Span } from './lib/stalls.js';
import { closeAppContext, createAppContext } from '../src/app.js';
import { loadConfig } from '../src/config.js';
import { createLogger } from '../src/logger.js';
import { startServer } from '../src/server.js';

const config = loadConfig({ HOST: '127.0.0.1', PORT: '0', LOG_LEVEL: 'warn', AUTH_MODE: 'disabled', ...process.env });
const app = await createAppContext(config, createLogger(config));
const server = await startServer(app);
const loop = monitorEventLoopDelay({ resolution: 5 });
loop.enable();

// The stalls over 35 ms, on the monotonic clock (bench/lib/clock.ts): the bench lays them over the
// gaps between deltas it saw, and with BENCH_CPU_PROF they are written next to the profile (in its
// clock, microseconds), to find in the profile what ran then.
const stalls = recordStalls(35);
const allStalls: Span[] = [];

process.on('message', (message: { type: string; reset?: boolean }) => {
  if (message.type === 'stats') {
    const ms = (ns: number) => ns / 1e6;
    const spans = stalls.take();
    allStalls.push(...spans);
    process.send!({ type: 'stats', p50: ms(loop.percentile(50)), p99: ms(loop.percentile(99)), max: ms(loop.max), rss: process.memoryUsage().rss, poolTasks: app.runtime.pool.stats().completed, stalls: spans });
    if (message.reset) loop.reset();
  }
  if (message.type === 'close') {
    void (async () => {
      loop.disable();
      allStalls.push(...stalls.take());
      if (process.env.BENCH_CPU_PROF) writeFileSync(`${process.env.BENCH_CPU_PROF}/stalls-${process.pid}.json`, JSON.stringify(allStalls.map(([start, end]) => [Math.round(start * 1000), Math.round(end * 1000)])));
      await server.close();
      await closeAppContext(app);
      process.exit(0);
    })();
  }
});
process.send!({ type: 'ready', url: server.url });
// A parent that died without sending 'close' (a failed bench) must not leave the server running.
process.on('disconnect', () => process.exit(1));
