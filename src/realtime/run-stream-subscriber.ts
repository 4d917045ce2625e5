import { REPLAY_BATCH, SubscriberOverflow, type RunStreamStatus, type StoredRunEvent } from './run-stream-types.js';
import { PUSH, PushPort, type Pushable, type PushSink } from './stream-push.js';

// ---------------------------------------------------------------------------------------------
// Subscriber: shared by both stores. Replay is pulled in batches from the store (nothing is
// buffered for it); live events are pushed by the store. Live events that arrive while the
// subscriber is still replaying wait in `stash`; on going live both are merged and deduplicated by
// seq, so nothing is missed or repeated (see `RunSource.goLive`). While a next() waits, queued and
// live events are pushed to the consumer's sink instead when it takes them (see stream-push.ts).
// ---------------------------------------------------------------------------------------------

export interface RunSource {
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

export class Subscriber implements AsyncIterableIterator<StoredRunEvent>, Pushable<StoredRunEvent> {
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
  private readonly push = new PushPort<StoredRunEvent>();

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

  [PUSH](sink: PushSink<StoredRunEvent>): void {
    this.push[PUSH](sink);
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
      // A waiting next() (`wake`) means nothing handed out is still on its way to the consumer.
      if (this.wake && this.head === this.queue.length && this.pushed(event)) return;
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

  /** Hands `event` to the consumer's sink; false when it refused (or failed: the pull path then meets the failure). */
  private pushed(event: StoredRunEvent): boolean {
    let taken: boolean;
    try {
      taken = this.push.offer(event);
    } catch {
      taken = false;
    }
    if (!taken) return false;
    this.queuedSeq = Math.max(this.queuedSeq, event.seq);
    this.deliveredSeq = event.seq;
    if (event.final) this.end();
    return true;
  }

  private async pull(): Promise<IteratorResult<StoredRunEvent>> {
    for (;;) {
      if (this.failure) {
        const failure = this.failure;
        this.failure = undefined;
        throw failure;
      }
      // This next() is what the consumer waits on: queued events may be pushed while it takes them.
      while (this.state !== 'done' && this.head < this.queue.length && this.pushed(this.queue[this.head]!)) this.dequeue();
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
