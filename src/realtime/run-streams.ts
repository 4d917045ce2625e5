import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import type { Logger } from '../logger.js';

/** An event as stored: `seq` is assigned by the store, 1, 2, 3… per run, in append order. */
export interface StoredRunEvent {
  seq: number;
  /** JSON-serialisable. */
  data: unknown;
  final: boolean;
}

export interface RunStreamStatus {
  exists: boolean;
  ended: boolean;
  lastSeq: number;
}

/**
 * The events of runs, kept for a while so that a subscriber can replay what it missed and then
 * continue live: in process (memory) or in Redis Streams (shared by every instance).
 */
export interface RunStreams {
  readonly kind: 'redis' | 'memory';
  /**
   * Appends events of one run in order; the last one may be final (the run ended). Returns their
   * seqs. Appends of one run from one process are serialised. Appending to an ended run throws
   * RunAlreadyEnded.
   */
  append(runId: string, events: Array<{ data: unknown; final?: boolean }>): Promise<number[]>;
  /**
   * Events with seq > after, oldest first, then live ones as they are appended; the iterator ends
   * after the final event. Unknown/expired run with nothing stored: ends at once (the caller decides
   * what that means). Breaking out of the loop (return()) releases everything. A subscriber that
   * falls more than `subscriberBufferLimit` events behind gets SubscriberOverflow from next().
   * close() ends the iterator (done).
   */
  subscribe(runId: string, after: number): AsyncIterableIterator<StoredRunEvent>;
  /** Whether anything is stored for the run (for NOT_FOUND vs. replay decisions) and whether it ended. */
  status(runId: string): Promise<RunStreamStatus>;
  /**
   * Resolves true as soon as the run has a stored event (at once if it has), false once `signal`
   * aborts. Subscribers of a run that has not started yet wait on this instead of polling.
   */
  waitForStart(runId: string, signal: AbortSignal): Promise<boolean>;
  close(): Promise<void>;
}

export interface RunStreamsOptions {
  /** How long a run's events are kept after its final event. Default 3 h (Letta's 10800 s). */
  ttlSeconds?: number;
  /** Events kept per run, oldest dropped first (Redis: `MAXLEN ~`, so approximately). Default 10000. */
  maxLength?: number;
  /** How long a run that never ends is kept after its last append. Default 24 h (at least ttlSeconds). */
  runningTtlSeconds?: number;
  /** Live events a subscriber may have waiting before it is ended with SubscriberOverflow. Default 10000. */
  subscriberBufferLimit?: number;
  /** Redis: key of a run's stream is `${keyPrefix}${runId}`. Default `agentgraph:run:`. */
  keyPrefix?: string;
  /** Redis: client name of the live-reader connections (CLIENT LIST). Default `agentgraph:run-reader`. */
  readerConnectionName?: string;
  /** Redis: how long a live XREAD blocks before the reader checks that the stream still exists. Default 30 s. */
  readerBlockMs?: number;
  /** Redis: how long an append is retried while Redis does not answer. Default 60 s. */
  appendRetryMs?: number;
}

/** A subscriber fell too far behind the live events; resubscribe with `after: lastSeq` to catch up. */
export class SubscriberOverflow extends Error {
  override readonly name = 'SubscriberOverflow';
  constructor(
    readonly runId: string,
    /** The last seq this subscriber was given. */
    readonly lastSeq: number,
    readonly limit: number,
  ) {
    super(`Subscriber of run ${runId} fell more than ${limit} events behind (last delivered seq ${lastSeq})`);
  }
}

/** An append to a run whose final event is already stored. */
export class RunAlreadyEnded extends Error {
  override readonly name = 'RunAlreadyEnded';
  constructor(readonly runId: string) {
    super(`Run ${runId} has already ended; its stream takes no more events`);
  }
}

const DEFAULTS = {
  ttlSeconds: 3 * 60 * 60,
  maxLength: 10_000,
  runningTtlSeconds: 24 * 60 * 60,
  subscriberBufferLimit: 10_000,
  keyPrefix: 'agentgraph:run:',
  readerConnectionName: 'agentgraph:run-reader',
  readerBlockMs: 30_000,
  appendRetryMs: 60_000,
};
type Settings = typeof DEFAULTS;

/** Events fetched per replay read. */
const REPLAY_BATCH = 500;
/** Redis live reader: events per XREAD. */
const READ_COUNT = 1000;

