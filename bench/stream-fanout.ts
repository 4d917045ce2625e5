/**
 * Run-event fan-out benchmark: one run streamed to many graphql-ws subscribers, against a plain
 * `ws` broadcaster sending the same JSON to the same number of clients.
 *
 *   npx tsx bench/stream-fanout.ts [embedded|services|both]     (default: both)
 *
 * Each mode starts the real server in this process's main thread (auth disabled, logs silent,
 * RUN_EVENT_PING_MS=1000) on an ephemeral port:
 *   - embedded: DATA_DIR=memory:// (in-memory PGlite, in-process run streams);
 *   - services: PostgreSQL in a fresh `bench_<random>` schema (dropped at the end) and Redis
 *     Streams for the run events.
 *
 * Threads and processes (the machine's cores are shared by all of them):
 *   - main thread: the API server (the thing measured: its heap, CPU profile, event loop), the
 *     plain-ws baseline server, and the orchestration;
 *   - a worker thread: test/model-server, whose brain answers "bench <chunks> <delayMs> <how>"
 *     with <chunks> text chunks of 4 characters (a base-36 counter: chunk i is
 *     i.toString(36).padStart(4, '0'), so the text says which chunk is which) every <delayMs>.
 *     how = `go`, `hold` (the request waits, no byte sent, until the bench releases it) or
 *     `tool-then-hold` (step 1 is a memory_insert tool call, step 2 the held text). The worker
 *     records when it writes each content chunk (monotonic clock) — the model's emit times;
 *   - a child process: the clients (graphql-ws `createClient` + `ws`, or plain `ws`). A separate
 *     process rather than a worker thread, so that the server process's RSS does not include the
 *     clients' sockets and buffers; process.hrtime is CLOCK_MONOTONIC, shared by every process
 *     of the machine, so the latencies compare the model's, the server's and the clients' clocks;
 *   - services mode, 2-instance phase: a second API instance in another worker thread (same
 *     schema and Redis).
 *
 * Phases of each mode (after a warm-up run streamed to min(50, N) subscribers):
 *   1. Idle memory. A run is started (sendMessageAsync) and held at the model; the server's heap
 *      and RSS are read after a forced GC, N graphql-ws connections each subscribe to
 *      runEvents(runId), and once every subscriber has received a ping (proof that its
 *      subscription is live on the server) they are read again: (after − before) / N per idle
 *      subscription. The server's CPU, SQL statements (and Redis commands) over 2 s of this idle
 *      wait are reported too.
 *   2. Live fan-out. The model is released; every subscriber must receive every event in order
 *      (seq 1, 2, 3… with no gap or repeat, pings carrying the last seq), the concatenated
 *      ASSISTANT deltas and the AssistantMessage must equal the model's text, the run must end
 *      with end_turn and each subscription must complete. Delivered events/s = non-ping events
 *      received by all subscribers / (last receive − first receive). Latency per received
 *      ASSISTANT delta: receive time − model emit time of the earliest chunk it contains (so it
 *      includes the recorder's coalescing window, DELTA_WINDOW_MS = 15 ms in
 *      src/services/run-events.ts); also split into ingest (model emit → the recorder calls
 *      streams.append; includes the window) and fan-out (append called → client receives; the
 *      bench wraps `app.runtime.streams.append` to time it, src/ is unchanged). Latencies are
 *      also split between the deltas of the first 10% of the chunks (subscribers leaving the
 *      wait loop of src/services/run-events.ts) and the rest.
 *   2b. The same with subscribers that attach to a run that has already stored events (its
 *      tool-call step), so they skip the wait loop: memory per idle subscription of a started,
 *      silent run, then the live fan-out of the held text step.
 *   3. N subscriptions multiplexed on one graphql-ws connection to another held run: memory per
 *      subscription without a connection each.
 *   4. Replay: N new subscribers to the finished run (after: 0), all at once: unpaced capacity.
 *   5. Baseline: a plain `ws` server (same thread as the API server, which is idle by then) and N
 *      plain `ws` clients. Memory per idle connection; then the events subscriber 0 received, as
 *      the exact graphql-ws `next` frames (`{"id","type":"next","payload":{"data":{"runEvents":…}}}`,
 *      each serialised once and sent to every client), broadcast (a) on the run's own schedule
 *      (the times the server appended them) and (b) back to back. Clients parse and check them
 *      with the same code as the GraphQL clients; latency = receive − broadcast.
 *   6. services only: the live fan-out across two instances: the run executes on instance A,
 *      half of the subscribers are connected to A and half to B (which reads the run from Redis).
 *
 * Per scenario the CPU time of the server process (all its threads) and of the client process is
 * reported, as µs per delivered event and % of a core, with the load average: on a shared
 * machine wall-clock throughput and latency move with other load, CPU per event much less.
 *
 * Targets: every subscriber gets every event in order; end-to-end p99 < 100 ms; delivered
 * events/s ≥ half the baseline's (live on the same schedule — bounded by the model's pace —, and
 * unpaced: replay vs burst, measured and derived from CPU per event); < 50 KB per idle
 * subscription (heap + external of the server's isolate; RSS shown too).
 *
 * Environment:
 *   BENCH_SUBSCRIBERS     subscribers (default 500)
 *   BENCH_DELTAS          text chunks the model streams in the live run (default 2000)
 *   BENCH_CHUNK_DELAY_MS  model delay between chunks (default 2: the run streams for ~5 s)
 *   BENCH_PROFILE=1       CPU-profile the server thread (idle wait, both live runs, replay) and
 *                         sample what the idle subscriptions keep on its heap; print the top
 *                         modules, functions and allocation sites (the profiler slows the server)
 *   BENCH_DATABASE_URL    PostgreSQL for services mode (default DATABASE_URL without its schema,
 *                         else postgresql://postgres@127.0.0.1:5432/test)
 *   BENCH_REDIS_URL       Redis for services mode (default REDIS_URL, else redis://127.0.0.1:6379)
 *
 * Exit code 0 whether the performance targets are met or not (a measurement); 1 when a
 * subscriber missed, repeated or reordered an event, got a wrong text or an error, or anything
 * else went wrong.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { createRequire } from 'node:module';
import os from 'node:os';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import v8 from 'node:v8';
import vm from 'node:vm';
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';
import type { AppContext } from '../src/app.js';
import type { RunStreams } from '../src/realtime/run-streams.js';
import type { RunningServer } from '../src/server.js';

/** Milliseconds on the monotonic clock, comparable between this machine's threads and processes. */
const nowMs = () => Number(process.hrtime.bigint()) / 1e6;
const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Characters per model chunk; a chunk is its index in base 36, zero-padded to this width. */
const CHUNK_SIZE = 4;
const chunkText = (index: number) => index.toString(36).padStart(CHUNK_SIZE, '0');
const replyText = (chunks: number) => Array.from({ length: chunks }, (_, index) => chunkText(index)).join('');

/** Server ping interval: a waiting subscriber's first ping proves its subscription is live. */
const PING_MS = 1000;
const WARMUP_SUBSCRIBERS = 50;
const WARMUP_CHUNKS = 200;
const IDLE_WINDOW_MS = 2000;

function numberFromEnv(name: string, fallback: number, min: number, max = Number.MAX_SAFE_INTEGER): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min || value > max) throw new Error(`${name} must be an integer in [${min}, ${max}], got '${raw}'`);
  return value;
}

