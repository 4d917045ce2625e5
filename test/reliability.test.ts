import { spawn, type ChildProcess } from 'node:child_process';
import http from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { Redis } from 'ioredis';
import WebSocket from 'ws';
import { afterAll, describe, expect, it } from 'vitest';
import { closeAll, collect, eventually, SERVICES_MODE, startWithScriptedModel } from './helpers/server.js';
import { assistantText, RUN_EVENTS, type RunEvent, withoutPings } from './helpers/run-events.js';
import { freePort } from './helpers/ports.js';
import { SSE_PATH } from '../src/server.js';

/**
 * What a chat UI relies on when things go wrong: Redis restarting mid-stream, clients that come
 * and go by the thousand, and a client that stops reading.
 */

type Data = Record<string, any>;

const CREATE_AGENT = `mutation { createAgent(input: { model: "test/scripted" }) { agent { id } } }`;
const SEND_ASYNC = `mutation($id: ID!, $text: String!) { sendMessageAsync(input: { agentId: $id, input: $text }) { run { id } } }`;

/** A Redis of this test's own (so that restarting it disturbs nobody), persisting every write. */
async function privateRedis() {
  const dir = mkdtempSync(path.join(tmpdir(), 'agentgraph-redis-'));
  const port = await freePort();
  const url = `redis://127.0.0.1:${port}`;
  let child: ChildProcess | undefined;
  const start = async () => {
    child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'yes', '--appendfsync', 'always', '--dir', dir], { stdio: 'ignore' });
    const probe = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
    probe.on('error', () => {}); // refused until the server is up
    const deadline = Date.now() + 10_000;
    for (;;) {
      const up = await probe.connect().then(() => probe.ping()).then(() => true, () => false);
      if (up) break;
      if (Date.now() > deadline) throw new Error('redis-server did not start');
      probe.disconnect();
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    probe.disconnect();
  };
  const stop = async () => {
    const exited = new Promise((resolve) => child?.once('exit', resolve));
    child?.kill('SIGTERM'); // a clean shutdown: the append-only file is complete
    await exited;
  };
  await start();
  return {
    url,
    start,
    stop,
    async close() {
      await stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

describe('reliability', () => {
  const cleanup: Array<{ close(): Promise<void> } | undefined> = [];

  /**
   * A run streaming about 24 MB in 480 deltas (more than the kernel's and the server's buffers
   * between it and a client that stops reading hold), and a graphql-ws subscriber reading it all.
   */
  async function startLongRun(env: Record<string, string>) {
    const { model, t } = await startWithScriptedModel(env);
    cleanup.push(model, t);
    const agentId = ((await t.ok(CREATE_AGENT as never)) as Data).createAgent.agent.id;
    const piece = 'abcdefghij'.repeat(5_000);
    const text = Array.from({ length: 480 }, (_, index) => `${index}:${piece}`.slice(0, piece.length)).join('');
    model.enqueue({ text, chunkSize: piece.length, chunkDelayMs: 5 });
    const runId = ((await t.ok(SEND_ASYNC as never, { id: agentId, text: 'talk a lot' } as never)) as Data).sendMessageAsync.run.id;
    const fast = collect<{ runEvents: RunEvent }>(t.ws(), { query: RUN_EVENTS, variables: { runId } });
    return { t, text, runId, fast };
  }
  afterAll(async () => closeAll(...cleanup.reverse()));

  it('Redis restarting mid-stream: subscribers go on from their last seq, nothing lost or repeated', async () => {
    const redis = await privateRedis();
    cleanup.push(redis);
    const { model, t } = await startWithScriptedModel({ REDIS_URL: redis.url });
    cleanup.push(model, t);
    const agent = (await t.ok(CREATE_AGENT as never)) as Data;
    const text = Array.from({ length: 60 }, (_, index) => `w${index} `).join('');
    model.enqueue({ text, chunkSize: 4, chunkDelayMs: 60 });
    const runId = ((await t.ok(SEND_ASYNC as never, { id: agent.createAgent.agent.id, text: 'talk' } as never)) as Data).sendMessageAsync.run.id;

    // One subscriber stays connected through the outage; another leaves and comes back with `after`.
    const staying = collect<{ runEvents: RunEvent }>(t.ws(), { query: RUN_EVENTS, variables: { runId } });
    const leavingClient = t.ws();
    const leaving = collect<{ runEvents: RunEvent }>(leavingClient, { query: RUN_EVENTS, variables: { runId } });
    await eventually(() => withoutPings(leaving.values.map((value) => value.runEvents)).length >= 5, undefined, 15_000);

    await redis.stop();
    leaving.dispose();
    const seenBefore = withoutPings(leaving.values.map((value) => value.runEvents));
    await new Promise((resolve) => setTimeout(resolve, 800)); // the model keeps streaming meanwhile
    await redis.start();
    const back = collect<{ runEvents: RunEvent }>(t.ws(), { query: RUN_EVENTS, variables: { runId, after: seenBefore.at(-1)!.seq } });

    await eventually(() => staying.completed && back.completed, undefined, 30_000);
    expect(staying.errors).toEqual([]);
    expect(back.errors).toEqual([]);
    for (const events of [withoutPings(staying.values.map((value) => value.runEvents)), [...seenBefore, ...withoutPings(back.values.map((value) => value.runEvents))]]) {
      expect(events.map((event) => event.seq)).toEqual(events.map((_, index) => index + 1));
      expect(assistantText(events)).toBe(text);
      expect(events.find((event) => event.__typename === 'StopReasonEvent')?.stopReason).toBe('END_TURN');
    }
    const run = (await t.ok(`query($id: ID!) { run(id: $id) { status } }` as never, { id: runId } as never)) as Data;
    expect(run.run.status).toBe('COMPLETED');
  });

  it('10,000 subscribe/unsubscribe cycles leave the heap and Redis subscriptions where they were', async () => {
    // Services mode: a Redis of the test's own, so that other servers' connections are not counted.
    const ownRedis = SERVICES_MODE ? await privateRedis() : undefined;
    cleanup.push(ownRedis);
    const { model, t } = await startWithScriptedModel(ownRedis ? { REDIS_URL: ownRedis.url } : {});
    cleanup.push(t, model); // the model first: it ends the long run
    const agentId = ((await t.ok(CREATE_AGENT as never)) as Data).createAgent.agent.id;
    // A run that streams a word now and then for minutes.
    model.enqueue({ text: 'word '.repeat(500), chunkSize: 5, chunkDelayMs: 400 });
    const runId = ((await t.ok(SEND_ASYNC as never, { id: agentId, text: 'talk' } as never)) as Data).sendMessageAsync.run.id;
    // Queued behind it (same agent), so it does not start during the test: its subscribers wait.
    const queuedRunId = ((await t.ok(SEND_ASYNC as never, { id: agentId, text: 'later' } as never)) as Data).sendMessageAsync.run.id;
    const client = t.ws();
    const watcher = collect<{ runEvents: RunEvent }>(client, { query: RUN_EVENTS, variables: { runId } });
    await eventually(() => watcher.values.length > 0, undefined, 15_000);

    const cycle = async (index: number) => {
      if (index % 4 === 2) {
        // Wait for a run that has not started, then leave.
        const unsubscribe = client.subscribe({ query: RUN_EVENTS, variables: { runId: queuedRunId } }, { next() {}, error() {}, complete() {} });
        await new Promise((resolve) => setTimeout(resolve, 20));
        unsubscribe();
        return;
      }
      if (index % 2) {
        // Subscribe and leave at once (the server may not even have started it).
        client.subscribe({ query: `subscription($id: ID!) { agentEvents(agentId: $id) { type } }`, variables: { id: agentId } }, { next() {}, error() {}, complete() {} })();
        return;
      }
      await new Promise<void>((resolve, reject) => {
        const unsubscribe = client.subscribe<{ runEvents: RunEvent }>(
          { query: RUN_EVENTS, variables: { runId } },
          {
            next: () => {
              unsubscribe();
              resolve();
            },
            error: reject,
            complete: resolve,
          },
        );
      });
    };
    const cycles = async (count: number) => {
      let next = 0;
      await Promise.all(Array.from({ length: 25 }, async () => {
        while (next < count) await cycle(next++);
      }));
    };

    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    const settledHeap = async () => {
      await new Promise((resolve) => setTimeout(resolve, 300));
      for (let index = 0; index < 3; index += 1) gc();
      return process.memoryUsage().heapUsed;
    };
    const redis = ownRedis ? new Redis(ownRedis.url) : undefined;
    cleanup.push(redis && { close: async () => void redis.disconnect() });
    const redisCounts = async () => {
      if (!redis) return null;
      const readers = ((await redis.client('LIST')) as string).split('\n').filter((line) => line.includes(' name=agentgraph:run-reader ')).length;
      const [, subscribers] = (await redis.pubsub('NUMSUB', `agentgraph:agentEvents:${agentId}`)) as [string, number];
      return { readers, subscribers: Number(subscribers) };
    };

    await cycles(500); // warm-up: caches and pools reach their working size
    const baseline = { heap: await settledHeap(), redis: await redisCounts() };
    await cycles(10_000);
    const after = { heap: await settledHeap(), redis: await redisCounts() };

    // A leak of even 1 KB per cycle would be 10 MB here.
    expect(after.heap - baseline.heap).toBeLessThan(4 * 1024 * 1024);
    if (SERVICES_MODE) {
      expect(after.redis).toEqual(baseline.redis);
      // The watcher's reader is still there; nothing waits for the queued run any more, and no
      // agentEvents subscriber is left listening to the agent's channel.
      expect(after.redis!.readers).toBe(1);
      expect(after.redis!.subscribers).toBe(0);
    }
    expect(watcher.errors).toEqual([]);
    expect(watcher.completed).toBe(false);
    await t.ok(`mutation($id: ID!) { cancelRun(input: { runId: $id }) { run { status } } }` as never, { id: runId } as never);
    await eventually(() => watcher.completed, undefined, 10_000);
  }, 120_000);

  it('a subscriber that stops reading is ended with SLOW_CONSUMER, others get everything, and it resumes with after', async () => {
    // A client that stops reading also stops answering pings: keep-alive would cut it off first
    // on a slow machine, so it is long here.
    const { t, text, runId, fast } = await startLongRun({ RUN_EVENT_BUFFER_LIMIT: '20', WS_KEEPALIVE_MS: '600000' });

    // The slow client speaks graphql-ws itself, so that it can stop reading its socket.
    const slow = new WebSocket(t.wsUrl, 'graphql-transport-ws');
    const messages: Data[] = [];
    slow.on('message', (raw) => messages.push(JSON.parse(String(raw)) as Data));
    await new Promise((resolve) => slow.once('open', resolve));
    slow.send(JSON.stringify({ type: 'connection_init', payload: {} }));
    await eventually(() => messages.some((message) => message.type === 'connection_ack'));
    slow.send(JSON.stringify({ id: '1', type: 'subscribe', payload: { query: RUN_EVENTS, variables: { runId } } }));
    await eventually(() => messages.some((message) => message.type === 'next'), undefined, 15_000);
    slow.pause();

    await eventually(() => fast.completed, undefined, 60_000);
    expect(fast.errors).toEqual([]);
    const fastEvents = withoutPings(fast.values.map((value) => value.runEvents));
    expect(fastEvents.map((event) => event.seq)).toEqual(fastEvents.map((_, index) => index + 1));
    expect(assistantText(fastEvents)).toBe(text);

    slow.resume();
    await eventually(() => messages.some((message) => message.id === '1' && (message.type === 'error' || message.type === 'complete')), undefined, 90_000);
    const ending = messages.find((message) => message.id === '1' && (message.type === 'error' || message.type === 'complete'))!;
    const errors = (ending.type === 'error' ? ending.payload : messages.filter((message) => message.id === '1' && message.payload?.errors).at(-1)?.payload.errors) as Data[];
    expect(errors?.[0]?.extensions).toMatchObject({ code: 'SLOW_CONSUMER', runId });
    expect(errors[0]!.message).toMatch(/subscribe again with after: \d+/);
    const received = withoutPings(messages.filter((message) => message.id === '1' && message.payload?.data).map((message) => message.payload.data.runEvents as RunEvent));
    expect(received.length).toBeLessThan(fastEvents.length);
    const lastSeq = errors[0]!.extensions!.lastSeq as number;
    expect(lastSeq).toBe(received.at(-1)!.seq);

    slow.send(JSON.stringify({ id: '2', type: 'subscribe', payload: { query: RUN_EVENTS, variables: { runId, after: lastSeq } } }));
    await eventually(() => messages.some((message) => message.id === '2' && message.type === 'complete'), undefined, 60_000);
    const resumed = withoutPings(messages.filter((message) => message.id === '2' && message.payload?.data).map((message) => message.payload.data.runEvents as RunEvent));
    const all = [...received, ...resumed];
    expect(all.map((event) => event.seq)).toEqual(fastEvents.map((event) => event.seq));
    expect(assistantText(all)).toBe(text);
    slow.close();
  }, 240_000);

  it('an SSE client that stops reading is ended with SLOW_CONSUMER while a graphql-ws subscriber gets everything', async () => {
    const { t, text, runId, fast } = await startLongRun({ SSE_BUFFER_BYTES: String(1024 * 1024) });

    // The slow client reads the first bytes of its event stream, then stops reading.
    let body = '';
    let ended = false;
    const response = await new Promise<http.IncomingMessage>((resolve, reject) => {
      const request = http.request(new URL(SSE_PATH, t.url), { method: 'POST', headers: { 'content-type': 'application/json', accept: 'text/event-stream' } }, resolve);
      request.on('error', reject);
      request.end(JSON.stringify({ query: RUN_EVENTS, variables: { runId } }));
    });
    expect(response.statusCode).toBe(200);
    response.setEncoding('utf8');
    response.on('data', (chunk: string) => (body += chunk));
    response.on('end', () => (ended = true));
    response.on('error', () => {});
    await eventually(() => body.includes('event: next'), undefined, 15_000);
    response.pause();

    // Storing the 24 MB reply takes a while after its last delta (about 17 s embedded on a quiet machine).
    await eventually(() => fast.completed, undefined, 150_000);
    expect(fast.errors).toEqual([]);
    const fastEvents = withoutPings(fast.values.map((value) => value.runEvents));
    expect(assistantText(fastEvents)).toBe(text);

    response.resume();
    await eventually(() => ended, undefined, 60_000);
    const events = body.split('\n\n').filter(Boolean).map((frame) => ({
      event: /^event: (.*)$/m.exec(frame)?.[1],
      data: /^data: (.*)$/m.exec(frame)?.[1],
    }));
    expect(events.at(-1)?.event).toBe('complete');
    const last = JSON.parse(events.filter((event) => event.event === 'next').at(-1)!.data!) as Data;
    expect(last.errors?.[0]?.extensions?.code).toBe('SLOW_CONSUMER');
    const received = events.filter((event) => event.event === 'next').map((event) => JSON.parse(event.data!) as Data).filter((payload) => payload.data);
    expect(received.length).toBeGreaterThan(0);
    expect(received.length).toBeLessThan(fastEvents.length);
  }, 240_000);
});
