/** One mode (embedded or services) of the fan-out bench: every scenario, its checks and its tables. */
import { performance, monitorEventLoopDelay } from 'node:perf_hooks';
import type { Worker } from 'node:worker_threads';
import { cleanupStep, interrupted } from '../lib/cleanup.js';
import { nowMs, sleep } from '../lib/clock.js';
import { numberFromEnv } from '../lib/env.js';
import { graphql } from '../lib/graphql.js';
import { BENCH_SERVER_ENV, closeServer, modeEnv, openServer, type BenchServer, type Mode } from '../lib/server.js';
import { stats } from '../lib/stats.js';
import { fixed, printTable, STAT_HEADER, statRow } from '../lib/table.js';
import { startTsWorker, type Peer } from '../lib/workers.js';
import { BaselineServer, framesOf, type Frame } from './baseline.js';
import { memoryRows, settledMemory, type MemoryRow } from './memory.js';
import { costCells, ingest, latencies, measureCost, tapAppends, throughput, type Scenario } from './measure.js';
import type { Clients, ModelWorker } from './peers.js';
import { startHeapSampling, startProfile } from './profile.js';
import { CHUNK_SIZE, type ClientResults, type FromInstance, type ToInstance } from './protocol.js';

/** Server ping interval: a waiting subscriber's first ping proves its subscription is live. */
const PING_MS = 1000;
const WARMUP_SUBSCRIBERS = 50;
const WARMUP_CHUNKS = 200;
const IDLE_WINDOW_MS = 2000;

const CREATE_AGENT = 'mutation ($input: CreateAgentInput!) { createAgent(input: $input) { agent { id } } }';
const SEND_ASYNC = 'mutation ($input: SendMessageAsyncInput!) { sendMessageAsync(input: $input) { run { id } } }';
const RUN = 'query ($id: ID!) { run(id: $id) { status stopReason } }';

/** hold: the model waits for release(); tool-then-hold: a tool-call step first, then the held text step. */
async function startRun(url: string, agentId: string, chunks: number, delayMs: number, how: 'hold' | 'go' | 'tool-then-hold'): Promise<string> {
  const data = await graphql<{ sendMessageAsync: { run: { id: string } } }>(url, SEND_ASYNC, {
    input: { agentId, input: `bench ${chunks} ${delayMs} ${how}` },
  });
  return data.sendMessageAsync.run.id;
}

async function waitRunEnded(url: string, runId: string, timeoutMs = 30_000): Promise<{ status: string; stopReason: string | null }> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const { run } = await graphql<{ run: { status: string; stopReason: string | null } }>(url, RUN, { id: runId });
    if (!['CREATED', 'RUNNING'].includes(run.status) || Date.now() > deadline) return run;
    await sleep(50);
  }
}

export interface ModeResult {
  mode: Mode;
  scenarios: Scenario[];
  memory: MemoryRow[];
  failures: string[];
  live: Scenario;
  started: Scenario;
  baselinePaced: Scenario;
  replay: Scenario;
  burst: Scenario;
  twoInstances?: Scenario;
}

