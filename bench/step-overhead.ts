/**
 * Agent-step overhead benchmark: how much time the server itself adds to each agent step when
 * the model answers instantly.
 *
 *   npx tsx bench/step-overhead.ts [embedded|services|both]     (default: both)
 *
 * Each mode starts the real server in this process (auth disabled, logs silent) on an ephemeral
 * port:
 *   - embedded: DATA_DIR=memory:// (in-memory PGlite, in-process event bus);
 *   - services: PostgreSQL in a fresh `bench_<random>` schema (dropped at the end) and Redis.
 *
 * The model is test/model-server (a real OpenAI-compatible SSE server) with a zero-latency
 * brain, run in a worker thread (bench/step-overhead/model-worker.ts) so that its work does not queue on the server's event loop (a
 * real model lives in another process). The brain follows a fixed two-step script per message:
 * the last prompt message is the user's → call `memory_insert` on block "human"; it is the tool
 * result → answer a short text (end_turn). So every sendMessage is exactly 2 steps. The worker
 * times each chat request from its first byte in to its last byte out ("model handling").
 *
 * Phase 1 — latency, one agent, BENCH_MESSAGES messages sent one after the other (after
 * BENCH_WARMUP messages to a separate warm-up agent). Per step:
 *   (a) stepMs − llmRequestMs  server work inside the step (cancel checks, history load, prompt
 *                              build, tool execution) as the server records it (Run.steps);
 *   (b) stepMs                 the whole step as recorded, including the local model round trip
 *                              (src/agent/loop.ts takes stepNs just before commitStep, so the
 *                              step's transaction is in neither (a) nor (b));
 *   and, from the bench's own clocks (the model worker shares the monotonic clock):
 *   (c) (sendMessage wall − model handling of its 2 requests) / 2: everything that is not the
 *       model, including what Step.stepMs leaves out (the step's commit transaction, the run's
 *       setup and finish, GraphQL), split into the gaps before, between and after the model calls.
 *   Targets (on (a)): p50 < 10 ms, p99 < 30 ms.
 *
 * Phase 2 — throughput, BENCH_AGENTS agents × BENCH_AGENT_MESSAGES messages: the agents run
 * concurrently, each agent's messages one after the other. Reports steps/s, total time and
 * errors (a run that did not complete with stop reason end_turn and 2 steps, or any request
 * error); there must be none.
 *
 * Environment:
 *   BENCH_MESSAGES        phase 1 messages (default 200)
 *   BENCH_WARMUP          warm-up messages before phase 1 (default 20)
 *   BENCH_AGENTS          phase 2 agents (default 50)
 *   BENCH_AGENT_MESSAGES  phase 2 messages per agent (default 10)
 *   BENCH_DATABASE_URL    PostgreSQL server for services mode (default DATABASE_URL without its
 *                         schema, else postgresql://postgres@127.0.0.1:5432/test)
 *   BENCH_REDIS_URL       Redis for services mode (default REDIS_URL, else redis://127.0.0.1:6379)
 *   BENCH_PROFILE=1       a CPU profile of the main thread (server and bench client) during phase 2,
 *                         printed as tables; BENCH_PROFILE_FILE=path also writes the .cpuprofile
 *
 * Exit code 0 whether the targets are met or not (a measurement); 1 when a run failed or a
 * request errored, or anything else went wrong.
 */
import fs from 'node:fs';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import type { Worker } from 'node:worker_threads';
import { cleanupStep, interrupted, runMain } from './lib/cleanup.js';
import { nowMs } from './lib/clock.js';
import { numberFromEnv } from './lib/env.js';
import { graphql } from './lib/graphql.js';
import { closeServer, machine, modeEnv, modesFromArgs, openServer, type BenchServer, type Mode } from './lib/server.js';
import { stats, type Stats } from './lib/stats.js';
import { fixed, printTable, STAT_HEADER, statRow as statRowOf } from './lib/table.js';
import { startTsWorker, type Peer } from './lib/workers.js';
import { startProfile } from './stream-fanout/profile.js';
import type { FromModel, ModelTiming, ToModel } from './step-overhead/model-worker.js';