// =============================================================================================
// Messages between the threads/processes.
// =============================================================================================

type ToModel = { type: 'release' } | { type: 'take' } | { type: 'close' };
type FromModel =
  | { type: 'ready'; url: string }
  | { type: 'held' }
  | { type: 'emits'; emits: Float64Array; mismatches: number }
  | { type: 'closed' }
  | { type: 'error'; message: string };

type ToInstance = { type: 'close' };
type FromInstance = { type: 'ready'; url: string } | { type: 'closed' } | { type: 'error'; message: string };

interface Expectation {
  /** The run's last seq (every subscriber must end there). */
  lastSeq: number;
  /** Model chunks of the run's text. */
  chunks: number;
}

type ToClient =
  | { type: 'connect'; group: string; kind: 'graphql' | 'plain'; urls: string[]; connections: number }
  | { type: 'subscribe'; group: string; runId: string; after: number; perConnection: number }
  | { type: 'results'; group: string; expect: Expectation }
  | { type: 'dispose'; group: string }
  | { type: 'cpu' }
  | { type: 'exit' };

/** What the clients saw: per received non-ping event, flat arrays. */
interface ClientResults {
  subscribers: number;
  failed: number;
  failures: string[];
  /** Non-ping events received by all subscribers. */
  events: number;
  pings: number;
  firstAt: number;
  lastAt: number;
  recv: Float64Array;
  seq: Int32Array;
  /** Subscriber index of each event. */
  sub: Int32Array;
  /** First and last model chunk in an ASSISTANT delta; -1 for other events. */
  first: Int32Array;
  last: Int32Array;
  /** The `next` payloads subscriber 0 received (pings left out), for the baseline. */
  sample: unknown[];
}

type FromClient =
  | { type: 'connected'; group: string; failed: number; firstError: string | null }
  | { type: 'attached'; group: string }
  | { type: 'done'; group: string }
  | { type: 'results'; group: string; results: ClientResults }
  | { type: 'disposed'; group: string }
  | { type: 'cpu'; micros: number }
  | { type: 'error'; message: string };

// =============================================================================================
// Model worker: test/model-server with a counting brain; records when each content chunk is written.
// =============================================================================================

async function modelWorker(): Promise<void> {
  const port = parentPort!;
  let emits: number[] = [];
  let mismatches = 0;
  // test/model-server calls http.createServer through the module object: wrap its handler to
  // time every content chunk as it is written (the model server itself is unchanged).
  const createServer = http.createServer;
  (http as { createServer: unknown }).createServer = (handler: http.RequestListener) =>
    createServer((req, res) => {
      if (req.method === 'POST' && req.url?.endsWith('/chat/completions')) {
        const write = res.write as (...args: unknown[]) => boolean;
        (res as { write: unknown }).write = function (this: unknown, ...args: unknown[]) {
          const data = args[0];
          if (typeof data === 'string' && data.startsWith('data: {') && data.includes('"content":"')) {
            const at = nowMs();
            try {
              const content = (JSON.parse(data.slice(6)) as { choices?: Array<{ delta?: { content?: string } }> }).choices?.[0]?.delta?.content;
              if (content) {
                if (content !== chunkText(emits.length)) mismatches += 1;
                emits.push(at);
              }
            } catch {
              // not a chunk this bench sends
            }
          }
          return write.apply(this, args);
        };
      }
      handler(req, res);
    });
  const { startModelServer, messageText } = await import('../test/model-server/server.js');
  const held: Array<() => void> = [];
  const server = await startModelServer({
    brain: async (request) => {
      // The bench's instruction is the last user message starting with "bench"; a tool result
      // after it means this is the run's second step.
      const messages = request.messages;
      const index = messages.findLastIndex((message) => message.role === 'user' && messageText(message).startsWith('bench '));
      const match = /^bench (\d+) (\d+) (hold|go|tool-then-hold)$/.exec(index >= 0 ? messageText(messages[index]).trim() : '');
      // Fixed usage: the model server would otherwise JSON.stringify the whole prompt to estimate it.
      if (!match) return { text: 'ok', usage: { prompt_tokens: 100, completion_tokens: 1 } };
      const chunks = Number(match[1]);
      if (match[3] === 'tool-then-hold' && !messages.slice(index + 1).some((message) => message.role === 'tool')) {
        // Step 1: a quick tool call, so that the run has stored events before the text streams.
        return { toolCalls: [{ name: 'memory_insert', arguments: { label: 'human', new_string: 'Streams a lot.' } }], usage: { prompt_tokens: 100, completion_tokens: 10 } };
      }
      if (match[3] !== 'go') {
        port.postMessage({ type: 'held' } satisfies FromModel);
        await new Promise<void>((resolve) => held.push(resolve));
      }
      return { text: replyText(chunks), chunkSize: CHUNK_SIZE, chunkDelayMs: Number(match[2]), usage: { prompt_tokens: 100, completion_tokens: chunks } };
    },
  });
  port.on('message', (message: ToModel) => {
    if (message.type === 'release') {
      for (const release of held.splice(0)) release();
    } else if (message.type === 'take') {
      server.requests.length = 0;
      const taken = Float64Array.from(emits);
      port.postMessage({ type: 'emits', emits: taken, mismatches } satisfies FromModel, [taken.buffer]);
      emits = [];
      mismatches = 0;
    } else if (message.type === 'close') {
      for (const release of held.splice(0)) release();
      void server.close().then(() => port.postMessage({ type: 'closed' } satisfies FromModel));
    }
  });
  port.postMessage({ type: 'ready', url: server.url } satisfies FromModel);
}

// =============================================================================================
// Instance worker: a second API server on the same database and Redis (services mode).
// =============================================================================================

async function instanceWorker(env: Record<string, string>): Promise<void> {
  const port = parentPort!;
  const { closeAppContext, createAppContext } = await import('../src/app.js');
  const { loadConfig } = await import('../src/config.js');
  const { createLogger } = await import('../src/logger.js');
  const { startServer } = await import('../src/server.js');
  const config = loadConfig(env);
  const app = await createAppContext(config, createLogger(config));
  const server = await startServer(app);
  port.on('message', (message: ToInstance) => {
    if (message.type !== 'close') return;
    void (async () => {
      await server.close().catch(() => {});
      await closeAppContext(app).catch(() => {});
      port.postMessage({ type: 'closed' } satisfies FromInstance);
    })();
  });
  port.postMessage({ type: 'ready', url: server.url } satisfies FromInstance);
}

// =============================================================================================
// Client process (plain JS, CommonJS: run with `node -e`).
// =============================================================================================

