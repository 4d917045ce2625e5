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

export const DEFAULTS = {
  ttlSeconds: 3 * 60 * 60,
  maxLength: 10_000,
  runningTtlSeconds: 24 * 60 * 60,
  subscriberBufferLimit: 10_000,
  keyPrefix: 'agentgraph:run:',
  readerConnectionName: 'agentgraph:run-reader',
  readerBlockMs: 30_000,
  appendRetryMs: 60_000,
};
export type Settings = typeof DEFAULTS;

/** Events fetched per replay read. */
export const REPLAY_BATCH = 500;

export function normaliseEvents(runId: string, events: Array<{ data: unknown; final?: boolean }>) {
  events.forEach((event, index) => {
    if (event.final && index !== events.length - 1) throw new Error(`Only the last event appended to run ${runId} may be final`);
  });
  return events.map((event) => ({ data: event.data === undefined ? null : event.data, final: Boolean(event.final) }));
}

export function sanitiseAfter(after: number): number {
  return Number.isFinite(after) && after > 0 ? Math.floor(after) : 0;
}