class ModelWorker {
  private readonly worker: Worker;
  private readonly peer: Peer<FromModel, ToModel>;
  url = '';

  constructor() {
    ({ worker: this.worker, peer: this.peer } = startTsWorker<FromModel, ToModel>('model worker', new URL('./step-overhead/model-worker.ts', import.meta.url)));
  }

  async start(): Promise<void> {
    this.url = (await this.peer.expect('ready')).url;
  }

  /** Timings of the chat requests answered since the last take. */
  async take(): Promise<ModelTiming[]> {
    const reply = this.peer.expect('timings');
    this.peer.send({ type: 'take' });
    return (await reply).timings;
  }

  async close(): Promise<void> {
    const closed = this.peer.next('closed', undefined, 2000).catch(() => undefined);
    this.peer.send({ type: 'close' });
    await closed;
    await this.worker.terminate();
  }
}

/** An error's message with its cause (fetch failures carry the socket error there). */
function describe(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const cause = error.cause as { code?: string; message?: string } | undefined;
  return cause ? `${error.message} (${[cause.code, cause.message].filter(Boolean).join(': ')})` : error.message;
}

const CREATE_AGENT = 'mutation ($input: CreateAgentInput!) { createAgent(input: $input) { agent { id } } }';
const SEND = `mutation ($input: SendMessageInput!) {
  sendMessage(input: $input) {
    stopReason
    run { id status stopReason steps { stopReason stepMs llmRequestMs } }
  }
}`;

interface StepTimes {
  stopReason: string | null;
  stepMs: number | null;
  llmRequestMs: number | null;
}

interface SendResult {
  stopReason: string | null;
  run: { id: string; status: string; stopReason: string | null; steps: StepTimes[] };
}

async function createAgent(url: string, name: string): Promise<string> {
  const data = await graphql<{ createAgent: { agent: { id: string } } }>(url, CREATE_AGENT, {
    input: {
      name,
      model: 'test/scripted',
      memoryBlocks: [
        { label: 'human', value: 'Name: unknown.' },
        { label: 'persona', value: 'I am a benchmark agent; I note facts about the user.' },
      ],
    },
  });
  return data.createAgent.agent.id;
}

/** A completed 2-step run, or the reason it is not. */
function checkRun(result: SendResult): string | null {
  const { run } = result;
  if (result.stopReason !== 'END_TURN' || run.stopReason !== 'END_TURN' || run.status !== 'COMPLETED') {
    return `run ${run.id}: status ${run.status}, stop reason ${run.stopReason ?? result.stopReason}`;
  }
  if (run.steps.length !== 2) return `run ${run.id}: ${run.steps.length} steps instead of 2`;
  if (run.steps.some((step) => step.stepMs === null || step.llmRequestMs === null)) return `run ${run.id}: a step without stepMs/llmRequestMs`;
  return null;
}

/** The tool step (no stop reason) first, then the text step (end_turn). */
const orderedSteps = (steps: StepTimes[]) => [...steps].sort((a, b) => Number(a.stopReason !== null) - Number(b.stopReason !== null));

const ms = (value: number) => fixed(value, 2);
const statRow = (name: string, s: Stats) => statRowOf(name, s, 2);

/**
 * CPU time of this process (server, client and model worker together) and how busy and how late
 * the main thread's event loop was: a loop that turns rarely delays every socket's I/O.
 */