const CLIENT_CODE = String.raw`
'use strict';
const { createClient } = require(process.env.BENCH_GRAPHQL_WS);
const WebSocket = require(process.env.BENCH_WS);
const CHUNK = Number(process.env.BENCH_CHUNK_SIZE);
const nowMs = () => Number(process.hrtime.bigint()) / 1e6;
const send = (message) => process.send(message);
const chunkText = (i) => i.toString(36).padStart(CHUNK, '0');
const textOf = (n) => { let s = ''; for (let i = 0; i < n; i++) s += chunkText(i); return s; };
const describe = (e) => (e && e.message) ? e.message : (e && e.code !== undefined) ? 'close ' + e.code + ' ' + (e.reason || '') : String(JSON.stringify(e) || e).slice(0, 300);
const RUN_EVENTS = 'subscription RunEvents($runId: ID!, $after: Int) { runEvents(runId: $runId, after: $after) { __typename seq runId ' +
  '... on MessageDeltaEvent { kind delta } ' +
  '... on MessageEvent { message { __typename ... on AssistantMessage { content } } } ' +
  '... on StopReasonEvent { stopReason status } ... on UsageEvent { usage { totalTokens stepCount } } ... on ErrorEvent { code errorMessage: message } } }';

const groups = new Map();

function newGroup(id, kind) {
  return { id, kind, connections: [], subs: [], recv: [], seq: [], sub: [], first: [], last: [], firstAt: Infinity, lastAt: -Infinity,
    sample: [], attached: 0, finished: 0, attachedSent: false, doneSent: false };
}

function checkAttached(g) {
  if (!g.attachedSent && g.subs.length > 0 && g.attached === g.subs.length) { g.attachedSent = true; send({ type: 'attached', group: g.id }); }
}
function checkDone(g) {
  if (!g.doneSent && g.subs.length > 0 && g.finished === g.subs.length) { g.doneSent = true; send({ type: 'done', group: g.id }); }
}

class Sub {
  constructor(g, index, after) {
    this.g = g; this.index = index; this.after = after; this.lastSeq = after; this.events = 0; this.pings = 0;
    this.seqErrors = 0; this.firstSeqError = null; this.assistant = []; this.assistantLength = 0;
    this.assistantMessage = undefined; this.stopReason = undefined; this.error = null; this.completed = false;
    this.gotFirst = false; this.finished = false;
  }
  seqError(text) { this.seqErrors++; if (!this.firstSeqError) this.firstSeqError = text; }
  event(ev, value, t) {
    const g = this.g;
    if (this.finished) { this.seqError('event after the end: seq ' + ev.seq); return; }
    if (!this.gotFirst) { this.gotFirst = true; g.attached++; checkAttached(g); }
    if (ev.__typename === 'PingEvent') {
      this.pings++;
      if (ev.seq !== this.lastSeq) this.seqError('ping with seq ' + ev.seq + ' after seq ' + this.lastSeq);
      return;
    }
    if (ev.seq !== this.lastSeq + 1) this.seqError('seq ' + ev.seq + ' after seq ' + this.lastSeq);
    this.lastSeq = ev.seq;
    this.events++;
    let first = -1, last = -1;
    if (ev.__typename === 'MessageDeltaEvent' && ev.kind === 'ASSISTANT') {
      const length = ev.delta.length;
      first = Math.floor(this.assistantLength / CHUNK);
      last = Math.floor((this.assistantLength + length - 1) / CHUNK);
      this.assistant.push(ev.delta);
      this.assistantLength += length;
    } else if (ev.__typename === 'MessageEvent' && ev.message && ev.message.__typename === 'AssistantMessage') {
      this.assistantMessage = ev.message.content;
    } else if (ev.__typename === 'StopReasonEvent') {
      this.stopReason = ev.stopReason;
    } else if (ev.__typename === 'ErrorEvent') {
      this.error = 'ErrorEvent ' + ev.code + ': ' + ev.errorMessage;
    }
    g.recv.push(t); g.seq.push(ev.seq); g.sub.push(this.index); g.first.push(first); g.last.push(last);
    if (t < g.firstAt) g.firstAt = t;
    if (t > g.lastAt) g.lastAt = t;
    if (this.index === 0) g.sample.push(value);
  }
  finish(error) {
    if (this.finished) return;
    this.finished = true;
    if (error) this.error = this.error || error; else this.completed = true;
    this.g.finished++;
    if (!this.gotFirst) { this.gotFirst = true; this.g.attached++; checkAttached(this.g); }
    checkDone(this.g);
  }
  problem(expect, expectedText) {
    if (this.error) return this.error;
    if (!this.completed) return 'did not complete (last seq ' + this.lastSeq + ', ' + this.events + ' events)';
    if (this.seqErrors) return this.seqErrors + ' events out of order, first: ' + this.firstSeqError;
    if (this.lastSeq !== expect.lastSeq) return 'ended at seq ' + this.lastSeq + ', the run stored ' + expect.lastSeq + ' events';
    const text = this.assistant.join('');
    if (text !== expectedText) {
      let at = 0;
      while (at < text.length && text[at] === expectedText[at]) at++;
      return 'ASSISTANT deltas differ from the model text at character ' + at + ' (' + text.length + ' vs ' + expectedText.length + ' characters)';
    }
    if (this.assistantMessage !== expectedText) return 'AssistantMessage content differs from the model text';
    if (this.stopReason !== 'END_TURN') return 'stop reason ' + this.stopReason;
    return null;
  }
}

function connectGraphql(g, url) {
  return new Promise((resolve) => {
    const conn = { client: null, error: null, closed: false };
    conn.closedPromise = new Promise((r) => (conn.onClosed = r));
    conn.client = createClient({
      url, webSocketImpl: WebSocket, lazy: false, retryAttempts: 0, keepAlive: 0,
      onNonLazyError: (e) => { conn.error = conn.error || describe(e); resolve(); },
      on: {
        connected: () => resolve(),
        closed: (e) => { conn.closed = true; conn.onClosed(); if (!conn.error && !g.disposing) conn.error = 'closed: ' + describe(e); resolve(); },
      },
    });
    g.connections.push(conn);
  });
}

function connectPlain(g, url) {
  return new Promise((resolve) => {
    const socket = new WebSocket(url);
    const sub = new Sub(g, g.subs.length, 0);
    g.subs.push(sub);
    const conn = { socket, error: null, closed: false };
    conn.closedPromise = new Promise((r) => (conn.onClosed = r));
    socket.on('open', () => resolve());
    socket.on('error', (e) => { conn.error = conn.error || describe(e); resolve(); });
    socket.on('close', () => { conn.closed = true; conn.onClosed(); if (!g.disposing) sub.finish('socket closed'); resolve(); });
    socket.on('message', (data) => {
      const message = JSON.parse(data.toString());
      const t = nowMs();
      if (message.type === 'next') sub.event(message.payload.data.runEvents, message.payload, t);
      else if (message.type === 'complete') sub.finish(null);
    });
    g.connections.push(conn);
  });
}

async function connect(message) {
  const g = newGroup(message.group, message.kind);
  groups.set(message.group, g);
  const BATCH = 50;
  for (let i = 0; i < message.connections; i += BATCH) {
    const batch = [];
    for (let j = i; j < Math.min(message.connections, i + BATCH); j++) {
      const url = message.urls[j % message.urls.length];
      batch.push(message.kind === 'graphql' ? connectGraphql(g, url) : connectPlain(g, url));
    }
    await Promise.all(batch);
  }
  const failed = g.connections.filter((c) => c.error);
  send({ type: 'connected', group: g.id, failed: failed.length, firstError: failed.length ? failed[0].error : null });
}

function subscribe(message) {
  const g = groups.get(message.group);
  for (const conn of g.connections) {
    for (let k = 0; k < message.perConnection; k++) {
      const sub = new Sub(g, g.subs.length, message.after);
      g.subs.push(sub);
      conn.client.subscribe({ query: RUN_EVENTS, variables: { runId: message.runId, after: message.after } }, {
        next: (value) => {
          const t = nowMs();
          if (value.errors) sub.finish('GraphQL errors: ' + JSON.stringify(value.errors).slice(0, 300));
          else sub.event(value.data.runEvents, value, t);
        },
        error: (e) => sub.finish('subscription error: ' + describe(e)),
        complete: () => sub.finish(null),
      });
    }
  }
}

function results(message) {
  const g = groups.get(message.group);
  const expected = textOf(message.expect.chunks);
  const failures = [];
  let failed = 0, pings = 0, events = 0;
  for (const sub of g.subs) {
    pings += sub.pings;
    events += sub.events;
    const problem = sub.problem(message.expect, expected);
    if (problem) { failed++; if (failures.length < 5) failures.push('subscriber ' + sub.index + ': ' + problem); }
  }
  const r = {
    subscribers: g.subs.length, failed, failures, events, pings, firstAt: g.firstAt, lastAt: g.lastAt,
    recv: Float64Array.from(g.recv), seq: Int32Array.from(g.seq), sub: Int32Array.from(g.sub),
    first: Int32Array.from(g.first), last: Int32Array.from(g.last), sample: g.sample,
  };
  send({ type: 'results', group: g.id, results: r });
}

async function dispose(message) {
  const g = groups.get(message.group);
  if (g) {
    g.disposing = true;
    for (const conn of g.connections) {
      if (conn.client) conn.client.dispose(); else conn.socket.close();
    }
    await Promise.race([Promise.all(g.connections.map((c) => (c.closed ? null : c.closedPromise))), new Promise((r) => setTimeout(r, 10000))]);
    groups.delete(message.group);
  }
  send({ type: 'disposed', group: message.group });
}

process.on('message', (message) => {
  const fail = (e) => send({ type: 'error', message: String((e && e.stack) || e) });
  try {
    if (message.type === 'connect') connect(message).catch(fail);
    else if (message.type === 'subscribe') subscribe(message);
    else if (message.type === 'results') results(message);
    else if (message.type === 'dispose') dispose(message).catch(fail);
    else if (message.type === 'cpu') { const u = process.cpuUsage(); send({ type: 'cpu', micros: u.user + u.system }); }
    else if (message.type === 'exit') process.exit(0);
  } catch (e) { fail(e); }
});
process.on('disconnect', () => process.exit(0));
`;