/** Redis Streams when REDIS_URL is set (every instance sees every run), in process otherwise. */
export async function createRunStreams(redisUrl: string | undefined, logger: Logger, options: RunStreamsOptions = {}): Promise<RunStreams> {
  const defined = Object.fromEntries(Object.entries(options).filter(([, value]) => value !== undefined));
  const settings: Settings = { ...DEFAULTS, ...defined };
  settings.runningTtlSeconds = Math.max(settings.runningTtlSeconds, settings.ttlSeconds);
  settings.subscriberBufferLimit = Math.max(1, Math.floor(settings.subscriberBufferLimit));
  settings.maxLength = Math.max(1, Math.floor(settings.maxLength));
  const log = logger.child({ component: 'run-streams' });
  if (!redisUrl) return new MemoryRunStreams(settings, log);
  const client = new Redis(redisUrl, { maxRetriesPerRequest: 3, lazyConnect: true, connectionName: 'agentgraph:run-streams' });
  client.on('error', (error: Error) => log.warn({ err: error.message }, 'redis connection error'));
  try {
    await client.connect();
  } catch (error) {
    client.disconnect();
    throw new Error(`Cannot connect to Redis at REDIS_URL: ${(error as Error).message}`);
  }
  return new RedisRunStreams(client, settings, log);
}

/** Test hook: the runs this process has a live Redis reader for (always empty in memory). */
export function activeRunReaders(streams: RunStreams): string[] {
  return streams instanceof RedisRunStreams ? streams.activeReaders() : [];
}

function normaliseEvents(runId: string, events: Array<{ data: unknown; final?: boolean }>) {
  events.forEach((event, index) => {
    if (event.final && index !== events.length - 1) throw new Error(`Only the last event appended to run ${runId} may be final`);
  });
  return events.map((event) => ({ data: event.data === undefined ? null : event.data, final: Boolean(event.final) }));
}

// ---------------------------------------------------------------------------------------------
// Subscriber: shared by both stores. Replay is pulled in batches from the store (nothing is
// buffered for it); live events are pushed by the store. Live events that arrive while the
// subscriber is still replaying wait in `stash`; on going live both are merged and deduplicated by
// seq, so nothing is missed or repeated (see `RunSource.goLive`).
// ---------------------------------------------------------------------------------------------

interface RunSource {
  /** Stored events with from <= seq (<= to), oldest first, at most `count`. */
  readRange(runId: string, from: number, to: number | undefined, count: number): Promise<StoredRunEvent[]>;
  status(runId: string): Promise<RunStreamStatus>;
  /**
   * The subscriber has replayed everything up to `subscriber.lastSeq` and will take live events
   * from now on; returns events it would otherwise miss (seq > lastSeq that are neither replayed
   * nor going to be pushed to it).
   */
  goLive(subscriber: Subscriber): Promise<StoredRunEvent[]>;
  /** The subscriber is done; stop pushing to it. */
  release(subscriber: Subscriber): void;
}

const DONE: IteratorReturnResult<undefined> = { value: undefined, done: true };

class Subscriber implements AsyncIterableIterator<StoredRunEvent> {
  private state: 'init' | 'replay' | 'live' | 'done' = 'init';
  /** Highest seq queued (or delivered): anything at or below it is a duplicate. */
  private queuedSeq: number;
  /** Highest seq handed to the consumer. */
  private deliveredSeq: number;
  private queue: StoredRunEvent[] = [];
  private head = 0;
  /** Live events pushed while replaying. */
  private stash: StoredRunEvent[] = [];
  private replayExhausted = false;
  /** The store will push nothing more (run expired, reader gone): end once the queue is drained. */
  private sourceEnded = false;
  private failure: Error | undefined;
  private wake: (() => void) | undefined;
  private pending: Promise<unknown> = Promise.resolve();

  constructor(
    readonly runId: string,
    after: number,
    private readonly source: RunSource,
    private readonly limit: number,
    private readonly onDone: (subscriber: Subscriber) => void,
  ) {
    this.queuedSeq = after;
    this.deliveredSeq = after;
  }

