import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  activeRunReaders,
  createRunStreams,
  RunAlreadyEnded,
  SubscriberOverflow,
  type RunStreams,
  type RunStreamsOptions,
  type StoredRunEvent,
} from '../../src/realtime/run-streams.js';

const logger = pino({ level: 'silent' });
const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

async function redisAvailable(): Promise<boolean> {
  const probe = new Redis(REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null, connectTimeout: 1000 });
  probe.on('error', () => {});
  try {
    await probe.connect();
    return (await probe.ping()) === 'PONG';
  } catch {
    return false;
  } finally {
    probe.disconnect();
  }
}
const HAVE_REDIS = await redisAvailable();
if (!HAVE_REDIS) console.warn(`run-streams: no Redis at ${REDIS_URL}; the Redis suite is skipped`);

/** Reads until the iterator ends (or `max` events), with a deadline so a hang fails the test. */
async function drain(iterator: AsyncIterableIterator<StoredRunEvent>, max = Infinity, ms = 10_000): Promise<StoredRunEvent[]> {
  const events: StoredRunEvent[] = [];
  const deadline = Date.now() + ms;
  while (events.length < max) {
    const left = deadline - Date.now();
    const result = await Promise.race([iterator.next(), sleep(Math.max(0, left)).then(() => 'timeout' as const)]);
    if (result === 'timeout') throw new Error(`timed out after ${events.length} events`);
    if (result.done) break;
    events.push(result.value);
  }
  return events;
}

/** Whether the iterator's next step settles within `ms` (without consuming anything if it doesn't). */
async function settlesWithin<T>(promise: Promise<T>, ms: number): Promise<boolean> {
  return Promise.race([promise.then(() => true), sleep(ms).then(() => false)]);
}

async function eventually(check: () => boolean | Promise<boolean>, ms = 5_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await sleep(10);
  }
}

const seqs = (events: StoredRunEvent[]) => events.map((event) => event.seq);
const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);
const data = (n: number) => Array.from({ length: n }, (_, i) => ({ data: { i } }));

interface Harness {
  make(options?: RunStreamsOptions): Promise<RunStreams>;
  /** Redis: a connection to inspect keys; keys of this suite start with `prefix`. */
  redis?: Redis;
  prefix: string;
}

const implementations: Array<{ name: 'memory' | 'redis'; skip: boolean }> = [
  { name: 'memory', skip: false },
  { name: 'redis', skip: !HAVE_REDIS },
];