// =============================================================================================
// Main thread.
// =============================================================================================

/** Typed request/response over a worker's or a child process's message channel. */
class Peer<In extends { type: string }, Out> {
  private readonly waiters: Array<{ accept: (message: In) => boolean; resolve: (message: In) => void; reject: (error: Error) => void }> = [];
  private failure: Error | undefined;
  /** Messages that arrived before anyone waited for them. */
  private readonly unclaimed: In[] = [];

  constructor(
    private readonly name: string,
    private readonly post: (message: Out) => void,
  ) {}

  receive(message: In): void {
    if (message.type === 'error') return this.fail(new Error(`${this.name}: ${(message as unknown as { message: string }).message}`));
    const index = this.waiters.findIndex((waiter) => waiter.accept(message));
    if (index >= 0) this.waiters.splice(index, 1)[0]!.resolve(message);
    else this.unclaimed.push(message); // for a next() that comes later
  }

  fail(error: Error): void {
    this.failure ??= error;
    for (const waiter of this.waiters.splice(0)) waiter.reject(error);
  }

  send(message: Out): void {
    this.post(message);
  }

  next<T extends In['type']>(type: T, accept: (message: Extract<In, { type: T }>) => boolean = () => true, timeoutMs = 0): Promise<Extract<In, { type: T }> | undefined> {
    if (this.failure) return Promise.reject(this.failure);
    const waiting = this.unclaimed.findIndex((message) => message.type === type && accept(message as Extract<In, { type: T }>));
    if (waiting >= 0) return Promise.resolve(this.unclaimed.splice(waiting, 1)[0] as Extract<In, { type: T }>);
    return new Promise((resolve, reject) => {
      let timer: NodeJS.Timeout | undefined;
      const waiter = {
        accept: (message: In) => message.type === type && accept(message as Extract<In, { type: T }>),
        resolve: (message: In) => {
          clearTimeout(timer);
          resolve(message as Extract<In, { type: T }>);
        },
        reject: (error: Error) => {
          clearTimeout(timer);
          reject(error);
        },
      };
      this.waiters.push(waiter);
      if (timeoutMs > 0) {
        timer = setTimeout(() => {
          this.waiters.splice(this.waiters.indexOf(waiter), 1);
          resolve(undefined);
        }, timeoutMs);
      }
    });
  }

  /** next() that must answer. */
  async expect<T extends In['type']>(type: T, accept?: (message: Extract<In, { type: T }>) => boolean): Promise<Extract<In, { type: T }>> {
    return (await this.next(type, accept))!;
  }
}

/** A worker thread running this file through tsx (workers do not inherit tsx's loader). */
function startTsWorker<In extends { type: string }, Out>(name: string, data: Record<string, unknown>): { worker: Worker; peer: Peer<In, Out> } {
  const api = import.meta.resolve('tsx/esm/api');
  const self = import.meta.url;
  const code = `import(${JSON.stringify(api)}).then(({ tsImport }) => tsImport(${JSON.stringify(self)}, ${JSON.stringify(self)}))
    .catch((error) => { require('node:worker_threads').parentPort.postMessage({ type: 'error', message: String(error && error.stack || error) }); });`;
  const worker = new Worker(code, { eval: true, execArgv: [], workerData: data });
  const peer = new Peer<In, Out>(name, (message) => worker.postMessage(message));
  worker.on('message', (message: In) => peer.receive(message));
  worker.on('error', (error) => peer.fail(error));
  worker.on('exit', (code) => peer.fail(new Error(`${name} exited (${code})`)));
  return { worker, peer };
}

class ModelWorker {
  private readonly worker: Worker;
  readonly peer: Peer<FromModel, ToModel>;
  url = '';

  constructor() {
    ({ worker: this.worker, peer: this.peer } = startTsWorker<FromModel, ToModel>('model worker', { role: 'model' }));
  }

  async start(): Promise<void> {
    this.url = (await this.peer.expect('ready')).url;
  }

  /** Emit times of the content chunks written since the last take. */
  async take(): Promise<{ emits: Float64Array; mismatches: number }> {
    const reply = this.peer.expect('emits');
    this.peer.send({ type: 'take' });
    return reply;
  }

  release(): void {
    this.peer.send({ type: 'release' });
  }

  async close(): Promise<void> {
    const closed = this.peer.next('closed', undefined, 2000).catch(() => undefined);
    this.peer.send({ type: 'close' });
    await closed;
    await this.worker.terminate();
  }
}

class Clients {
  private readonly child: ChildProcess;
  readonly peer: Peer<FromClient, ToClient>;
  private groupCount = 0;