  /** Seq up to which this subscriber has everything (replayed or queued). */
  get lastSeq(): number {
    return this.queuedSeq;
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  next(): Promise<IteratorResult<StoredRunEvent>> {
    // Calls are served one after another, so that overlapping next()s can't interleave a replay.
    const result = this.pending.then(() => this.pull());
    this.pending = result.catch(() => {});
    return result;
  }

  async return(): Promise<IteratorResult<StoredRunEvent>> {
    this.end();
    return DONE;
  }

  /** A live event from the store (any order of arrival relative to the replay). */
  offer(event: StoredRunEvent): void {
    if (this.state === 'done' || event.seq <= this.queuedSeq) return;
    const backlog = this.stash.length + (this.state === 'live' ? this.queue.length - this.head : 0);
    if (backlog >= this.limit) {
      this.failure = new SubscriberOverflow(this.runId, this.deliveredSeq, this.limit);
      this.end();
      return;
    }
    if (this.state === 'live') {
      this.enqueue(event);
      this.notify();
    } else {
      this.stash.push(event);
    }
  }

  /** The store has nothing more for this subscriber beyond what is queued. */
  markSourceEnded(): void {
    this.sourceEnded = true;
    this.notify();
  }

  /** Ends the iterator now (close, return(), overflow, final delivered). */
  end(): void {
    if (this.state === 'done') return;
    this.state = 'done';
    this.queue = [];
    this.head = 0;
    this.stash = [];
    this.source.release(this);
    this.onDone(this);
    this.notify();
  }

  private notify(): void {
    const wake = this.wake;
    this.wake = undefined;
    wake?.();
  }

  private enqueue(event: StoredRunEvent): void {
    if (event.seq <= this.queuedSeq) return;
    this.queue.push(event);
    this.queuedSeq = event.seq;
  }

  private dequeue(): StoredRunEvent | undefined {
    if (this.head >= this.queue.length) return undefined;
    const event = this.queue[this.head++]!;
    if (this.head === this.queue.length) {
      this.queue = [];
      this.head = 0;
    } else if (this.head >= 1024 && this.head * 2 >= this.queue.length) {
      this.queue = this.queue.slice(this.head);
      this.head = 0;
    }
    return event;
  }

  private async pull(): Promise<IteratorResult<StoredRunEvent>> {
    for (;;) {
      if (this.failure) {
        const failure = this.failure;
        this.failure = undefined;
        throw failure;
      }
      if (this.state === 'done') return DONE;
      const event = this.dequeue();
      if (event) {
        this.deliveredSeq = event.seq;
        if (event.final) this.end();
        return { value: event, done: false };
      }
      if (this.state === 'init') await this.begin();
      else if (this.state === 'replay') await this.replay();
      else if (this.sourceEnded) this.end();
      else await new Promise<void>((resolve) => (this.wake = resolve));
    }
  }

  private async begin(): Promise<void> {
    const batch = await this.source.readRange(this.runId, this.queuedSeq + 1, undefined, REPLAY_BATCH);
    if (this.state !== 'init') return;
    if (batch.length === 0) {
      const status = await this.source.status(this.runId);
      if (this.state !== 'init') return;
      // Nothing stored (unknown or expired run), or nothing after `after` in an ended run.
      if (!status.exists || (status.ended && status.lastSeq <= this.queuedSeq)) {
        this.end();
        return;
      }
    }
    this.state = 'replay';
    this.takeReplayBatch(batch);
  }

  private async replay(): Promise<void> {
    if (!this.replayExhausted) {
      const batch = await this.source.readRange(this.runId, this.queuedSeq + 1, undefined, REPLAY_BATCH);
      if (this.state === 'replay') this.takeReplayBatch(batch);
      return;
    }
    // Everything stored when the last read ran has been delivered: switch to live events.
    const missed = await this.source.goLive(this);
    if (this.state !== 'replay') return;
    for (const event of missed) this.enqueue(event);
    for (const event of this.stash) this.enqueue(event);
    this.stash = [];
    this.state = 'live';
  }

  private takeReplayBatch(batch: StoredRunEvent[]): void {
    for (const event of batch) this.enqueue(event);
    // A short read reached the end of the stream as it was after this subscriber registered, so
    // anything later is (or will be) pushed to it.
    if (batch.length < REPLAY_BATCH) this.replayExhausted = true;
  }
}

// ---------------------------------------------------------------------------------------------
// Memory
// ---------------------------------------------------------------------------------------------

interface MemoryRun {
  events: StoredRunEvent[];
  lastSeq: number;
  ended: boolean;
  /** Drops the run: runningTtl after its last append, ttl after its final event. */
  timer: NodeJS.Timeout;
}

class MemoryRunStreams implements RunStreams, RunSource {
  readonly kind = 'memory' as const;
  private readonly runs = new Map<string, MemoryRun>();
  private readonly subscribers = new Map<string, Set<Subscriber>>();
  private readonly all = new Set<Subscriber>();
  /** waitForStart callers per run that has stored nothing yet. */
  private readonly startWaiters = new Map<string, Set<() => void>>();
  private closed = false;