function startLoadProbe() {
  const cpu = process.cpuUsage();
  const elu = performance.eventLoopUtilization();
  const delay = monitorEventLoopDelay({ resolution: 10 });
  delay.enable();
  return {
    stop() {
      delay.disable();
      const used = process.cpuUsage(cpu);
      const utilization = performance.eventLoopUtilization(elu).utilization;
      return {
        describe: (steps: number) =>
          `process CPU ${((used.user + used.system) / 1000 / Math.max(1, steps)).toFixed(1)} ms per step; main event loop ${(100 * utilization).toFixed(0)}% busy, ` +
          `delay p50 ${(delay.percentile(50) / 1e6).toFixed(1)} ms, p99 ${(delay.percentile(99) / 1e6).toFixed(1)} ms, max ${(delay.max / 1e6).toFixed(1)} ms`,
      };
    },
  };
}

/** BENCH_PROFILE=1: the main thread's CPU profile until stop (see the header); BENCH_PROFILE_FILE also writes it. */
async function startPhaseProfile() {
  const profiling = await startProfile();
  return {
    stop: async (title: string) => {
      const profile = await profiling.stop(title);
      const file = process.env.BENCH_PROFILE_FILE;
      if (profile && file) {
        fs.writeFileSync(file, JSON.stringify(profile));
        console.log(`profile written to ${file}`);
      }
    },
  };
}

interface ModeResult {
  mode: Mode;
  overhead: Stats;
  errors: number;
  failures: string[];
}