  constructor() {
    const require = createRequire(import.meta.url);
    const env: NodeJS.ProcessEnv = { ...process.env, BENCH_GRAPHQL_WS: require.resolve('graphql-ws'), BENCH_WS: require.resolve('ws'), BENCH_CHUNK_SIZE: String(CHUNK_SIZE) };
    delete env.NODE_OPTIONS;
    this.child = spawn(process.execPath, ['-e', CLIENT_CODE], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'], serialization: 'advanced', env });
    this.peer = new Peer<FromClient, ToClient>('client process', (message) => this.child.send(message));
    this.child.on('message', (message) => this.peer.receive(message as FromClient));
    this.child.on('error', (error) => this.peer.fail(error));
    this.child.on('exit', (code, signal) => this.peer.fail(new Error(`client process exited (${code ?? signal})`)));
  }

  /** Opens `connections` sockets (round robin over urls); resolves to the group's name. */
  async connect(kind: 'graphql' | 'plain', urls: string[], connections: number): Promise<string> {
    const group = `${kind}-${++this.groupCount}`;
    const connected = this.peer.expect('connected', (message) => message.group === group);
    this.peer.send({ type: 'connect', group, kind, urls, connections });
    const result = await connected;
    if (result.failed) throw new Error(`${result.failed} of ${connections} ${kind} connections failed, first: ${result.firstError}`);
    return group;
  }

  /** Subscribes every connection of the group `perConnection` times; resolves when each subscriber received an event (or after timeoutMs: false). */
  async subscribe(group: string, runId: string, after: number, perConnection: number, timeoutMs: number): Promise<boolean> {
    const attached = this.peer.next('attached', (message) => message.group === group, timeoutMs);
    this.peer.send({ type: 'subscribe', group, runId, after, perConnection });
    return (await attached) !== undefined;
  }

  /** Resolves when every subscriber of the group completed or failed (false: timed out). */
  async waitDone(group: string, timeoutMs: number): Promise<boolean> {
    return (await this.peer.next('done', (message) => message.group === group, timeoutMs)) !== undefined;
  }

  async results(group: string, expect: Expectation): Promise<ClientResults> {
    const reply = this.peer.expect('results', (message) => message.group === group);
    this.peer.send({ type: 'results', group, expect });
    return (await reply).results;
  }

  async dispose(group: string): Promise<void> {
    const reply = this.peer.expect('disposed', (message) => message.group === group);
    this.peer.send({ type: 'dispose', group });
    await reply;
  }

  /** CPU time the client process has used so far (µs). */
  async cpu(): Promise<number> {
    const reply = this.peer.expect('cpu');
    this.peer.send({ type: 'cpu' });
    return (await reply).micros;
  }

  async close(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const exited = new Promise((resolve) => this.child.once('exit', resolve));
    try {
      this.child.send({ type: 'exit' } satisfies ToClient);
    } catch {
      this.child.kill();
    }
    await Promise.race([exited, sleep(3000)]);
    if (this.child.exitCode === null) this.child.kill();
  }
}

// ---- the baseline: plain ws ----

class BaselineServer {
  private readonly server = http.createServer((_req, res) => res.writeHead(404).end());
  private wss!: import('ws').WebSocketServer;
  url = '';

  async start(): Promise<void> {
    const { WebSocketServer } = await import('ws');
    this.wss = new WebSocketServer({ server: this.server });
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(0, '127.0.0.1', () => resolve());
    });
    this.url = `ws://127.0.0.1:${(this.server.address() as AddressInfo).port}/`;
  }

  get clients(): number {
    return this.wss.clients.size;
  }

  private broadcast(data: string): void {
    for (const client of this.wss.clients) client.send(data);
  }

  /** Sends each frame to every client at its offset (ms after the start); returns when each was sent. */
  async paced(frames: Frame[], complete: string): Promise<Map<number, number>> {
    const sentAt = new Map<number, number>();
    const start = nowMs();
    let i = 0;
    while (i < frames.length) {
      while (i < frames.length && frames[i]!.offset <= nowMs() - start) {
        sentAt.set(frames[i]!.seq, nowMs());
        this.broadcast(frames[i]!.data);
        i += 1;
      }
      if (i < frames.length) await sleep(Math.max(0, frames[i]!.offset - (nowMs() - start)));
    }
    this.broadcast(complete);
    return sentAt;
  }

  /** Every frame to every client back to back, yielding to the event loop between frames. */
  async burst(frames: Frame[], complete: string): Promise<Map<number, number>> {
    const sentAt = new Map<number, number>();
    for (const frame of frames) {
      sentAt.set(frame.seq, nowMs());
      this.broadcast(frame.data);
      await new Promise((resolve) => setImmediate(resolve));
    }
    this.broadcast(complete);
    return sentAt;
  }

  async close(): Promise<void> {
    for (const client of this.wss?.clients ?? []) client.terminate();
    await new Promise<void>((resolve) => (this.wss ? this.wss.close(() => resolve()) : resolve()));
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

interface Frame {
  seq: number;
  offset: number;
  data: string;
}

/** The graphql-ws frames of the events subscriber 0 received, on the run's append schedule. */
function framesOf(sample: unknown[], appends: Map<number, AppendRecord>): { frames: Frame[]; complete: string } {
  const id = randomUUID();
  const seqOf = (value: unknown) => (value as { data: { runEvents: { seq: number } } }).data.runEvents.seq;
  const start = appends.get(seqOf(sample[0]))?.callAt ?? 0;
  const frames = sample.map((payload) => {
    const seq = seqOf(payload);
    return { seq, offset: (appends.get(seq)?.callAt ?? start) - start, data: JSON.stringify({ id, type: 'next', payload }) };
  });
  return { frames, complete: JSON.stringify({ id, type: 'complete' }) };
}

// ---- timing the server's appends ----

interface AppendRecord {
  /** streams.append called (the event is ready to be stored and fanned out). */
  callAt: number;
  /** streams.append resolved. */
  storedAt: number;
  /** Model chunks in an ASSISTANT delta; -1 otherwise. */
  first: number;
  last: number;
}

interface TappedRun {
  records: Map<number, AppendRecord>;
  assistantLength: number;
  lastSeq: number;
}

/** Wraps the store's append (the recorder calls it through the same object) to time every event. */
function tapAppends(streams: RunStreams): (runId: string) => TappedRun {
  const runs = new Map<string, TappedRun>();
  const runOf = (runId: string) => {
    let run = runs.get(runId);
    if (!run) runs.set(runId, (run = { records: new Map(), assistantLength: 0, lastSeq: 0 }));
    return run;
  };
  const append = streams.append.bind(streams);
  streams.append = async (runId, events) => {
    const callAt = nowMs();
    const run = runOf(runId);
    const ranges = events.map((event) => {
      const data = event.data as { type?: string; kind?: string; text?: string } | null;
      if (data?.type !== 'delta' || data.kind !== 'assistant' || typeof data.text !== 'string') return [-1, -1] as const;
      const first = Math.floor(run.assistantLength / CHUNK_SIZE);
      run.assistantLength += data.text.length;
      return [first, Math.floor((run.assistantLength - 1) / CHUNK_SIZE)] as const;
    });
    const seqs = await append(runId, events);
    const storedAt = nowMs();
    seqs.forEach((seq, index) => {
      run.records.set(seq, { callAt, storedAt, first: ranges[index]![0], last: ranges[index]![1] });
      run.lastSeq = Math.max(run.lastSeq, seq);
    });
    return seqs;
  };
  return runOf;
}

// ---- statistics and output ----

interface Stats {
  n: number;
  p50: number;
  p99: number;
  max: number;
  mean: number;
}

function stats(values: ArrayLike<number>): Stats {
  const sorted = Float64Array.from(values).sort();
  const at = (p: number) => (sorted.length ? sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))]! : NaN);
  let sum = 0;
  for (const value of sorted) sum += value;
  return { n: sorted.length, p50: at(0.5), p99: at(0.99), max: sorted.length ? sorted[sorted.length - 1]! : NaN, mean: sorted.length ? sum / sorted.length : NaN };
}