  constructor(
    private readonly settings: Settings,
    private readonly log: Logger,
  ) {}

  async append(runId: string, events: Array<{ data: unknown; final?: boolean }>): Promise<number[]> {
    if (this.closed) throw new Error('RunStreams is closed');
    const normalised = normaliseEvents(runId, events);
    // Stored as JSON would be (a copy, as Redis would give), once: every reader shares the copy.
    const encoded = normalised.map((event) => ({ data: JSON.parse(JSON.stringify(event.data)) as unknown, final: event.final }));
    if (encoded.length === 0) return [];
    let run = this.runs.get(runId);
    if (run?.ended) throw new RunAlreadyEnded(runId);
    if (!run) {
      run = { events: [], lastSeq: 0, ended: false, timer: this.expireAfter(runId, this.settings.runningTtlSeconds) };
      this.runs.set(runId, run);
      for (const started of [...(this.startWaiters.get(runId) ?? [])]) started();
    } else {
      run.timer.refresh();
    }
    const seqs: number[] = [];
    const stored: StoredRunEvent[] = [];
    for (const event of encoded) {
      const seq = ++run.lastSeq;
      seqs.push(seq);
      stored.push({ seq, data: event.data, final: event.final });
    }
    run.events.push(...stored);
    if (run.events.length > this.settings.maxLength) run.events.splice(0, run.events.length - this.settings.maxLength);
    if (stored.at(-1)!.final) {
      run.ended = true;
      clearTimeout(run.timer);
      run.timer = this.expireAfter(runId, this.settings.ttlSeconds);
    }
    for (const subscriber of [...(this.subscribers.get(runId) ?? [])]) {
      for (const event of stored) subscriber.offer(event);
    }
    return seqs;
  }

  subscribe(runId: string, after: number): AsyncIterableIterator<StoredRunEvent> {
    const subscriber = new Subscriber(runId, sanitiseAfter(after), this, this.settings.subscriberBufferLimit, (s) => this.all.delete(s));
    if (this.closed) {
      subscriber.end();
      return subscriber;
    }
    this.all.add(subscriber);
    let set = this.subscribers.get(runId);
    if (!set) this.subscribers.set(runId, (set = new Set()));
    set.add(subscriber);
    return subscriber;
  }

  async status(runId: string): Promise<RunStreamStatus> {
    const run = this.runs.get(runId);
    return run ? { exists: true, ended: run.ended, lastSeq: run.lastSeq } : { exists: false, ended: false, lastSeq: 0 };
  }

