import type { Logger } from '../logger.js';
import { RunAlreadyEnded, normaliseEvents, sanitiseAfter, type RunStreams, type RunStreamStatus, type Settings, type StoredRunEvent } from './run-stream-types.js';
import { Subscriber, type RunSource } from './run-stream-subscriber.js';

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

export class MemoryRunStreams implements RunStreams, RunSource {
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