function printTable(header: string[], rows: string[][]) {
  const widths = header.map((title, i) => Math.max(title.length, ...rows.map((row) => (row[i] ?? '').length)));
  const format = (cells: string[]) => cells.map((cell, i) => (i === 0 ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!))).join('  ');
  console.log(format(header));
  console.log(widths.map((width) => '-'.repeat(width)).join('  '));
  for (const row of rows) console.log(format(row));
}

const fixed = (value: number, digits = 1) => (Number.isFinite(value) ? value.toFixed(digits) : '-');
const STAT_HEADER = ['ms', 'n', 'p50', 'p99', 'max', 'mean'];
const statRow = (name: string, s: Stats) => [name, String(s.n), fixed(s.p50), fixed(s.p99), fixed(s.max), fixed(s.mean)];

/** Delivered events/s: non-ping events received by all subscribers over first → last receive. */
const throughput = (r: ClientResults) => (r.events > 1 && r.lastAt > r.firstAt ? r.events / ((r.lastAt - r.firstAt) / 1000) : NaN);

interface Latencies {
  /** Receive − model emit of the earliest chunk in the delta (the target). */
  e2e: Stats;
  /** Receive − model emit of the latest chunk in the delta. */
  e2eLatest: Stats;
  /** Receive − append called, every event. */
  fanout: Stats;
  /** Per instance of the subscriber (2-instance phase), receive − earliest chunk. */
  bySubscriberParity: [Stats, Stats];
  /** e2e of deltas starting in the first 10% of the chunks, and in the rest. */
  early: Stats;
  late: Stats;
}

/** `since`: fan-out counts only events appended from then on (earlier ones were replayed to the subscribers). */
function latencies(r: ClientResults, emits: Float64Array, appends: Map<number, AppendRecord>, since: number): Latencies {
  const e2e: number[] = [];
  const e2eLatest: number[] = [];
  const fanout: number[] = [];
  const parity: [number[], number[]] = [[], []];
  const early: number[] = [];
  const late: number[] = [];
  for (let i = 0; i < r.recv.length; i++) {
    const recv = r.recv[i]!;
    const append = appends.get(r.seq[i]!);
    if (append && append.callAt >= since) fanout.push(recv - append.callAt);
    const first = r.first[i]!;
    if (first >= 0 && first < emits.length) {
      const value = recv - emits[first]!;
      e2e.push(value);
      parity[r.sub[i]! % 2]!.push(value);
      (first < emits.length / 10 ? early : late).push(value);
      const last = Math.min(r.last[i]!, emits.length - 1);
      e2eLatest.push(recv - emits[last]!);
    }
  }
  return { e2e: stats(e2e), e2eLatest: stats(e2eLatest), fanout: stats(fanout), bySubscriberParity: [stats(parity[0]), stats(parity[1])], early: stats(early), late: stats(late) };
}

/** Per appended ASSISTANT delta: model emit of its earliest chunk → append called; and the store's append time. */
function ingest(emits: Float64Array, appends: Map<number, AppendRecord>) {
  const window: number[] = [];
  const store: number[] = [];
  for (const record of appends.values()) {
    store.push(record.storedAt - record.callAt);
    if (record.first >= 0 && record.first < emits.length) window.push(record.callAt - emits[record.first]!);
  }
  return { window: stats(window), store: stats(store) };
}

// ---- memory, CPU, profile ----

let gcFunction: (() => void) | undefined;
/** A forced full GC (the server is in this thread; `--expose-gc` is set at run time). */
function gc(): void {
  if (!gcFunction) {
    v8.setFlagsFromString('--expose-gc');
    gcFunction = vm.runInNewContext('gc') as () => void;
  }
  gcFunction();
}

interface Memory {
  heap: number;
  external: number;
  rss: number;
}

async function settledMemory(): Promise<Memory> {
  for (let i = 0; i < 4; i++) {
    gc();
    await sleep(30);
  }
  const usage = process.memoryUsage();
  return { heap: usage.heapUsed, external: usage.external, rss: usage.rss };
}

interface MemoryRow {
  name: string;
  count: number;
  before: Memory;
  after: Memory;
  /** After closing them all (leak check). */
  closed?: Memory;
}

const kbPer = (bytes: number, count: number) => fixed(bytes / count / 1024, 1);
const heapPlusExternalKb = (row: MemoryRow) => (row.after.heap + row.after.external - row.before.heap - row.before.external) / row.count / 1024;

function memoryRows(rows: MemoryRow[]): string[][] {
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

interface CpuProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
  children?: number[];
}

const PROFILE = process.env.BENCH_PROFILE === '1';

async function startProfile() {
  if (!PROFILE) return { stop: async () => {} };
  const { Session } = await import('node:inspector/promises');
  const session = new Session();
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.setSamplingInterval', { interval: 500 });
  await session.post('Profiler.start');
  return {
    stop: async (title: string) => {
      const { profile } = (await session.post('Profiler.stop')) as { profile: { nodes: CpuProfileNode[] } };
      session.disconnect();
      printProfile(title, profile.nodes);
    },
  };
}

interface HeapNode {
  callFrame: { functionName: string; url: string; lineNumber: number };
  selfSize: number;
  children: HeapNode[];
}

/**
 * V8's sampling heap profiler from now on: at stop (after a forced GC) it reports the sampled
 * objects allocated meanwhile that are still alive, by allocation stack.
 */
async function startHeapSampling() {
  if (!PROFILE) return { stop: async () => {} };
  const { Session } = await import('node:inspector/promises');
  const session = new Session();
  session.connect();
  await session.post('HeapProfiler.enable');
  await session.post('HeapProfiler.startSampling', { samplingInterval: 4096 });
  return {
    stop: async (title: string, count: number) => {
      await settledMemory();
      const { profile } = (await session.post('HeapProfiler.stopSampling')) as unknown as { profile: { head: HeapNode } };
      session.disconnect();
      printHeapProfile(title, profile.head, count);
    },
  };
}