  waitForStart(runId: string, signal: AbortSignal): Promise<boolean> {
    if (this.runs.has(runId)) return Promise.resolve(true);
    if (signal.aborted || this.closed) return Promise.resolve(false);
    return new Promise((resolve) => {
      let waiters = this.startWaiters.get(runId);
      if (!waiters) this.startWaiters.set(runId, (waiters = new Set()));
      const settle = (started: boolean) => {
        waiters.delete(done);
        if (waiters.size === 0 && this.startWaiters.get(runId) === waiters) this.startWaiters.delete(runId);
        signal.removeEventListener('abort', aborted);
        resolve(started);
      };
      const done = () => settle(true);
      const aborted = () => settle(false);
      waiters.add(done);
      signal.addEventListener('abort', aborted, { once: true });
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const subscriber of [...this.all]) subscriber.end();
    for (const run of this.runs.values()) clearTimeout(run.timer);
    this.runs.clear();
  }

  // RunSource
  async readRange(runId: string, from: number, to: number | undefined, count: number): Promise<StoredRunEvent[]> {
    const events = this.runs.get(runId)?.events;
    if (!events?.length) return [];
    const start = Math.max(0, from - events[0]!.seq);
    const end = Math.min(events.length, start + count, to === undefined ? Infinity : to - events[0]!.seq + 1);
    return events.slice(start, Math.max(start, end));
  }

  async goLive(subscriber: Subscriber): Promise<StoredRunEvent[]> {
    // Appends push synchronously to every registered subscriber, so the stash already holds
    // everything after the replay; only a run dropped meanwhile needs handling.
    if (!this.runs.has(subscriber.runId)) subscriber.markSourceEnded();
    return [];
  }

  release(subscriber: Subscriber): void {
    const set = this.subscribers.get(subscriber.runId);
    set?.delete(subscriber);
    if (set?.size === 0) this.subscribers.delete(subscriber.runId);
  }

  private expireAfter(runId: string, seconds: number): NodeJS.Timeout {
    const timer = setTimeout(() => {
      this.runs.delete(runId);
      this.log.debug({ runId }, 'run stream expired');
      for (const subscriber of this.subscribers.get(runId) ?? []) subscriber.markSourceEnded();
    }, seconds * 1000);
    timer.unref();
    return timer;
  }
}

function sanitiseAfter(after: number): number {
  return Number.isFinite(after) && after > 0 ? Math.floor(after) : 0;
}

// ---------------------------------------------------------------------------------------------
// Redis
//
// One Stream per run. The entry ID *is* the seq (`<seq>-0`), so a replay from `after` is the exact
// range `XRANGE key <after+1>-0 +` and a live cursor is just a seq. The seq is assigned inside a
// Lua script (last entry's seq + 1) together with the XADDs and the PEXPIRE, so appends from any
// number of processes get unique consecutive seqs, and an append after the final event is refused.
// ---------------------------------------------------------------------------------------------

/**
 * KEYS[1] stream; ARGV: maxlen, ttl while running (ms), ttl after final (ms), append id, lowest
 * seq to continue after, then data, final ('1'|'0') per event. Returns the first seq assigned.
 *
 * An append retried after a lost reply (Redis restarting) is recognised by its id, kept on the
 * last entry of each append, and not written twice. The floor seq keeps seqs increasing when Redis lost the stream.
 */
const APPEND_SCRIPT = `
local key = KEYS[1]
local count = (#ARGV - 5) / 2
local seq = 0
local last = redis.call('XREVRANGE', key, '+', '-', 'COUNT', 1)
if #last > 0 then
  seq = tonumber(string.match(last[1][1], '^(%d+)-'))
  local fields = last[1][2]
  local values = {}
  for i = 1, #fields, 2 do
    values[fields[i]] = fields[i + 1]
  end
  if values['append'] == ARGV[4] then
    return seq - count + 1
  end
  if values['final'] == '1' then
    return redis.error_reply('RUN_ENDED')
  end
end
seq = math.max(seq, tonumber(ARGV[5]))
local first = seq + 1
local ended = false
for i = 6, #ARGV, 2 do
  seq = seq + 1
  local id = string.format('%d', seq)
  if i + 1 == #ARGV then
    redis.call('XADD', key, 'MAXLEN', '~', ARGV[1], id .. '-0', 'seq', id, 'data', ARGV[i], 'final', ARGV[i + 1], 'append', ARGV[4])
  else
    redis.call('XADD', key, 'MAXLEN', '~', ARGV[1], id .. '-0', 'seq', id, 'data', ARGV[i], 'final', ARGV[i + 1])
  end
  if ARGV[i + 1] == '1' then ended = true end
end
if ended then
  redis.call('PEXPIRE', key, ARGV[3])
else
  redis.call('PEXPIRE', key, ARGV[2])
end
return first
`;

type AppendCommand = (key: string, ...args: Array<string | number>) => Promise<number>;
type StreamEntry = [id: string, fields: string[]];

class RedisRunStreams implements RunStreams, RunSource {
  readonly kind = 'redis' as const;
  private readonly appendScript: AppendCommand;
  /** Tail of each run's append chain (appends of one run from this process are serialised). */
  private readonly appends = new Map<string, Promise<unknown>>();
  /** At most one live reader per run in this process, shared by all its local subscribers. */
  private readonly readers = new Map<string, RunReader>();
  /** The reader each subscriber registered with (it may since have stopped and been replaced). */
  private readonly readerOf = new WeakMap<Subscriber, RunReader>();
  private readonly all = new Set<Subscriber>();
  /** Parsed events, so that subscribers replaying or reading the same run share them. */
  private readonly parsed = new ParsedEvents(PARSED_EVENTS_KEPT);
  /** Subscribers that start together (a run starting, a burst of replays) make one read, not one each. */
  private readonly reads = new BatchedReads();
  /** The last seq this process appended to each running run (the floor of its next append). */
  private readonly lastSeqs = new Map<string, number>();
  private readonly instance = randomUUID();
  private appendCount = 0;
  private closed = false;

  constructor(
    private readonly client: Redis,
    private readonly settings: Settings,
    private readonly log: Logger,
  ) {
    client.defineCommand('agentgraphRunAppend', { numberOfKeys: 1, lua: APPEND_SCRIPT });
    this.appendScript = (client as unknown as { agentgraphRunAppend: AppendCommand }).agentgraphRunAppend.bind(client);
  }

  key(runId: string): string {
    return `${this.settings.keyPrefix}${runId}`;
  }