describe.each(implementations)('RunStreams ($name)', ({ name, skip }) => {
  const prefix = `agentgraph:test:${randomUUID()}:run:`;
  const readerName = `agentgraph:run-reader:test-${randomUUID().slice(0, 8)}`;
  const opened: RunStreams[] = [];
  const h: Harness = {
    prefix,
    async make(options = {}) {
      const streams = await createRunStreams(name === 'redis' ? REDIS_URL : undefined, logger, {
        keyPrefix: prefix,
        readerConnectionName: readerName,
        ...options,
      });
      opened.push(streams);
      return streams;
    },
  };
  let streams: RunStreams;

  beforeAll(async () => {
    if (skip) return;
    if (name === 'redis') h.redis = new Redis(REDIS_URL);
    streams = await h.make();
  });
  afterAll(async () => {
    await Promise.allSettled(opened.map((s) => s.close()));
    if (h.redis) {
      let cursor = '0';
      do {
        const [next, keys] = await h.redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
        cursor = next;
        if (keys.length) await h.redis.del(...keys);
      } while (cursor !== '0');
      h.redis.disconnect();
    }
  });

  it.skipIf(skip)('reports its kind', () => {
    expect(streams.kind).toBe(name);
  });

  it.skipIf(skip)('assigns seqs 1..n in append order and replays them all', async () => {
    const run = randomUUID();
    expect(await streams.status(run)).toEqual({ exists: false, ended: false, lastSeq: 0 });
    expect(await streams.append(run, data(3))).toEqual([1, 2, 3]);
    expect(await streams.append(run, [])).toEqual([]);
    expect(await streams.status(run)).toEqual({ exists: true, ended: false, lastSeq: 3 });
    expect(await streams.append(run, [{ data: 'x' }, { data: null, final: true }])).toEqual([4, 5]);
    expect(await streams.status(run)).toEqual({ exists: true, ended: true, lastSeq: 5 });
    const events = await drain(streams.subscribe(run, 0));
    expect(events).toEqual([
      { seq: 1, data: { i: 0 }, final: false },
      { seq: 2, data: { i: 1 }, final: false },
      { seq: 3, data: { i: 2 }, final: false },
      { seq: 4, data: 'x', final: false },
      { seq: 5, data: null, final: true },
    ]);
  });

  it.skipIf(skip)('refuses appends after the final event, and a final event that is not last', async () => {
    const run = randomUUID();
    await expect(streams.append(run, [{ data: 1, final: true }, { data: 2 }])).rejects.toThrow(/last event/);
    expect((await streams.status(run)).exists).toBe(false);
    await streams.append(run, [{ data: 1, final: true }]);
    await expect(streams.append(run, [{ data: 2 }])).rejects.toBeInstanceOf(RunAlreadyEnded);
    expect(await streams.status(run)).toEqual({ exists: true, ended: true, lastSeq: 1 });
  });

  it.skipIf(skip)('replays from after=k', async () => {
    const run = randomUUID();
    await streams.append(run, [...data(9), { data: 'end', final: true }]);
    expect(seqs(await drain(streams.subscribe(run, 4)))).toEqual(range(5, 10));
    expect(seqs(await drain(streams.subscribe(run, 9)))).toEqual([10]);
  });

  it.skipIf(skip)('continues live after the replay and ends after the final event', async () => {
    const run = randomUUID();
    await streams.append(run, data(2));
    const iterator = streams.subscribe(run, 0);
    expect(seqs(await drain(iterator, 2))).toEqual([1, 2]);
    const pending = iterator.next();
    expect(await settlesWithin(pending, 50)).toBe(false);
    await streams.append(run, data(2));
    expect(await pending).toEqual({ done: false, value: { seq: 3, data: { i: 0 }, final: false } });
    await streams.append(run, [{ data: 'last', final: true }]);
    expect(await drain(iterator)).toEqual([
      { seq: 4, data: { i: 1 }, final: false },
      { seq: 5, data: 'last', final: true },
    ]);
    expect(await iterator.next()).toEqual({ done: true, value: undefined });
  });

  it.skipIf(skip)('gives a late subscriber everything, then ends; ends at once for unknown runs and ended replays', async () => {
    const run = randomUUID();
    await streams.append(run, [...data(3), { data: 'end', final: true }]);
    expect(seqs(await drain(streams.subscribe(run, 0)))).toEqual([1, 2, 3, 4]);
    expect(await drain(streams.subscribe(run, 4), Infinity, 2_000)).toEqual([]);
    expect(await drain(streams.subscribe(randomUUID(), 0), Infinity, 2_000)).toEqual([]);
  });

  it.skipIf(skip)('delivers every event in order to two subscribers of one run', async () => {
    const run = randomUUID();
    await streams.append(run, data(5));
    const a = drain(streams.subscribe(run, 0));
    const b = drain(streams.subscribe(run, 2));
    for (let i = 0; i < 20; i++) {
      await streams.append(run, data(3));
      if (i % 5 === 0) await sleep(5);
    }
    await streams.append(run, [{ data: 'end', final: true }]);
    expect(seqs(await a)).toEqual(range(1, 66));
    expect(seqs(await b)).toEqual(range(3, 66));
  });

  it.skipIf(skip)('has no gap and no duplicate for subscribers joining while events are being appended', async () => {
    const run = randomUUID();
    const total = 1_400; // more than one replay batch
    const subscribers: Array<{ after: number; result: Promise<StoredRunEvent[]> }> = [];
    for (let i = 0; i < total; i += 20) {
      await streams.append(run, data(20));
      if (i % 100 === 0) {
        const after = Math.floor(i / 3);
        subscribers.push({ after, result: drain(streams.subscribe(run, after), Infinity, 20_000) });
      }
      if (i % 200 === 0) await sleep(1);
    }
    await streams.append(run, [{ data: 'end', final: true }]);
    subscribers.push({ after: 0, result: drain(streams.subscribe(run, 0), Infinity, 20_000) });
    for (const { after, result } of subscribers) expect(seqs(await result)).toEqual(range(after + 1, total + 1));
  });

  it.skipIf(skip)('gives each of many subscribers starting together every event, with appends racing their replays', async () => {
    const run = randomUUID();
    await streams.append(run, data(30));
    const subscribers = Array.from({ length: 200 }, (_, i) => ({ after: i % 3 === 0 ? 0 : 7, iterator: undefined as AsyncIterableIterator<StoredRunEvent> | undefined }));
    const results = subscribers.map((subscriber) => drain((subscriber.iterator = streams.subscribe(run, subscriber.after)), Infinity, 20_000));
    // Appended while the subscribers' first (shared) replay reads are being made.
    const appending = (async () => {
      for (let i = 0; i < 10; i++) {
        await streams.append(run, data(3));
        await sleep(0);
      }
      await streams.append(run, [{ data: 'end', final: true }]);
    })();
    await appending;
    for (const [i, result] of results.entries()) expect(seqs(await result)).toEqual(range(subscribers[i]!.after + 1, 61));
  });

  it.skipIf(skip)('waitForStart resolves when the run stores its first event, at once if it has, and false when aborted', async () => {
    const run = randomUUID();
    const stop = new AbortController();
    const started = streams.waitForStart(run, stop.signal);
    expect(await settlesWithin(started, 100)).toBe(false);
    await streams.append(run, data(1));
    expect(await started).toBe(true);
    expect(await streams.waitForStart(run, new AbortController().signal)).toBe(true);
    const never = new AbortController();
    const waiting = streams.waitForStart(randomUUID(), never.signal);
    expect(await settlesWithin(waiting, 100)).toBe(false);
    never.abort();
    expect(await waiting).toBe(false);
    stop.abort();
  });

  it.skipIf(skip)('fills the gap of a subscriber that goes live after the shared reader started further on', async () => {
    const run = randomUUID();
    await streams.append(run, data(10));
    const a = streams.subscribe(run, 0);
    expect((await a.next()).value).toMatchObject({ seq: 1 }); // a's replay has read 1..10
    await streams.append(run, data(5)); // 11..15: stored after a's replay, before any live reader
    const b = streams.subscribe(run, 0);
    expect(seqs(await drain(b, 15))).toEqual(range(1, 15));
    const bNext = b.next(); // b goes live: the run's reader starts after seq 15
    if (name === 'redis') await eventually(() => activeRunReaders(streams).includes(run));
    await streams.append(run, [...data(4), { data: 'end', final: true }]);
    expect((await bNext).value).toMatchObject({ seq: 16 });
    expect(seqs(await drain(b))).toEqual(range(17, 20));
    expect(seqs(await drain(a))).toEqual(range(2, 20));
  });

  it.skipIf(skip)('assigns unique consecutive seqs to concurrent appends', async () => {
    const run = randomUUID();
    // Redis: a second process (its own connections); memory is one process by nature.
    const other = name === 'redis' ? await h.make() : streams;
    const results = await Promise.all(
      Array.from({ length: 60 }, (_, i) => (i % 2 ? other : streams).append(run, data(1 + (i % 3)))),
    );
    const all = results.flat().sort((x, y) => x - y);
    expect(all).toEqual(range(1, all.length));
    for (const batch of results) expect(batch).toEqual(range(batch[0]!, batch[0]! + batch.length - 1));
    // Appends of one process keep their call order.
    const mine = results.filter((_, i) => i % 2 === 0).map((batch) => batch[0]!);
    expect(mine).toEqual([...mine].sort((x, y) => x - y));
    await other.append(run, [{ data: 'end', final: true }]);
    expect(seqs(await drain(streams.subscribe(run, 0)))).toEqual(range(1, all.length + 1));
    if (other !== streams) await other.close();
  });

  it.skipIf(skip)('keeps at most maxLength events per run, oldest dropped', async () => {
    const small = await h.make({ maxLength: 50 });
    const run = randomUUID();
    for (let i = 0; i < 10; i++) await small.append(run, data(60));
    await small.append(run, [{ data: 'end', final: true }]);
    const events = await drain(small.subscribe(run, 0));
    expect(events.at(-1)!.seq).toBe(601);
    expect(events.length).toBeGreaterThanOrEqual(50);
    expect(events.length).toBeLessThan(601 - 300); // approximate in Redis (MAXLEN ~), exact in memory
    if (name === 'memory') expect(events.length).toBe(50);
    expect(seqs(events)).toEqual(range(events[0]!.seq, 601));
    expect(await small.status(run)).toEqual({ exists: true, ended: true, lastSeq: 601 });
    await small.close();
  });

  it.skipIf(skip)('ends a slow subscriber with SubscriberOverflow while another continues', async () => {
    const bounded = await h.make({ subscriberBufferLimit: 5 });
    const run = randomUUID();
    await bounded.append(run, data(1));
    const slow = bounded.subscribe(run, 0);
    const fast = bounded.subscribe(run, 0);
    expect(seqs(await drain(slow, 1))).toEqual([1]);
    const fastEvents = drain(fast);
    // Live and idle: the slow subscriber now takes live events but reads none.
    const slowNext = slow.next();
    await bounded.append(run, data(1));
    expect((await slowNext).value).toMatchObject({ seq: 2 });
    for (let i = 0; i < 5; i++) {
      await bounded.append(run, data(2));
      await sleep(5);
    }
    await bounded.append(run, [{ data: 'end', final: true }]);
    expect(seqs(await fastEvents)).toEqual(range(1, 13));
    const error = await slow.next().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(SubscriberOverflow);
    expect(error).toMatchObject({ runId: run, lastSeq: 2 });
    expect(await slow.next()).toEqual({ done: true, value: undefined });
    await bounded.close();
  });

  it.skipIf(skip)('return() releases the subscriber, also while a next() is pending', async () => {
    const run = randomUUID();
    await streams.append(run, data(1));
    const iterator = streams.subscribe(run, 0);
    expect(seqs(await drain(iterator, 1))).toEqual([1]);
    const pending = iterator.next();
    await sleep(20);
    expect(await iterator.return!()).toEqual({ done: true, value: undefined });
    expect(await pending).toEqual({ done: true, value: undefined });
    await eventually(() => !activeRunReaders(streams).includes(run));
    // for await … break releases as well.
    for await (const event of streams.subscribe(run, 0)) {
      expect(event.seq).toBe(1);
      break;
    }
    await eventually(() => !activeRunReaders(streams).includes(run));
  });

  it.skipIf(skip)('close() ends open iterators', async () => {
    const own = await h.make();
    const run = randomUUID();
    await own.append(run, data(2));
    const live = own.subscribe(run, 0);
    expect(seqs(await drain(live, 2))).toEqual([1, 2]);
    const pending = live.next();
    const unstarted = own.subscribe(run, 0);
    await sleep(20);
    await own.close();
    expect(await pending).toEqual({ done: true, value: undefined });
    expect(await unstarted.next()).toEqual({ done: true, value: undefined });
    expect(await own.subscribe(run, 0).next()).toEqual({ done: true, value: undefined });
    await expect(own.append(run, data(1))).rejects.toThrow(/closed/);
  });

  if (name === 'memory') {
    it('drops a run ttlSeconds after its final event', async () => {
      const short = await h.make({ ttlSeconds: 0.1 });
      const run = randomUUID();
      await short.append(run, data(2));
      await sleep(150);
      expect((await short.status(run)).exists).toBe(true); // running runs are kept (runningTtl)
      await short.append(run, [{ data: 'end', final: true }]);
      expect(await short.status(run)).toEqual({ exists: true, ended: true, lastSeq: 3 });
      await eventually(async () => !(await short.status(run)).exists, 2_000);
      expect(await drain(short.subscribe(run, 0), Infinity, 1_000)).toEqual([]);
      await short.close();
    });

    it('ends live subscribers of an abandoned run when it expires', async () => {
      const short = await h.make({ ttlSeconds: 0.05, runningTtlSeconds: 0.1 });
      const run = randomUUID();
      await short.append(run, data(1));
      expect(seqs(await drain(short.subscribe(run, 0), Infinity, 2_000))).toEqual([1]);
      expect((await short.status(run)).exists).toBe(false);
      await short.close();
    });
  }

  if (name === 'redis') {
    it.skipIf(skip)('stores a run as one Stream with seq, data and final fields, expiring ttl after the final event', async () => {
      const redis = h.redis!;
      const run = randomUUID();
      const key = `${prefix}${run}`;
      await streams.append(run, [{ data: { a: 1 } }]);
      expect(await redis.type(key)).toBe('stream');
      const running = await redis.ttl(key);
      expect(running).toBeGreaterThan(23 * 3600); // abandoned runs still expire (24 h)
      expect(running).toBeLessThanOrEqual(24 * 3600);
      await streams.append(run, [{ data: 'end', final: true }]);
      const ttl = await redis.ttl(key);
      expect(ttl).toBeGreaterThan(3 * 3600 - 10);
      expect(ttl).toBeLessThanOrEqual(3 * 3600);
      // The last entry of each append carries the append's id (a retried append is not stored twice).
      expect(await redis.xrange(key, '-', '+')).toEqual([
        ['1-0', ['seq', '1', 'data', '{"a":1}', 'final', '0', 'append', expect.stringMatching(/:\d+$/)]],
        ['2-0', ['seq', '2', 'data', '"end"', 'final', '1', 'append', expect.stringMatching(/:\d+$/)]],
      ]);
      expect(await redis.keys(`${key}*`)).toEqual([key]);
    });

    it.skipIf(skip)('keeps seqs increasing when Redis lost a running stream (restart without persistence)', async () => {
      const run = randomUUID();
      expect(await streams.append(run, [{ data: 1 }, { data: 2 }, { data: 3 }])).toEqual([1, 2, 3]);
      await h.redis!.del(`${prefix}${run}`);
      expect(await streams.append(run, [{ data: 4 }, { data: 'end', final: true }])).toEqual([4, 5]);
    });

    it.skipIf(skip)('honours ttlSeconds', async () => {
      const short = await h.make({ ttlSeconds: 1 });
      const run = randomUUID();
      await short.append(run, [{ data: 1, final: true }]);
      expect(await h.redis!.pttl(`${prefix}${run}`)).toBeLessThanOrEqual(1000);
      await eventually(async () => !(await short.status(run)).exists, 3_000);
      expect(await drain(short.subscribe(run, 0), Infinity, 1_000)).toEqual([]);
      await short.close();
    });

    it.skipIf(skip)('ends live subscribers of an abandoned run when its stream expires', async () => {
      const short = await h.make({ ttlSeconds: 1, runningTtlSeconds: 1, readerBlockMs: 200 });
      const run = randomUUID();
      await short.append(run, data(1));
      expect(await h.redis!.pttl(`${prefix}${run}`)).toBeLessThanOrEqual(1000);
      expect(seqs(await drain(short.subscribe(run, 0), Infinity, 5_000))).toEqual([1]);
      expect((await short.status(run)).exists).toBe(false);
      await eventually(() => activeRunReaders(short).length === 0);
      await short.close();
    });

    it.skipIf(skip)('runs one XREAD reader per run per process, stopped when the last local subscriber leaves', async () => {
      const redis = h.redis!;
      const readerConnections = async () =>
        (await redis.client('LIST') as string).split('\n').filter((line) => line.includes(` name=${readerName} `)).length;
      const own = await h.make();
      const [a, b] = [randomUUID(), randomUUID()];
      await own.append(a, data(1));
      await own.append(b, data(1));
      const subscribers = [own.subscribe(a, 0), own.subscribe(a, 0), own.subscribe(a, 1), own.subscribe(b, 0), own.subscribe(b, 0)];
      const pending = subscribers.map((iterator) => drain(iterator, iterator === subscribers[2] ? 2 : 3));
      await eventually(async () => activeRunReaders(own).length === 2 && (await readerConnections()) === 2);
      expect(activeRunReaders(own).sort()).toEqual([a, b].sort());
      // Live events reach every subscriber through the one reader of each run.
      await own.append(a, data(2));
      await own.append(b, data(2));
      const got = await Promise.all(pending);
      expect(got.map(seqs)).toEqual([[1, 2, 3], [1, 2, 3], [2, 3], [1, 2, 3], [1, 2, 3]]);
      expect(await readerConnections()).toBe(2);
      for (const iterator of subscribers.slice(0, 2)) await iterator.return!();
      expect(activeRunReaders(own)).toContain(a); // one subscriber of run a is left
      await subscribers[2]!.return!();
      await eventually(async () => activeRunReaders(own).length === 1 && (await readerConnections()) === 1);
      for (const iterator of subscribers.slice(3)) await iterator.return!();
      await eventually(async () => activeRunReaders(own).length === 0 && (await readerConnections()) === 0);
      await own.close();
    });

    it.skipIf(skip)('waitForStart sees a run started by another process, and gives its connection back when it ends', async () => {
      const redis = h.redis!;
      const waitConnections = async () =>
        (await redis.client('LIST') as string).split('\n').filter((line) => line.includes(` name=${readerName} `)).length;
      const own = await h.make();
      const writer = await h.make();
      const run = randomUUID();
      const stop = new AbortController();
      const started = own.waitForStart(run, stop.signal);
      await eventually(async () => (await waitConnections()) === 1);
      await writer.append(run, data(1));
      expect(await started).toBe(true);
      await eventually(async () => (await waitConnections()) === 0);
      const abandoned = new AbortController();
      const waiting = own.waitForStart(randomUUID(), abandoned.signal);
      await eventually(async () => (await waitConnections()) === 1);
      abandoned.abort();
      expect(await waiting).toBe(false);
      await eventually(async () => (await waitConnections()) === 0);
      await Promise.all([own.close(), writer.close()]);
    });

    it.skipIf(skip)('delivers events appended by another process to live subscribers', async () => {
      const writer = await h.make();
      const run = randomUUID();
      await writer.append(run, data(1));
      const events = drain(streams.subscribe(run, 0));
      await sleep(20);
      await writer.append(run, data(3));
      await writer.append(run, [{ data: 'end', final: true }]);
      expect(seqs(await events)).toEqual(range(1, 5));
      await eventually(() => !activeRunReaders(streams).includes(run));
      await writer.close();
    });
  }
});