async function runMode(mode: Mode, model: ModelWorker): Promise<ModeResult> {
  const MESSAGES = numberFromEnv('BENCH_MESSAGES', 200, { min: 1 });
  const WARMUP = numberFromEnv('BENCH_WARMUP', 20);
  const AGENTS = numberFromEnv('BENCH_AGENTS', 50, { min: 1 });
  const AGENT_MESSAGES = numberFromEnv('BENCH_AGENT_MESSAGES', 10, { min: 1 });

  const { env: databaseEnv, schemaUrl } = modeEnv(mode);

  const failures: string[] = [];
  let errors = 0;
  const fail = (message: string) => {
    errors += 1;
    if (failures.length < 5) failures.push(message);
  };

  const opened: Partial<BenchServer> = {};
  // Also run by the signal handler when the benchmark is interrupted.
  const release = cleanupStep(() => closeServer(opened, schemaUrl));
  try {
    // No rate limits: the bench starts far more runs per minute than a client would.
    const unlimited = { RATE_LIMIT_PER_MINUTE: '0', RATE_LIMIT_RUNS_PER_MINUTE: '0' };
    Object.assign(opened, await openServer({ LLM_PROVIDERS: JSON.stringify([{ name: 'test', baseUrl: model.url }]), ...unlimited, ...databaseEnv }));
    const { app, server } = opened as BenchServer;
    const url = server.url;
    console.log(
      `\n=== ${mode} mode: ${app.db.kind} database, ${app.bus.kind} event bus${schemaUrl ? ` (schema ${new URL(schemaUrl).searchParams.get('schema')})` : ''}; server ${url}`,
    );

    const send = (agentId: string, i: number) => graphql<{ sendMessage: SendResult }>(url, SEND, { input: { agentId, input: `Message ${i}: please remember this.` } });

    // ---- warm-up (JIT, connections, prepared plans) on its own agent ----
    const warmAgent = await createAgent(url, 'warm-up agent');
    for (let i = 0; i < WARMUP && !interrupted(); i++) {
      const error = checkRun((await send(warmAgent, i)).sendMessage);
      if (error) fail(`warm-up: ${error}`);
    }
    await model.take();

    // ---- phase 1: one agent, sequential messages ----
    const agentId = await createAgent(url, 'latency agent');
    await model.take();
    const wall: Array<{ start: number; end: number }> = [];
    const steps: Array<{ tool: StepTimes; text: StepTimes }> = [];
    const statementsBefore = app.db.statementCount();
    const load1 = startLoadProbe();
    const phase1Start = nowMs();
    for (let i = 0; i < MESSAGES && !interrupted(); i++) {
      const start = nowMs();
      let result: SendResult;
      try {
        result = (await send(agentId, i)).sendMessage;
      } catch (error) {
        fail(`phase 1 message ${i}: ${describe(error)}`);
        continue;
      }
      const end = nowMs();
      const problem = checkRun(result);
      if (problem) {
        fail(`phase 1 message ${i}: ${problem}`);
        continue;
      }
      const [tool, text] = orderedSteps(result.run.steps) as [StepTimes, StepTimes];
      wall.push({ start, end });
      steps.push({ tool, text });
    }
    const phase1Ms = nowMs() - phase1Start;
    const probe1 = load1.stop();
    const statements = app.db.statementCount() - statementsBefore;
    const timings = await model.take();
    if (interrupted()) throw new Error('interrupted');

    const allSteps = steps.flatMap(({ tool, text }) => [tool, text]);
    const serverWork = allSteps.map((step) => step.stepMs! - step.llmRequestMs!);
    const overhead = stats(serverWork);
    const rows: string[][] = [
      statRow('(a) server work per step: stepMs − llmRequestMs', overhead),
      statRow('    tool steps (memory_insert)', stats(steps.map(({ tool }) => tool.stepMs! - tool.llmRequestMs!))),
      statRow('    text steps (end_turn)', stats(steps.map(({ text }) => text.stepMs! - text.llmRequestMs!))),
      statRow('(b) step wall time: stepMs', stats(allSteps.map((step) => step.stepMs!))),
      statRow('    model call as the server saw it: llmRequestMs', stats(allSteps.map((step) => step.llmRequestMs!))),
    ];
    if (errors === 0 && timings.length === 2 * MESSAGES) {
      // Sequential: request 2i and 2i+1 belong to message i (tool step, then text step).
      const modelMs = timings.map((t) => t.end - t.start);
      const clientSide = allSteps.map((step, i) => step.llmRequestMs! - modelMs[i]!);
      const perStep = wall.map((w, i) => (w.end - w.start - modelMs[2 * i]! - modelMs[2 * i + 1]!) / 2);
      const before = wall.map((w, i) => timings[2 * i]!.start - w.start);
      const between = wall.map((_, i) => timings[2 * i + 1]!.start - timings[2 * i]!.end);
      const after = wall.map((w, i) => w.end - timings[2 * i + 1]!.end);
      rows.push(
        statRow('    model server handling (first byte in → last out)', stats(modelMs)),
        statRow('    llmRequestMs − model handling (SDK + HTTP client)', stats(clientSide)),
        statRow('(c) non-model time per step, all included', stats(perStep)),
        statRow('    before 1st model call (request, run setup, step 1)', stats(before)),
        statRow('    between the calls (step 1 commit, step 2 setup)', stats(between)),
        statRow('    after 2nd model call (step 2 commit, run end, reply)', stats(after)),
        statRow('sendMessage round trip (2 steps)', stats(wall.map((w) => w.end - w.start))),
      );
    }
    console.log(`\nphase 1: 1 agent, ${MESSAGES} messages sent one after the other = ${allSteps.length} steps in ${(phase1Ms / 1000).toFixed(1)} s`);
    printTable(STAT_HEADER, rows);
    if (rows.length === 5) console.log(`(no (c): ${timings.length} chat requests for ${MESSAGES} messages, ${errors} errors)`);
    const tenth = Math.max(1, Math.floor(steps.length / 10));
    const early = stats(serverWork.slice(0, 2 * tenth));
    const late = stats(serverWork.slice(-2 * tenth));
    console.log(
      `history growth (each sendMessage adds 4 messages to the context): (a) p50 ${ms(early.p50)} ms over the first ${tenth} messages, ` +
        `${ms(late.p50)} ms over the last ${tenth} (context ≈ ${4 * MESSAGES} messages longer)`,
    );
    console.log(`SQL statements through Prisma: ${(statements / Math.max(1, steps.length)).toFixed(1)} per sendMessage (${(statements / Math.max(1, allSteps.length)).toFixed(1)} per step)`);
    console.log(probe1.describe(allSteps.length));

    // ---- phase 2: many agents concurrently ----
    const agents: string[] = [];
    for (let i = 0; i < AGENTS && !interrupted(); i++) agents.push(await createAgent(url, `throughput agent ${i}`));
    await model.take();
    const latencies: number[] = [];
    const loadWork: number[] = [];
    let completedSteps = 0;
    let completedRuns = 0;
    const errorsBefore = errors;
    const statementsBefore2 = app.db.statementCount();
    const profile = await startPhaseProfile();
    const load2 = startLoadProbe();
    const phase2Start = nowMs();
    await Promise.all(
      agents.map(async (id) => {
        for (let i = 0; i < AGENT_MESSAGES && !interrupted(); i++) {
          const start = nowMs();
          try {
            const result = (await send(id, i)).sendMessage;
            const problem = checkRun(result);
            if (problem) {
              fail(`phase 2: ${problem}`);
              continue;
            }
            latencies.push(nowMs() - start);
            completedRuns += 1;
            completedSteps += result.run.steps.length;
            for (const step of result.run.steps) loadWork.push(step.stepMs! - step.llmRequestMs!);
          } catch (error) {
            fail(`phase 2 agent ${id} message ${i}: ${describe(error)}`);
          }
        }
      }),
    );
    const phase2Ms = nowMs() - phase2Start;
    const probe2 = load2.stop();
    await profile.stop(`phase 2 (${mode}), ${completedSteps} steps`);
    const loadTimings = await model.take();
    console.log(
      `\nphase 2: ${AGENTS} agents × ${AGENT_MESSAGES} messages, agents concurrent: ${completedRuns}/${AGENTS * AGENT_MESSAGES} runs completed (end_turn), ` +
        `${completedSteps} steps in ${(phase2Ms / 1000).toFixed(2)} s = ${((completedSteps / phase2Ms) * 1000).toFixed(1)} steps/s, errors ${errors - errorsBefore}`,
    );
    printTable(STAT_HEADER, [
      statRow('sendMessage round trip under load', stats(latencies)),
      statRow('(a) stepMs − llmRequestMs under load', stats(loadWork)),
      statRow('model server handling under load', stats(loadTimings.map((t) => t.end - t.start))),
    ]);
    console.log(`SQL statements through Prisma: ${((app.db.statementCount() - statementsBefore2) / Math.max(1, completedSteps)).toFixed(1)} per step`);
    console.log(probe2.describe(completedSteps));

    return { mode, overhead, errors, failures };
  } finally {
    await release();
  }
}