  append(runId: string, events: Array<{ data: unknown; final?: boolean }>): Promise<number[]> {
    if (this.closed) return Promise.reject(new Error('RunStreams is closed'));
    let normalised: ReturnType<typeof normaliseEvents>;
    try {
      normalised = normaliseEvents(runId, events);
    } catch (error) {
      return Promise.reject(error as Error);
    }
    if (normalised.length === 0) return Promise.resolve([]);
    const args = normalised.flatMap((event) => [JSON.stringify(event.data), event.final ? '1' : '0']);
    const { maxLength, runningTtlSeconds, ttlSeconds } = this.settings;
    const appendId = `${this.instance}:${++this.appendCount}`;
    const final = normalised.at(-1)!.final;
    const write = async () => {
      const giveUpAt = Date.now() + this.settings.appendRetryMs;
      for (let backoff = 50; ; backoff = Math.min(backoff * 2, 1_000)) {
        try {
          const floor = this.lastSeqs.get(runId) ?? 0;
          const first = Number(await this.appendScript(this.key(runId), maxLength, toMs(runningTtlSeconds), toMs(ttlSeconds), appendId, floor, ...args));
          const seqs = normalised.map((_, index) => first + index);
          if (final) this.lastSeqs.delete(runId);
          else this.lastSeqs.set(runId, seqs.at(-1)!);
          return seqs;
        } catch (error) {
          if ((error as Error).message?.includes('RUN_ENDED')) {
            this.lastSeqs.delete(runId);
            throw new RunAlreadyEnded(runId);
          }
          // Redis is away (restarting, failing over): keep the events and try again. An error
          // Redis answered (a key of the wrong type, out of memory) will not pass by waiting.
          if (this.closed || Date.now() + backoff > giveUpAt || isLastingReplyError(error)) throw error;
          this.log.warn({ err: (error as Error).message, runId, retryInMs: backoff }, 'run event append failed; retrying');
          await new Promise((resolve) => setTimeout(resolve, backoff));
        }
      }
    };
    const previous = this.appends.get(runId) ?? Promise.resolve();
    const result = previous.then(write);
    const tail = result.catch(() => {});
    this.appends.set(runId, tail);
    void tail.then(() => {
      if (this.appends.get(runId) === tail) this.appends.delete(runId);
    });
    return result;
  }

  subscribe(runId: string, after: number): AsyncIterableIterator<StoredRunEvent> {
    const subscriber = new Subscriber(runId, sanitiseAfter(after), this, this.settings.subscriberBufferLimit, (s) => this.all.delete(s));
    if (this.closed) {
      subscriber.end();
      return subscriber;
    }
    this.all.add(subscriber);
    let reader = this.readers.get(runId);
    if (!reader) {
      reader = new RunReader(runId, this.key(runId), this.client, this.settings, this.log, this.parsed, (r) => {
        if (this.readers.get(runId) === r) this.readers.delete(runId);
      });
      this.readers.set(runId, reader);
    }
    reader.add(subscriber);
    this.readerOf.set(subscriber, reader);
    return subscriber;
  }

  status(runId: string): Promise<RunStreamStatus> {
    return this.reads.share(`status ${runId}`, async () => {
      const last = (await this.client.xrevrange(this.key(runId), '+', '-', 'COUNT', 1)) as StreamEntry[];
      const event = last[0] && parseEntry(last[0], this.log);
      return event ? { exists: true, ended: event.final, lastSeq: event.seq } : { exists: false, ended: false, lastSeq: 0 };
    });
  }

  async waitForStart(runId: string, signal: AbortSignal): Promise<boolean> {
    if (signal.aborted || this.closed) return false;
    // A blocking XREAD on a stream that does not exist yet returns when its first entry is added;
    // it holds its connection, so the wait has its own (closed when the wait ends).
    const connection = this.client.duplicate({ connectionName: this.settings.readerConnectionName, maxRetriesPerRequest: null, lazyConnect: true });
    connection.on('error', (error: Error) => this.log.warn({ err: error.message, runId }, 'run start wait connection error'));
    const abort = () => connection.disconnect();
    signal.addEventListener('abort', abort, { once: true });
    try {
      let backoff = 0;
      while (!signal.aborted && !this.closed) {
        try {
          const result = await connection.xread('COUNT', 1, 'BLOCK', this.settings.readerBlockMs, 'STREAMS', this.key(runId), '0-0');
          if (result) return true;
          backoff = 0;
        } catch (error) {
          if (signal.aborted || this.closed) break;
          backoff = Math.min(backoff ? backoff * 2 : 100, 5_000);
          this.log.warn({ err: (error as Error).message, runId, retryInMs: backoff }, 'run start wait failed; retrying');
          await new Promise((resolve) => setTimeout(resolve, backoff).unref());
        }
      }
      return false;
    } finally {
      signal.removeEventListener('abort', abort);
      connection.disconnect();
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const subscriber of [...this.all]) subscriber.end();
    for (const reader of [...this.readers.values()]) reader.stop('closed');
    await Promise.allSettled([...this.appends.values()]);
    await this.client.quit().catch(() => this.client.disconnect());
  }

