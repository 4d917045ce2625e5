import type { Socket } from 'node:net';
import type { ExecutionResult } from 'graphql';
import WebSocket from 'ws';
import type { PushSink } from '../realtime/stream-push.js';

/**
 * How graphql-ws messages reach the sockets. A run streamed to 500 chat windows turns every
 * stored event into 500 messages, so three costs per message matter here:
 *   - serialising: a `next` payload shared by identical subscriptions (transports/
 *     shared-execution.ts) is turned into JSON once, not once per subscriber;
 *   - waiting: graphql-ws waits for each send before taking the subscription's next event. A send
 *     resolves at once while the socket has less than BACKPRESSURE_BYTES queued; beyond that it
 *     waits for the write, so a client that stops reading stops its subscription's loop (whose
 *     bounded buffer then ends it with SLOW_CONSUMER) instead of filling memory;
 *   - system calls: frames queued for one socket within one turn of the event loop (a replay, a
 *     burst of events) leave in one write rather than one write each;
 *   - the path to the socket: results pushed by the subscription (realtime/stream-push.ts) skip
 *     graphql-ws's per-message steps; their frame is the subscription's head and the shared JSON.
 */

const BACKPRESSURE_BYTES = 1 << 20;

/** Shared `next` payloads, serialised once (weak: dropped with the result). */
const payloadJson = new WeakMap<object, string>();
const PLACEHOLDER = '\u0000shared-payload\u0000';
const PLACEHOLDER_JSON = JSON.stringify(PLACEHOLDER);

let message: unknown;
let pendingPayload: string | undefined;

/**
 * graphql-ws's `jsonMessageReplacer`. It serialises each message as `send(stringify(message))`,
 * with nothing in between, so the payload's JSON set aside here is spliced back by `sendMessage`
 * in place of the placeholder. The output is byte for byte what JSON.stringify(message) gives.
 * graphql-ws is pinned to the exact version whose behaviour test/unit/ws-sending.test.ts checks
 * (serialise and send in one synchronous step, and `_socket` on ws's sockets).
 */
export function sharedPayloadReplacer(this: unknown, key: string, value: unknown): unknown {
  if (key === '') {
    message = value;
    pendingPayload = undefined;
    return value;
  }
  if (key === 'payload' && this === message && (this as { type?: unknown }).type === 'next' && typeof value === 'object' && value !== null) {
    pendingPayload = jsonOf(value);
    return PLACEHOLDER;
  }
  return value;
}

function jsonOf(payload: object): string {
  let json = payloadJson.get(payload);
  if (json === undefined) payloadJson.set(payload, (json = JSON.stringify(payload)));
  return json;
}

function withPayload(data: string): string {
  const payload = pendingPayload;
  pendingPayload = undefined;
  message = undefined;
  if (payload === undefined) return data;
  const at = data.lastIndexOf(PLACEHOLDER_JSON);
  return at < 0 ? data : data.slice(0, at) + payload + data.slice(at + PLACEHOLDER_JSON.length);
}

const corked = new Set<Socket>();
let flushScheduled = false;

function flushCorked() {
  flushScheduled = false;
  for (const socket of corked) socket.uncork();
  corked.clear();
}

/** Holds the socket's writes until the current turn of the event loop has queued all it will. */
function batchWrites(socket: WebSocket) {
  // `ws` keeps the TCP socket in `_socket` and has no public way to cork it. ws is pinned
  // (package.json) and a socket without a corkable `_socket` is simply sent to unbatched.
  const tcp = (socket as unknown as { _socket?: Partial<Socket> })._socket as Socket | undefined;
  if (!tcp || typeof tcp.cork !== 'function' || typeof tcp.uncork !== 'function' || corked.has(tcp)) return;
  tcp.cork();
  corked.add(tcp);
  if (!flushScheduled) {
    flushScheduled = true;
    setImmediate(flushCorked);
  }
}

const SENT = Promise.resolve();

/** Sends one graphql-ws message (serialised with `sharedPayloadReplacer`). */
export function sendMessage(socket: WebSocket, data: string): Promise<void> {
  const frame = withPayload(data);
  if (socket.readyState !== WebSocket.OPEN) return SENT;
  batchWrites(socket);
  if (socket.bufferedAmount < BACKPRESSURE_BYTES) {
    socket.send(frame);
    return SENT;
  }
  return new Promise((resolve, reject) => socket.send(frame, (error) => (error ? reject(error) : resolve())));
}

/**
 * The `next` messages of subscription `id`, written straight to the socket: byte for byte what
 * graphql-ws sends (`{"id","type":"next","payload"}`). Refuses, leaving the result to graphql-ws,
 * when the subscription is no longer open (`open`), when the result has errors (counted on that
 * path) and while the socket is backed up (graphql-ws then waits for it, see BACKPRESSURE_BYTES).
 */
export function nextMessageSender(socket: WebSocket, id: string, open: () => boolean): PushSink<ExecutionResult> {
  const head = `{"id":${JSON.stringify(id)},"type":"next","payload":`;
  return (result) => {
    if (result.errors || !open() || socket.readyState !== WebSocket.OPEN || socket.bufferedAmount >= BACKPRESSURE_BYTES) return false;
    batchWrites(socket);
    socket.send(`${head}${jsonOf(result)}}`);
    return true;
  };
}
