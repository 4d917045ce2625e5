import type { Redis } from 'ioredis';
import type { Logger } from '../logger.js';
import { Backoff, pause } from './backoff.js';
import type { Settings, StoredRunEvent } from './run-stream-types.js';
import type { Subscriber } from './run-stream-subscriber.js';

export type StreamEntry = [id: string, fields: string[]];

/** Redis live reader: events per XREAD. */
const READ_COUNT = 1000;

/**
 * The live reader of one run in this process: a dedicated connection blocked in XREAD on the
 * run's stream from a seq cursor, fanning each event out to the run's local subscribers. Created
 * (without a connection) when the first local subscriber registers, started when one goes live,
 * stopped when the last one leaves, after the final event, or when the stream has expired.
 */
export class RunReader {
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
    const backoff = new Backoff(100, 5_000);
    while (!this.stopped) {
      try {
        const result = (await connection.xread('COUNT', READ_COUNT, 'BLOCK', this.settings.readerBlockMs, 'STREAMS', this.key, `${this.cursor}-0`)) as
          | Array<[key: string, entries: StreamEntry[]]>
          | null;
        if (this.stopped) return;
        backoff.reset();
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
        const delay = backoff.next();
        this.log.warn({ err: (error as Error).message, runId: this.runId, retryInMs: delay }, 'run reader failed; retrying');
        await pause(delay);
      }
    }
  }
}


export const PARSED_EVENTS_KEPT = 20_000;

export class ParsedEvents {
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

export function parseEntry([id, fields]: StreamEntry, log: Logger): StoredRunEvent | undefined {
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