  activeReaders(): string[] {
    return [...this.readers.values()].filter((reader) => reader.running).map((reader) => reader.runId);
  }

  // RunSource
  async readRange(runId: string, from: number, to: number | undefined, count: number): Promise<StoredRunEvent[]> {
    if (this.closed) return [];
    const end = to === undefined ? '+' : `${to}-0`;
    return this.reads.share(`range ${runId} ${from} ${end} ${count}`, async () => {
      const entries = (await this.client.xrange(this.key(runId), `${from}-0`, end, 'COUNT', count)) as StreamEntry[];
      return entries.flatMap((entry) => this.parsed.get(runId, entry, this.log) ?? []);
    });
  }

  async goLive(subscriber: Subscriber): Promise<StoredRunEvent[]> {
    const reader = this.readerOf.get(subscriber);
    if (!reader?.has(subscriber)) return []; // released meanwhile
    if (!reader.started) {
      // The first subscriber to go live starts the reader where its replay ended.
      reader.start(subscriber.lastSeq);
      return [];
    }
    if (reader.stopped) subscriber.markSourceEnded();
    // The reader pushes everything after its start cursor, from when this subscriber registered
    // (events it pushed before that were already stored when the replay read, so they were
    // replayed). Only events between this replay's end and a later start cursor need reading.
    if (subscriber.lastSeq < reader.startSeq) return this.readAll(subscriber.runId, subscriber.lastSeq + 1, reader.startSeq);
    return [];
  }

  release(subscriber: Subscriber): void {
    this.readerOf.get(subscriber)?.remove(subscriber);
  }

  private async readAll(runId: string, from: number, to: number): Promise<StoredRunEvent[]> {
    const events: StoredRunEvent[] = [];
    for (;;) {
      const batch = await this.readRange(runId, from, to, REPLAY_BATCH);
      events.push(...batch);
      if (batch.length < REPLAY_BATCH) return events;
      from = batch.at(-1)!.seq + 1;
    }
  }
}

/**
 * The live reader of one run in this process: a dedicated connection blocked in XREAD on the
 * run's stream from a seq cursor, fanning each event out to the run's local subscribers. Created
 * (without a connection) when the first local subscriber registers, started when one goes live,
 * stopped when the last one leaves, after the final event, or when the stream has expired.
 */
class RunReader {
  started = false;
  stopped = false;
  /** Seq the reader started after: it pushes every event with a higher seq. */
  startSeq = 0;
  private cursor = 0;
  private connection: Redis | undefined;
  private readonly subscribers = new Set<Subscriber>();

  constructor(
    readonly runId: string,
    private readonly key: string,
    private readonly client: Redis,
    private readonly settings: Pick<Settings, 'readerConnectionName' | 'readerBlockMs'>,
    private readonly log: Logger,
    private readonly parsed: ParsedEvents,
    private readonly onStop: (reader: RunReader) => void,
  ) {}

  get running(): boolean {
    return this.started && !this.stopped;
  }

  has(subscriber: Subscriber): boolean {
    return this.subscribers.has(subscriber);
  }

  add(subscriber: Subscriber): void {
    this.subscribers.add(subscriber);
  }

  remove(subscriber: Subscriber): void {
    this.subscribers.delete(subscriber);
    if (this.subscribers.size === 0) this.stop('idle');
  }

  start(afterSeq: number): void {
    if (this.started || this.stopped) return;
    this.started = true;
    this.startSeq = afterSeq;
    this.cursor = afterSeq;
    // A blocking read holds its connection, so the reader has its own. It waits through
    // reconnects (no retry limit); stop() disconnects it, which also ends a pending XREAD.
    const connection = this.client.duplicate({ connectionName: this.settings.readerConnectionName, maxRetriesPerRequest: null, lazyConnect: true });
    connection.on('error', (error: Error) => this.log.warn({ err: error.message, runId: this.runId }, 'run reader connection error'));
    this.connection = connection;
    this.log.debug({ runId: this.runId, afterSeq }, 'run reader started');
    void this.loop(connection);
  }

