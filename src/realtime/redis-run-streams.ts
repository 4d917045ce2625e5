import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { Logger } from '../logger.js';
import { Backoff, pause } from './backoff.js';
import { RunAlreadyEnded, REPLAY_BATCH, normaliseEvents, sanitiseAfter, type RunStreams, type RunStreamStatus, type Settings, type StoredRunEvent } from './run-stream-types.js';
import { Subscriber, type RunSource } from './run-stream-subscriber.js';
import { PARSED_EVENTS_KEPT, ParsedEvents, parseEntry, RunReader, type StreamEntry } from './redis-run-reader.js';

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

export class RedisRunStreams implements RunStreams, RunSource {
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
      const backoff = new Backoff(50, 1_000);
      for (;;) {
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
          const delay = backoff.next();
          if (this.closed || Date.now() + delay > giveUpAt || isLastingReplyError(error)) throw error;
          this.log.warn({ err: (error as Error).message, runId, retryInMs: delay }, 'run event append failed; retrying');
          await pause(delay);
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
      const backoff = new Backoff(100, 5_000);
      while (!signal.aborted && !this.closed) {
        try {
          const result = await connection.xread('COUNT', 1, 'BLOCK', this.settings.readerBlockMs, 'STREAMS', this.key(runId), '0-0');
          if (result) return true;
          backoff.reset();
        } catch (error) {
          if (signal.aborted || this.closed) break;
          const delay = backoff.next();
          this.log.warn({ err: (error as Error).message, runId, retryInMs: delay }, 'run start wait failed; retrying');
          await pause(delay);
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
/** Replies of a Redis that is up but refuses the command; LOADING, BUSY, TRYAGAIN and the like pass. */
function isLastingReplyError(error: unknown): boolean {
  return (error as Error).name === 'ReplyError' && !/^(LOADING|BUSY|TRYAGAIN|MASTERDOWN|READONLY|CLUSTERDOWN)/.test((error as Error).message);
}

function toMs(seconds: number): number {
  return Math.max(1, Math.round(seconds * 1000));
}
