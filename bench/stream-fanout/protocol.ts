/** What the bench's threads and processes say to each other, and the model's text. */

/** Characters per model chunk; a chunk is its index in base 36, zero-padded to this width. */
export const CHUNK_SIZE = 4;
export const chunkText = (index: number) => index.toString(36).padStart(CHUNK_SIZE, '0');
/** The model's text of a run of `chunks` chunks. */
export const replyText = (chunks: number) => Array.from({ length: chunks }, (_, index) => chunkText(index)).join('');

/** The subscription every GraphQL client runs. */
export const RUN_EVENTS =
  'subscription RunEvents($runId: ID!, $after: Int) { runEvents(runId: $runId, after: $after) { __typename seq runId ' +
  '... on MessageDeltaEvent { kind delta } ' +
  '... on MessageEvent { message { __typename ... on AssistantMessage { content } } } ' +
  '... on StopReasonEvent { stopReason status } ... on UsageEvent { usage { totalTokens stepCount } } ... on ErrorEvent { code errorMessage: message } } }';

export type ToModel = { type: 'release' } | { type: 'take' } | { type: 'close' };
export type FromModel =
  | { type: 'ready'; url: string }
  | { type: 'held' }
  | { type: 'emits'; emits: Float64Array; mismatches: number }
  | { type: 'closed' };

export type ToInstance = { type: 'close' };
export type FromInstance = { type: 'ready'; url: string } | { type: 'closed' };

export interface Expectation {
  /** The run's last seq (every subscriber must end there). */
  lastSeq: number;
  /** Model chunks of the run's text. */
  chunks: number;
}

export type ToClient =
  | { type: 'connect'; group: string; kind: 'graphql' | 'plain'; urls: string[]; connections: number }
  | { type: 'subscribe'; group: string; runId: string; after: number; perConnection: number }
  | { type: 'results'; group: string; expect: Expectation }
  | { type: 'dispose'; group: string }
  | { type: 'cpu' }
  | { type: 'exit' };

/** What the clients saw: per received non-ping event, flat arrays. */
export interface ClientResults {
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

export type FromClient =
  | { type: 'connected'; group: string; failed: number; firstError: string | null }
  | { type: 'attached'; group: string }
  | { type: 'done'; group: string }
  | { type: 'results'; group: string; results: ClientResults }
  | { type: 'disposed'; group: string }
  | { type: 'cpu'; micros: number };