  stop(reason: 'idle' | 'ended' | 'expired' | 'closed'): void {
    if (this.stopped) return;
    this.stopped = true;
    this.connection?.disconnect();
    this.connection = undefined;
    this.onStop(this);
    if (reason === 'expired' || reason === 'ended') for (const subscriber of this.subscribers) subscriber.markSourceEnded();
    if (this.started) this.log.debug({ runId: this.runId, reason }, 'run reader stopped');
  }

  private async loop(connection: Redis): Promise<void> {
    let backoff = 0;
    while (!this.stopped) {
      try {
        const result = (await connection.xread('COUNT', READ_COUNT, 'BLOCK', this.settings.readerBlockMs, 'STREAMS', this.key, `${this.cursor}-0`)) as
          | Array<[key: string, entries: StreamEntry[]]>
          | null;
        if (this.stopped) return;
        backoff = 0;
        if (!result) {
          // Quiet for a while: a stream that has expired gets nothing more.
          if ((await connection.exists(this.key)) === 0 && !this.stopped) this.stop('expired');
          continue;
        }
        for (const [, entries] of result) {
          for (const entry of entries) {
            const event = this.parsed.get(this.runId, entry, this.log);
            if (!event) continue;
            this.cursor = event.seq;
            for (const subscriber of [...this.subscribers]) subscriber.offer(event);
            if (event.final) {
              this.stop('ended');
              return;
            }
          }
        }
      } catch (error) {
        if (this.stopped) return;
        backoff = Math.min(backoff ? backoff * 2 : 100, 5_000);
        this.log.warn({ err: (error as Error).message, runId: this.runId, retryInMs: backoff }, 'run reader failed; retrying');
        await new Promise((resolve) => setTimeout(resolve, backoff).unref());
      }
    }
  }
}

/**
 * Identical reads asked for within one turn of the event loop are sent once, at the end of the
 * turn, and share the answer. Only reads not yet sent are shared: each caller needs a read made
 * after it asked (a subscriber's replay must see every event stored before it registered).
 */
class BatchedReads {
  private readonly unsent = new Map<string, Promise<unknown>>();

  share<T>(key: string, read: () => Promise<T>): Promise<T> {
    let pending = this.unsent.get(key) as Promise<T> | undefined;
    if (!pending) {
      pending = new Promise<T>((resolve, reject) =>
        setImmediate(() => {
          this.unsent.delete(key);
          read().then(resolve, reject);
        }),
      );
      this.unsent.set(key, pending);
    }
    return pending;
  }
}

/** Parsed events kept per process (the most recently used), shared by every reader of a run. */
const PARSED_EVENTS_KEPT = 20_000;

class ParsedEvents {
  private readonly events = new Map<string, StoredRunEvent>();

  constructor(private readonly capacity: number) {}

  get(runId: string, entry: StreamEntry, log: Logger): StoredRunEvent | undefined {
    const key = `${runId} ${entry[0]}`;
    const cached = this.events.get(key);
    if (cached) {
      this.events.delete(key); // most recently used goes last
      this.events.set(key, cached);
      return cached;
    }
    const event = parseEntry(entry, log);
    if (!event) return undefined;
    this.events.set(key, event);
    if (this.events.size > this.capacity) this.events.delete(this.events.keys().next().value!);
    return event;
  }
}

function parseEntry([id, fields]: StreamEntry, log: Logger): StoredRunEvent | undefined {
  const values: Record<string, string> = {};
  for (let i = 0; i + 1 < fields.length; i += 2) values[fields[i]!] = fields[i + 1]!;
  const seq = Number(values.seq ?? id.split('-')[0]);
  try {
    return { seq, data: JSON.parse(values.data ?? 'null') as unknown, final: values.final === '1' };
  } catch (error) {
    log.warn({ err: (error as Error).message, id }, 'unreadable run stream entry skipped');
    return undefined;
  }
}

/** Replies of a Redis that is up but refuses the command; LOADING, BUSY, TRYAGAIN and the like pass. */
function isLastingReplyError(error: unknown): boolean {
  return (error as Error).name === 'ReplyError' && !/^(LOADING|BUSY|TRYAGAIN|MASTERDOWN|READONLY|CLUSTERDOWN)/.test((error as Error).message);
}

function toMs(seconds: number): number {
  return Math.max(1, Math.round(seconds * 1000));
}