function printHeapProfile(title: string, head: HeapNode, count: number): void {
  const label = (frame: HeapNode['callFrame']) => `${frame.functionName || '(anonymous)'} ${shortUrl(frame.url)}:${frame.lineNumber + 1}`;
  const modules = new Map<string, number>();
  const bySrc = new Map<string, number>();
  const bySite = new Map<string, number>();
  let total = 0;
  const walk = (node: HeapNode, srcFrame: string | undefined, stack: string[]) => {
    const here = label(node.callFrame);
    const src = shortUrl(node.callFrame.url).startsWith('src/') ? here : srcFrame;
    if (node.selfSize > 0) {
      total += node.selfSize;
      const module = moduleOf(node.callFrame.url, node.callFrame.functionName);
      modules.set(module, (modules.get(module) ?? 0) + node.selfSize);
      const key = src ?? '(no src/ frame on the stack)';
      bySrc.set(key, (bySrc.get(key) ?? 0) + node.selfSize);
      const site = [...stack.slice(-2), here].join(' < ');
      bySite.set(site, (bySite.get(site) ?? 0) + node.selfSize);
    }
    for (const child of node.children) walk(child, src, [...stack.slice(-3), here]);
  };
  walk(head, undefined, []);
  const perItem = (bytes: number) => `${(bytes / count / 1024).toFixed(2)} KB`;
  const top = (map: Map<string, number>, n: number) => [...map.entries()].sort((a, b) => b[1] - a[1]).slice(0, n);
  console.log(`\nlive heap allocated while ${title}, by allocation site (sampled, after GC): ${perItem(total)} per subscription`);
  printTable(['allocated in module', 'per subscription'], top(modules, 10).map(([key, bytes]) => [key, perItem(bytes)]));
  printTable(['innermost src/ frame on the allocation stack', 'per subscription'], top(bySrc, 10).map(([key, bytes]) => [key, perItem(bytes)]));
  printTable(['allocation site (caller < … < allocating function)', 'per subscription'], top(bySite, 14).map(([key, bytes]) => [key, perItem(bytes)]));
}

const ROOT = new URL('..', import.meta.url).href;

function shortUrl(url: string): string {
  const path = url.startsWith(ROOT) ? url.slice(ROOT.length) : url.replace(/^file:\/\//, '');
  const modules = path.lastIndexOf('node_modules/');
  return modules >= 0 ? path.slice(modules + 'node_modules/'.length) : path;
}

function moduleOf(url: string, name: string): string {
  if (!url) return name.startsWith('(') ? name : '(native/V8 builtins)';
  const path = shortUrl(url);
  if (path.startsWith('node:')) return 'node:' + path.slice(5).split('/').slice(0, 2).join('/');
  if (url.includes('node_modules/')) {
    const parts = path.split('/');
    return parts[0]!.startsWith('@') ? `${parts[0]}/${parts[1]}` : parts[0]!;
  }
  return path;
}

function printProfile(title: string, nodes: CpuProfileNode[]): void {
  const byId = new Map(nodes.map((node) => [node.id, node]));
  const total = nodes.reduce((sum, node) => sum + (node.hitCount ?? 0), 0);
  const label = (node: CpuProfileNode) => `${node.callFrame.functionName || '(anonymous)'} ${shortUrl(node.callFrame.url)}:${node.callFrame.lineNumber + 1}`;
  const self = new Map<string, number>();
  const modules = new Map<string, number>();
  for (const node of nodes) {
    const hits = node.hitCount ?? 0;
    self.set(label(node), (self.get(label(node)) ?? 0) + hits);
    const module = moduleOf(node.callFrame.url, node.callFrame.functionName);
    modules.set(module, (modules.get(module) ?? 0) + hits);
  }
  // Inclusive time per function (a recursive function counted once per stack).
  const inclusive = new Map<string, number>();
  const subtree = new Map<number, number>();
  const sizeOf = (node: CpuProfileNode): number => {
    let sum = node.hitCount ?? 0;
    for (const child of node.children ?? []) sum += sizeOf(byId.get(child)!);
    subtree.set(node.id, sum);
    return sum;
  };
  const root = nodes[0]!;
  sizeOf(root);
  const active = new Map<string, number>();
  const walk = (node: CpuProfileNode) => {
    const key = label(node);
    if (!active.get(key)) inclusive.set(key, (inclusive.get(key) ?? 0) + subtree.get(node.id)!);
    active.set(key, (active.get(key) ?? 0) + 1);
    for (const child of node.children ?? []) walk(byId.get(child)!);
    active.set(key, active.get(key)! - 1);
  };
  walk(root);
  const pct = (hits: number) => `${((100 * hits) / Math.max(1, total)).toFixed(1)}%`;
  const top = (map: Map<string, number>, n: number, filter: (key: string) => boolean = () => true) =>
    [...map.entries()].filter(([key]) => filter(key)).sort((a, b) => b[1] - a[1]).slice(0, n);
  console.log(`\nCPU profile of the server thread, ${title} (${total} samples of 0.5 ms)`);
  printTable(['self time by module', 'share'], top(modules, 14).map(([key, hits]) => [key, pct(hits)]));
  printTable(['self time by function', 'share'], top(self, 18).map(([key, hits]) => [key, pct(hits)]));
  printTable(
    ['inclusive time, functions of src/ and graphql/graphql-ws', 'share'],
    top(inclusive, 18, (key) => / (src\/|graphql\/|graphql-ws\/|@graphql-yoga|@envelop)/.test(key)).map(([key, hits]) => [key, pct(hits)]),
  );
}

// ---- GraphQL over HTTP ----

async function graphql<T>(url: string, query: string, variables: Record<string, unknown>): Promise<T> {
  const response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query, variables }) });
  const body = (await response.json()) as { data?: T; errors?: Array<{ message: string }> };
  if (response.status !== 200 || body.errors?.length || !body.data) {
    throw new Error(`GraphQL request failed (${response.status}): ${JSON.stringify(body.errors ?? body).slice(0, 500)}`);
  }
  return body.data;
}

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

// ---- one mode ----

type Mode = 'embedded' | 'services';

interface Scenario {
  name: string;
  results: ClientResults;
  eventsPerSecond: number;
  latency?: Latencies;
  /** Baseline: receive − broadcast. */
  baselineLatency?: Stats;
  cost?: Cost;
}

/** CPU used while a scenario ran: the server process (all its threads) and the client process. */
interface Cost {
  serverMicros: number;
  clientMicros: number;
  seconds: number;
  load: number;
}

async function measureCost(clients: Clients) {
  const cpu = process.cpuUsage();
  const client = await clients.cpu();
  const start = nowMs();
  return async (): Promise<Cost> => {
    const used = process.cpuUsage(cpu);
    return { serverMicros: used.user + used.system, clientMicros: (await clients.cpu()) - client, seconds: (nowMs() - start) / 1000, load: os.loadavg()[0]! };
  };
}

const costCells = (scenario: Scenario) => {
  const cost = scenario.cost;
  if (!cost) return ['-', '-', '-', '-'];
  const events = Math.max(1, scenario.results.events);
  return [
    fixed(cost.serverMicros / events, 1),
    fixed((100 * cost.serverMicros) / 1e6 / cost.seconds, 0) + '%',
    fixed((100 * cost.clientMicros) / 1e6 / cost.seconds, 0) + '%',
    fixed(cost.load, 1),
  ];
};