async function main(): Promise<number> {
  const modes = modesFromArgs('bench/step-overhead.ts');
  console.log(`machine: ${machine()}; server, client, model worker (and PostgreSQL/Redis) share these CPUs`);

  const model = new ModelWorker();
  const closeModel = cleanupStep(() => model.close().catch(() => {}));

  const results: ModeResult[] = [];
  try {
    await model.start();
    for (const mode of modes) results.push(await runMode(mode, model));
  } finally {
    await closeModel();
  }

  console.log('\n=== targets: server work per step (a) p50 < 10 ms, p99 < 30 ms; no errors');
  printTable(
    ['mode', '(a) p50', 'p50 < 10', '(a) p99', 'p99 < 30', 'errors'],
    results.map((result) => [
      result.mode,
      ms(result.overhead.p50),
      result.overhead.p50 < 10 ? 'met' : 'NOT met',
      ms(result.overhead.p99),
      result.overhead.p99 < 30 ? 'met' : 'NOT met',
      String(result.errors),
    ]),
  );
  let failed = false;
  for (const result of results) {
    if (result.errors === 0) continue;
    failed = true;
    console.error(`\n${result.mode}: ${result.errors} failed runs/requests, first ones:`);
    for (const failure of result.failures) console.error(`  ${failure}`);
  }
  return failed ? 1 : 0;
}

runMain(main);