export async function runMode(mode: Mode, model: ModelWorker, clients: Clients): Promise<ModeResult> {
  const N = numberFromEnv('BENCH_SUBSCRIBERS', 500, { min: 1 });
  const DELTAS = numberFromEnv('BENCH_DELTAS', 2000, { min: 1, max: 36 ** CHUNK_SIZE });
  const CHUNK_DELAY_MS = numberFromEnv('BENCH_CHUNK_DELAY_MS', 2, { max: 10_000 });
  const liveTimeoutMs = 60_000 + DELTAS * (CHUNK_DELAY_MS + 2) * 3;

  const { env: databaseEnv, schemaUrl, redisUrl } = modeEnv(mode);
  const env = {
    ...BENCH_SERVER_ENV,
    LLM_PROVIDERS: JSON.stringify([{ name: 'test', baseUrl: model.url }]),
    RUN_EVENT_PING_MS: String(PING_MS),
    ...databaseEnv,
  };

  const failures: string[] = [];
  const failed = (message: string) => {
    failures.push(message);
    console.error(`FAILED: ${message}`);
  };
  const check = (name: string, r: ClientResults, run?: { status: string; stopReason: string | null }) => {
    if (r.failed) failed(`${mode} ${name}: ${r.failed}/${r.subscribers} subscribers failed; ${r.failures.join('; ')}`);
    if (run && (run.status !== 'COMPLETED' || run.stopReason !== 'END_TURN')) failed(`${mode} ${name}: run ended ${run.status} (${run.stopReason})`);
  };

  const opened: Partial<BenchServer> = {};
  let baseline: BaselineServer | undefined;
  let instanceB: { worker: Worker; peer: Peer<FromInstance, ToInstance> } | undefined;
  let redis: import('ioredis').Redis | undefined;
  const release = cleanupStep(async () => {
    if (instanceB) {
      const closed = instanceB.peer.next('closed', undefined, 15_000).catch(() => undefined);
      instanceB.peer.send({ type: 'close' });
      await closed;
      await instanceB.worker.terminate();
    }
    await baseline?.close().catch((error: unknown) => console.error('baseline close:', error));
    model.release(); // a held run must not keep closeAppContext waiting
    redis?.disconnect();
    await closeServer(opened, schemaUrl);
  });

  try {
    Object.assign(opened, await openServer(env));
    const { app, server } = opened as BenchServer;
    const url = server.url;
    const wsUrl = url.replace(/^http/, 'ws');
    const appends = tapAppends(app.runtime.streams);
    if (redisUrl) {
      const { Redis } = await import('ioredis');
      redis = new Redis(redisUrl, { lazyConnect: true, maxRetriesPerRequest: 1 });
      await redis.connect();
    }
    const redisCommands = async () => (redis ? Number(/total_commands_processed:(\d+)/.exec(await redis.info('stats'))?.[1] ?? NaN) : NaN);
    console.log(
      `\n=== ${mode} mode: ${app.db.kind} database, ${app.runtime.streams.kind} run streams${schemaUrl ? ` (schema ${new URL(schemaUrl).searchParams.get('schema')})` : ''}; ` +
        `server ${url}; ${N} subscribers, ${DELTAS} chunks of ${CHUNK_SIZE} characters every ${CHUNK_DELAY_MS} ms`,
    );
    const agentId = (
      await graphql<{ createAgent: { agent: { id: string } } }>(url, CREATE_AGENT, {
        input: { name: 'fan-out agent', model: 'test/scripted', memoryBlocks: [{ label: 'human', value: 'A benchmark.' }] },
      })
    ).createAgent.agent.id;

    /** Starts a run and waits until its (text) request is held at the model. */
    const startHeldRun = async (chunks: number, delayMs: number, how: 'hold' | 'tool-then-hold') => {
      const held = model.peer.next('held', undefined, 60_000);
      const runId = await startRun(url, agentId, chunks, delayMs, how);
      if (!(await held)) throw new Error(`run ${runId} did not reach the model within 60 s (status ${(await waitRunEnded(url, runId, 0)).status})`);
      return runId;
    };

    // ---- warm-up: the same paths (waiting for a held run, then live), fewer subscribers ----
    {
      const runId = await startHeldRun(WARMUP_CHUNKS, 1, 'hold');
      const group = await clients.connect('graphql', [wsUrl], Math.min(WARMUP_SUBSCRIBERS, N));
      await clients.subscribe(group, runId, 0, 1, 60_000);
      const done = clients.waitDone(group, 60_000);
      model.release();
      await done;
      const run = await waitRunEnded(url, runId);
      const r = await clients.results(group, { lastSeq: appends(runId).lastSeq, chunks: WARMUP_CHUNKS });
      check('warm-up', r, run);
      await clients.dispose(group);
      await model.take();
    }
    if (interrupted()) throw new Error('interrupted');

    const memory: MemoryRow[] = [];
    const scenarios: Scenario[] = [];

    // ---- 1. idle subscriptions to a held run, then 2. the live fan-out ----
    const liveRun = await startHeldRun(DELTAS, CHUNK_DELAY_MS, 'hold');
    const idleBefore = await settledMemory();
    const heapSampling = await startHeapSampling();
    const liveGroup = await clients.connect('graphql', [wsUrl], N);
    const attached = await clients.subscribe(liveGroup, liveRun, 0, 1, 120_000);
    await heapSampling.stop(`${N} graphql-ws clients subscribed to a held run`, N);
    if (!attached) failed(`${mode} live: not every subscriber received a ping within 120 s of subscribing`);
    // The idle wait's cost.
    {
      const cpu = process.cpuUsage();
      const elu = performance.eventLoopUtilization();
      const statements = app.db.statementCount();
      const commands = await redisCommands();
      const profile = await startProfile();
      const start = nowMs();
      await sleep(IDLE_WINDOW_MS);
      const seconds = (nowMs() - start) / 1000;
      await profile.stop(`${N} subscribers waiting for a held run (${IDLE_WINDOW_MS} ms)`);
      const used = process.cpuUsage(cpu);
      const sql = (app.db.statementCount() - statements) / seconds;
      const redisRate = ((await redisCommands()) - commands) / seconds;
      console.log(
        `idle wait, ${N} subscribers of a run that has not streamed yet: process CPU ${fixed((100 * (used.user + used.system)) / 1e6 / seconds, 0)}% of a core, ` +
          `server event loop ${fixed(100 * performance.eventLoopUtilization(elu).utilization, 0)}% busy, ${fixed(sql, 0)} SQL statements/s` +
          (redis ? `, ${fixed(redisRate, 0)} Redis commands/s` : ''),
      );
    }
    const idleAfter = await settledMemory();
    memory.push({ name: 'GraphQL: 1 connection + 1 subscription each', count: N, before: idleBefore, after: idleAfter });

    await model.take();
    const live = clients.waitDone(liveGroup, liveTimeoutMs);
    const delay = monitorEventLoopDelay({ resolution: 10 });
    delay.enable();
    const elu = performance.eventLoopUtilization();
    const cpu = process.cpuUsage();
    const liveCost = await measureCost(clients);
    const profile = await startProfile();
    const liveStart = nowMs();
    model.release();
    if (!(await live)) failed(`${mode} live: subscribers still open ${liveTimeoutMs / 1000} s after the release`);
    const liveSeconds = (nowMs() - liveStart) / 1000;
    await profile.stop(`live fan-out to ${N} subscribers`);
    delay.disable();
    const liveCpu = process.cpuUsage(cpu);
    const liveCostResult = await liveCost();
    const liveElu = performance.eventLoopUtilization(elu).utilization;
    const liveRunEnd = await waitRunEnded(url, liveRun);
    const { emits, mismatches } = await model.take();
    if (mismatches) failed(`${mode} live: the model worker saw ${mismatches} unexpected chunks`);
    if (emits.length !== DELTAS) failed(`${mode} live: the model wrote ${emits.length} chunks, not ${DELTAS}`);
    const liveAppends = appends(liveRun);
    const liveResults = await clients.results(liveGroup, { lastSeq: liveAppends.lastSeq, chunks: DELTAS });
    check('live', liveResults, liveRunEnd);
    await clients.dispose(liveGroup);
    memory[0]!.closed = await settledMemory();
    const liveScenario: Scenario = {
      name: 'GraphQL live (graphql-ws)',
      results: liveResults,
      eventsPerSecond: throughput(liveResults),
      latency: latencies(liveResults, emits, liveAppends.records, liveStart),
      cost: liveCostResult,
    };
    scenarios.push(liveScenario);
    const stages = ingest(emits, liveAppends.records);
    console.log(
      `live: the run stored ${liveAppends.lastSeq} events (${[...liveAppends.records.values()].filter((record) => record.first >= 0).length} ASSISTANT deltas for ${DELTAS} chunks); ` +
        `${fixed(liveSeconds, 2)} s from release to the last completion; process CPU ${fixed((100 * (liveCpu.user + liveCpu.system)) / 1e6 / liveSeconds, 0)}% of a core, ` +
        `client process CPU ${fixed((100 * liveCostResult.clientMicros) / 1e6 / liveCostResult.seconds, 0)}% of a core, load average ${fixed(liveCostResult.load, 1)}; ` +
        `server event loop ${fixed(100 * liveElu, 0)}% busy, delay p50 ${fixed(delay.percentile(50) / 1e6)} ms, p99 ${fixed(delay.percentile(99) / 1e6)} ms, max ${fixed(delay.max / 1e6)} ms`,
    );
    printTable(STAT_HEADER, [
      statRow('model emit (earliest chunk) → client, per delta [target]', liveScenario.latency!.e2e),
      statRow('  deltas of the first 10% of the chunks', liveScenario.latency!.early),
      statRow('  deltas of the other 90%', liveScenario.latency!.late),
      statRow('model emit (latest chunk) → client, per delta', liveScenario.latency!.e2eLatest),
      statRow('  ingest: model emit (earliest) → append, per delta*', stages.window),
      statRow('  store: append called → resolved, per append', stages.store),
      statRow('  fan-out: append called → client, per event', liveScenario.latency!.fanout),
    ]);
    console.log('  * includes the coalescing window (DELTA_WINDOW_MS = 15 ms, src/services/run-events.ts) and the SDK stream parsing');

    // ---- 2b. the same, subscribed to a run that has already stored events (no wait loop) ----
    let started: Scenario;
    {
      const runId = await startHeldRun(DELTAS, CHUNK_DELAY_MS, 'tool-then-hold');
      // Step 1's events are appended asynchronously: wait until they are stored.
      for (let i = 0; i < 200 && appends(runId).lastSeq === 0; i++) await sleep(25);
      const before = await settledMemory();
      const group = await clients.connect('graphql', [wsUrl], N);
      if (!(await clients.subscribe(group, runId, 0, 1, 120_000))) failed(`${mode} started run: not every subscriber got a ping within 120 s`);
      memory.push({ name: 'GraphQL: 1 connection + 1 subscription each, run already started (silent)', count: N, before, after: await settledMemory() });
      await model.take();
      const done = clients.waitDone(group, liveTimeoutMs);
      const cost = await measureCost(clients);
      const profile = await startProfile();
      const releasedAt = nowMs();
      model.release();
      if (!(await done)) failed(`${mode} started run: subscribers still open ${liveTimeoutMs / 1000} s after the release`);
      const costResult = await cost();
      await profile.stop(`live fan-out to ${N} subscribers of a run that had already started`);
      const run = await waitRunEnded(url, runId);
      const taken = await model.take();
      const tapped = appends(runId);
      const r = await clients.results(group, { lastSeq: tapped.lastSeq, chunks: DELTAS });
      check('started run', r, run);
      await clients.dispose(group);
      started = { name: 'GraphQL live, subscribed after the run started', results: r, eventsPerSecond: throughput(r), latency: latencies(r, taken.emits, tapped.records, releasedAt), cost: costResult };
      scenarios.push(started);
      const stagesStarted = ingest(taken.emits, tapped.records);
      console.log(`live, subscribed after the run started (step 1 a tool call, step 2 the ${DELTAS} chunks):`);
      printTable(STAT_HEADER, [
        statRow('model emit (earliest chunk) → client, per delta', started.latency!.e2e),
        statRow('  deltas of the first 10% of the chunks', started.latency!.early),
        statRow('  deltas of the other 90%', started.latency!.late),
        statRow('  ingest: model emit (earliest) → append, per delta*', stagesStarted.window),
        statRow('  store: append called → resolved, per append', stagesStarted.store),
        statRow('  fan-out: append called → client, per event appended after the release', started.latency!.fanout),
      ]);
    }

    // ---- 3. N subscriptions on one connection ----
    {
      const chunks = 20;
      const runId = await startHeldRun(chunks, 1, 'hold');
      const before = await settledMemory();
      const group = await clients.connect('graphql', [wsUrl], 1);
      if (!(await clients.subscribe(group, runId, 0, N, 120_000))) failed(`${mode} multiplexed: not every subscriber got a ping within 120 s`);
      const after = await settledMemory();
      const done = clients.waitDone(group, 60_000);
      model.release();
      await done;
      const run = await waitRunEnded(url, runId);
      check('multiplexed', await clients.results(group, { lastSeq: appends(runId).lastSeq, chunks }), run);
      await clients.dispose(group);
      await model.take();
      memory.push({ name: `GraphQL: ${N} subscriptions on 1 connection`, count: N, before, after, closed: await settledMemory() });
    }

    // ---- 4. replay of the finished run, unpaced ----
    const replayGroup = await clients.connect('graphql', [wsUrl], N);
    const replayDone = clients.waitDone(replayGroup, 120_000);
    const replayProfile = await startProfile();
    const replayCost = await measureCost(clients);
    await clients.subscribe(replayGroup, liveRun, 0, 1, 120_000);
    await replayDone;
    const replayCostResult = await replayCost();
    await replayProfile.stop(`replay of the finished run to ${N} new subscribers`);
    const replayResults = await clients.results(replayGroup, { lastSeq: liveAppends.lastSeq, chunks: DELTAS });
    check('replay', replayResults);
    await clients.dispose(replayGroup);
    const replay: Scenario = { name: 'GraphQL replay of the finished run (after: 0), unpaced', results: replayResults, eventsPerSecond: throughput(replayResults), cost: replayCostResult };
    scenarios.push(replay);

    // ---- 5. baseline: plain ws ----
    baseline = new BaselineServer();
    await baseline.start();
    if (liveResults.sample.length === 0) throw new Error('subscriber 0 of the live run received no event: nothing to replay for the baseline');
    const { frames, complete } = framesOf(liveResults.sample, liveAppends.records);
    if (frames.length !== liveAppends.lastSeq) failed(`${mode} baseline: subscriber 0 received ${frames.length} events of ${liveAppends.lastSeq}`);
    const baselineRun = async (name: string, send: (frames: Frame[], complete: string) => Promise<Map<number, number>>, measureMemory: boolean) => {
      const before = measureMemory ? await settledMemory() : undefined;
      const group = await clients.connect('plain', [baseline!.url], N);
      await sleep(100);
      if (baseline!.clients !== N) failed(`${mode} ${name}: ${baseline!.clients} baseline clients connected of ${N}`);
      if (before) memory.push({ name: 'plain ws: 1 idle connection each', count: N, before, after: await settledMemory() });
      const done = clients.waitDone(group, 120_000);
      const cost = await measureCost(clients);
      const sentAt = await send(frames, complete);
      if (!(await done)) failed(`${mode} ${name}: baseline clients still open 120 s after the broadcast`);
      const costResult = await cost();
      const r = await clients.results(group, { lastSeq: liveAppends.lastSeq, chunks: DELTAS });
      check(name, r);
      await clients.dispose(group);
      const fanout: number[] = [];
      for (let i = 0; i < r.recv.length; i++) fanout.push(r.recv[i]! - sentAt.get(r.seq[i]!)!);
      return { name, results: r, eventsPerSecond: throughput(r), baselineLatency: stats(fanout), cost: costResult } satisfies Scenario;
    };
    const baselinePaced = await baselineRun('plain ws, the live run’s schedule', (f, c) => baseline!.paced(f, c), true);
    const burst = await baselineRun('plain ws, back to back (unpaced)', (f, c) => baseline!.burst(f, c), false);
    scenarios.push(baselinePaced, burst);
    await baseline.close();
    baseline = undefined;

    // ---- 6. two instances (services) ----
    let twoInstances: Scenario | undefined;
    if (mode === 'services') {
      // B executes no runs (RUN_WORKERS=0), so that the run is A's and its appends are the ones tapped here.
      instanceB = startTsWorker<FromInstance, ToInstance>('instance B', new URL('./instance-worker.ts', import.meta.url), { env: { ...env, RUN_WORKERS: '0' } });
      const urlB = (await instanceB.peer.expect('ready')).url;
      const runId = await startHeldRun(DELTAS, CHUNK_DELAY_MS, 'hold');
      const group = await clients.connect('graphql', [wsUrl, urlB.replace(/^http/, 'ws')], N);
      if (!(await clients.subscribe(group, runId, 0, 1, 120_000))) failed(`${mode} 2 instances: not every subscriber got a ping within 120 s`);
      await model.take();
      const done = clients.waitDone(group, liveTimeoutMs);
      const cost = await measureCost(clients);
      const releasedAt = nowMs();
      model.release();
      if (!(await done)) failed(`${mode} 2 instances: subscribers still open ${liveTimeoutMs / 1000} s after the release`);
      const costResult = await cost();
      const run = await waitRunEnded(url, runId);
      const taken = await model.take();
      const tapped = appends(runId);
      const r = await clients.results(group, { lastSeq: tapped.lastSeq, chunks: DELTAS });
      check('2 instances', r, run);
      await clients.dispose(group);
      twoInstances = { name: 'GraphQL live, 2 instances (run on A)', results: r, eventsPerSecond: throughput(r), latency: latencies(r, taken.emits, tapped.records, releasedAt), cost: costResult };
      scenarios.push(twoInstances);
      console.log(
        `2 instances: e2e p50/p99 ${fixed(twoInstances.latency!.bySubscriberParity[0].p50)}/${fixed(twoInstances.latency!.bySubscriberParity[0].p99)} ms for subscribers on A, ` +
          `${fixed(twoInstances.latency!.bySubscriberParity[1].p50)}/${fixed(twoInstances.latency!.bySubscriberParity[1].p99)} ms on B (via Redis); ` +
          `deltas of the first 10% of the chunks p99 ${fixed(twoInstances.latency!.early.p99)} ms, the other 90% p99 ${fixed(twoInstances.latency!.late.p99)} ms; ` +
          `fan-out (append called → client) p50/p99 ${fixed(twoInstances.latency!.fanout.p50)}/${fixed(twoInstances.latency!.fanout.p99)} ms`,
      );
      const closed = instanceB.peer.next('closed', undefined, 15_000).catch(() => undefined);
      instanceB.peer.send({ type: 'close' });
      await closed;
      await instanceB.worker.terminate();
      instanceB = undefined;
    }

    // ---- tables ----
    console.log(`\n${mode}: fan-out (${N} subscribers; events = non-ping events received by all subscribers)`);
    printTable(
      ['scenario', 'ok subs', 'events/sub', 'events/s', 'latency p50', 'p99', 'max', 'fan-out p50', 'p99', 'server CPU µs/event', 'server CPU', 'client CPU', 'load'],
      scenarios.map((scenario) => {
        const r = scenario.results;
        const latency = scenario.latency?.e2e;
        const fanout = scenario.latency?.fanout ?? scenario.baselineLatency;
        return [
          scenario.name,
          `${r.subscribers - r.failed}/${r.subscribers}`,
          fixed(r.events / Math.max(1, r.subscribers), 0),
          fixed(scenario.eventsPerSecond, 0),
          latency ? fixed(latency.p50) : '-',
          latency ? fixed(latency.p99) : '-',
          latency ? fixed(latency.max) : '-',
          fanout ? fixed(fanout.p50) : '-',
          fanout ? fixed(fanout.p99) : '-',
          ...costCells(scenario),
        ];
      }),
    );
    console.log(
      'latency = model emit of the earliest chunk in a delta → client (includes the 15 ms coalescing window); fan-out = append called (baseline: broadcast) → client, ms;\n' +
        'server CPU = the server process (every thread: API server(s), model worker) over the scenario, µs per delivered event and % of a core; client CPU = the client process; load = 1-min load average',
    );
    console.log(`\n${mode}: server memory per idle subscription/connection (KB; after a forced GC; RSS is the whole server process)`);
    printTable(['what', 'count', 'heap', 'external', 'heap+ext', 'rss', 'heap left after closing (MB)'], memoryRows(memory));

    return { mode, scenarios, memory, failures, live: liveScenario, started, baselinePaced, replay, burst, twoInstances };
  } finally {
    await release();
  }
}