interface ModeResult {
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

/** Set on SIGINT/SIGTERM. */
let interrupted = false;

/** Cleanups still to run (latest first); each runs once, when its owner ends or on a signal. */
const pendingCleanups = new Set<() => Promise<void>>();

function cleanupStep(step: () => Promise<void>): () => Promise<void> {
  let done: Promise<void> | undefined;
  const run = () => {
    pendingCleanups.delete(run);
    return (done ??= step());
  };
  pendingCleanups.add(run);
  return run;
}

async function runPendingCleanups(): Promise<void> {
  for (const step of [...pendingCleanups].reverse()) await step().catch((error: unknown) => console.error('cleanup:', error));
}

async function runMode(mode: Mode, model: ModelWorker, clients: Clients): Promise<ModeResult> {
  const N = numberFromEnv('BENCH_SUBSCRIBERS', 500, 1);
  const DELTAS = numberFromEnv('BENCH_DELTAS', 2000, 1, 36 ** CHUNK_SIZE);
  const CHUNK_DELAY_MS = numberFromEnv('BENCH_CHUNK_DELAY_MS', 2, 0, 10_000);
  const liveTimeoutMs = 60_000 + DELTAS * (CHUNK_DELAY_MS + 2) * 3;

  const { closeAppContext, createAppContext } = await import('../src/app.js');
  const { loadConfig } = await import('../src/config.js');
  const { createLogger } = await import('../src/logger.js');
  const { startServer } = await import('../src/server.js');
  const { dropSchemaOf, uniqueName } = await import('../test/helpers/server.js');

  let databaseEnv: Record<string, string>;
  let schemaUrl: string | undefined;
  let redisUrl: string | undefined;
  if (mode === 'services') {
    const url = new URL(process.env.BENCH_DATABASE_URL || process.env.DATABASE_URL || 'postgresql://postgres@127.0.0.1:5432/test');
    url.searchParams.set('schema', uniqueName('bench'));
    schemaUrl = url.toString();
    redisUrl = process.env.BENCH_REDIS_URL || process.env.REDIS_URL || 'redis://127.0.0.1:6379';
    databaseEnv = { DATABASE_URL: schemaUrl, REDIS_URL: redisUrl };
  } else {
    databaseEnv = { DATA_DIR: 'memory://' };
  }
  const env = {
    HOST: '127.0.0.1',
    PORT: '0',
    LOG_LEVEL: 'silent',
    AUTH_MODE: 'disabled',
    GRAPHIQL: 'false',
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

  let app: AppContext | undefined;
  let server: RunningServer | undefined;
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
    await server?.close().catch((error: unknown) => console.error('server close:', error));
    if (app) await closeAppContext(app).catch((error: unknown) => console.error('app close:', error));
    redis?.disconnect();
    if (schemaUrl) await dropSchemaOf(schemaUrl).catch((error: unknown) => console.error('drop schema:', error));
  });

  try {
    const config = loadConfig(env);
    app = await createAppContext(config, createLogger(config));
    server = await startServer(app);
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
    if (interrupted) throw new Error('interrupted');

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
      instanceB = startTsWorker<FromInstance, ToInstance>('instance B', { role: 'instance', env: { ...env, RUN_WORKERS: '0' } });
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

async function main(): Promise<number> {
  const arg = process.argv[2] ?? 'both';
  if (!['embedded', 'services', 'both'].includes(arg)) throw new Error(`usage: npx tsx bench/stream-fanout.ts [embedded|services|both], got '${arg}'`);
  const modes: Mode[] = arg === 'both' ? ['embedded', 'services'] : [arg as Mode];
  console.log(
    `machine: ${os.cpus().length} CPUs, load average ${os.loadavg().map((value) => value.toFixed(2)).join(' ')}; ` +
      'the server (main thread), the model (worker thread), the clients (child process) and PostgreSQL/Redis share these CPUs',
  );

  const model = new ModelWorker();
  const clients = new Clients();
  const closeWorkers = cleanupStep(async () => {
    await clients.close().catch(() => {});
    await model.close().catch(() => {});
  });
  const onSignal = (signal: NodeJS.Signals) => {
    interrupted = true;
    console.error(`\n${signal}: cleaning up`);
    void runPendingCleanups().finally(() => process.exit(130));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);

  const results: ModeResult[] = [];
  try {
    await model.start();
    for (const mode of modes) results.push(await runMode(mode, model, clients));
  } finally {
    await closeWorkers();
  }

  const verdict = (ok: boolean) => (ok ? 'met' : 'NOT met');
  console.log('\n=== targets: every subscriber gets every event in order; p99 < 100 ms; events/s ≥ 50% of the baseline; < 50 KB per idle subscription');
  const rows: string[][] = [];
  for (const result of results) {
    const liveRows: Array<[string, Scenario]> = [
      [`${result.mode}`, result.live],
      [`${result.mode}, subscribed after the run started`, result.started],
    ];
    if (result.twoInstances) liveRows.push([`${result.mode}, 2 instances`, result.twoInstances]);
    for (const [name, scenario] of liveRows) {
      const r = scenario.results;
      const p99 = scenario.latency!.e2e.p99;
      const liveRatio = (100 * scenario.eventsPerSecond) / result.baselinePaced.eventsPerSecond;
      const capacityRatio = (100 * result.replay.eventsPerSecond) / result.burst.eventsPerSecond;
      const perEvent = (scenario: Scenario) => scenario.cost!.serverMicros / Math.max(1, scenario.results.events);
      const cpuRatio = (100 * perEvent(result.burst)) / perEvent(result.replay);
      const first = scenario === result.live;
      const memoryRow = scenario === result.started ? result.memory.find((row) => row.name.includes('already started')) : first ? result.memory[0] : undefined;
      const kb = memoryRow ? heapPlusExternalKb(memoryRow) : NaN;
      rows.push([
        name,
        `${r.subscribers - r.failed}/${r.subscribers} ${verdict(r.failed === 0)}`,
        `${fixed(p99)} ${verdict(p99 < 100)}`,
        first ? `${fixed(liveRatio, 0)}% ${verdict(liveRatio >= 50)}` : '-',
        first ? `${fixed(capacityRatio, 0)}% ${verdict(capacityRatio >= 50)}` : '-',
        first ? `${fixed(cpuRatio, 0)}% ${verdict(cpuRatio >= 50)}` : '-',
        memoryRow ? `${fixed(kb)} ${verdict(kb < 50)}` : '-',
      ]);
    }
  }
  printTable(['mode', 'in order', 'e2e p99 ms', 'live ev/s vs ws', 'replay vs ws burst', 'same, by CPU/event', 'KB/idle sub'], rows);
  console.log(
    'live ev/s is bounded by the model’s pace (both sides follow it); replay vs burst is the unpaced capacity, measured (wall clock, sensitive to other load)\n' +
      'and derived from server CPU per delivered event (ws burst µs/event ÷ GraphQL replay µs/event: the throughput ratio when the server is CPU-bound)',
  );
  const failures = results.flatMap((result) => result.failures);
  if (failures.length) {
    console.error(`\ncorrectness failures (${failures.length}):`);
    for (const failure of failures) console.error(`  ${failure}`);
    return 1;
  }
  return 0;
}

if (isMainThread) {
  main().then(
    (code) => process.exit(code),
    (error: unknown) => {
      if (interrupted) return; // the signal handler exits once the cleanups ran
      console.error('benchmark failed:', error instanceof Error ? (error.stack ?? error.message) : error);
      void runPendingCleanups().finally(() => process.exit(1));
    },
  );
} else {
  const data = workerData as { role: 'model' } | { role: 'instance'; env: Record<string, string> };
  const fail = (error: unknown) =>
    parentPort?.postMessage({ type: 'error', message: String(error instanceof Error ? (error.stack ?? error.message) : error) } satisfies FromModel);
  if (data.role === 'model') modelWorker().catch(fail);
  else instanceWorker(data.env).catch(fail);
}
