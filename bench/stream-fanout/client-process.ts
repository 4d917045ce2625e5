/**
 * The client process of the fan-out bench (started by peers.ts through lib/workers.ts): graphql-ws
 * clients or plain `ws` clients in groups, each subscriber checking its events (seq order, pings,
 * the assistant text, the stop reason) and recording when each arrived. A separate process, so
 * that the server process's RSS does not include the clients' sockets and buffers.
 */
import { createClient, type Client } from 'graphql-ws';
import WebSocket from 'ws';
import { nowMs } from '../lib/clock.js';
import { errorMessage } from '../lib/workers.js';
import { CHUNK_SIZE, RUN_EVENTS, replyText, type ClientResults, type Expectation, type FromClient, type ToClient } from './protocol.js';

/** The fields of a runEvents event that the clients read. */
interface RunEvent {
  __typename: string;
  seq: number;
  kind?: string;
  delta?: string;
  message?: { __typename: string; content?: string } | null;
  stopReason?: string | null;
  code?: string;
  errorMessage?: string;
}

interface NextPayload {
  data?: { runEvents: RunEvent } | null;
  errors?: unknown;
}

const send = (message: FromClient) => process.send!(message);

const describe = (error: unknown): string => {
  const e = error as { message?: string; code?: number; reason?: string } | null | undefined;
  if (e?.message) return e.message;
  if (e?.code !== undefined) return `close ${e.code} ${e.reason || ''}`;
  return String(JSON.stringify(error) ?? error).slice(0, 300);
};

interface Connection {
  client?: Client;
  socket?: WebSocket;
  error: string | null;
  closed: boolean;
  closedPromise: Promise<void>;
}

/** A connection whose `closedPromise` resolves when `markClosed` is called. */
function newConnection(): Connection & { markClosed: () => void } {
  let markClosed!: () => void;
  const closedPromise = new Promise<void>((resolve) => (markClosed = resolve));
  const connection = { error: null, closed: false, closedPromise, markClosed: () => {} };
  connection.markClosed = () => {
    connection.closed = true;
    markClosed();
  };
  return connection;
}

class Group {
  readonly connections: Connection[] = [];
  readonly subs: Sub[] = [];
  readonly recv: number[] = [];
  readonly seq: number[] = [];
  readonly sub: number[] = [];
  readonly first: number[] = [];
  readonly last: number[] = [];
  readonly sample: unknown[] = [];
  firstAt = Infinity;
  lastAt = -Infinity;
  attached = 0;
  finished = 0;
  disposing = false;
  private attachedSent = false;
  private doneSent = false;

  constructor(readonly id: string) {}

  checkAttached(): void {
    if (!this.attachedSent && this.subs.length > 0 && this.attached === this.subs.length) {
      this.attachedSent = true;
      send({ type: 'attached', group: this.id });
    }
  }

  checkDone(): void {
    if (!this.doneSent && this.subs.length > 0 && this.finished === this.subs.length) {
      this.doneSent = true;
      send({ type: 'done', group: this.id });
    }
  }
}

/** One subscriber: checks its events as they come and records when each arrived. */
class Sub {
  lastSeq: number;
  events = 0;
  pings = 0;
  private seqErrors = 0;
  private firstSeqError: string | null = null;
  private readonly assistant: string[] = [];
  private assistantLength = 0;
  private assistantMessage: string | undefined;
  private stopReason: string | null | undefined;
  private error: string | null = null;
  private completed = false;
  private gotFirst = false;
  private finished = false;

  constructor(
    private readonly g: Group,
    readonly index: number,
    after: number,
  ) {
    this.lastSeq = after;
  }

  private seqError(text: string): void {
    this.seqErrors++;
    this.firstSeqError ??= text;
  }

  event(ev: RunEvent, value: unknown, t: number): void {
    const g = this.g;
    if (this.finished) return this.seqError(`event after the end: seq ${ev.seq}`);
    if (!this.gotFirst) {
      this.gotFirst = true;
      g.attached++;
      g.checkAttached();
    }
    if (ev.__typename === 'PingEvent') {
      this.pings++;
      if (ev.seq !== this.lastSeq) this.seqError(`ping with seq ${ev.seq} after seq ${this.lastSeq}`);
      return;
    }
    if (ev.seq !== this.lastSeq + 1) this.seqError(`seq ${ev.seq} after seq ${this.lastSeq}`);
    this.lastSeq = ev.seq;
    this.events++;
    let first = -1;
    let last = -1;
    if (ev.__typename === 'MessageDeltaEvent' && ev.kind === 'ASSISTANT') {
      const length = ev.delta!.length;
      first = Math.floor(this.assistantLength / CHUNK_SIZE);
      last = Math.floor((this.assistantLength + length - 1) / CHUNK_SIZE);
      this.assistant.push(ev.delta!);
      this.assistantLength += length;
    } else if (ev.__typename === 'MessageEvent' && ev.message?.__typename === 'AssistantMessage') {
      this.assistantMessage = ev.message.content;
    } else if (ev.__typename === 'StopReasonEvent') {
      this.stopReason = ev.stopReason;
    } else if (ev.__typename === 'ErrorEvent') {
      this.error = `ErrorEvent ${ev.code}: ${ev.errorMessage}`;
    }
    g.recv.push(t);
    g.seq.push(ev.seq);
    g.sub.push(this.index);
    g.first.push(first);
    g.last.push(last);
    if (t < g.firstAt) g.firstAt = t;
    if (t > g.lastAt) g.lastAt = t;
    if (this.index === 0) g.sample.push(value);
  }

  finish(error: string | null): void {
    if (this.finished) return;
    this.finished = true;
    if (error) this.error ||= error;
    else this.completed = true;
    this.g.finished++;
    if (!this.gotFirst) {
      this.gotFirst = true;
      this.g.attached++;
      this.g.checkAttached();
    }
    this.g.checkDone();
  }

  problem(expect: Expectation, expectedText: string): string | null {
    if (this.error) return this.error;
    if (!this.completed) return `did not complete (last seq ${this.lastSeq}, ${this.events} events)`;
    if (this.seqErrors) return `${this.seqErrors} events out of order, first: ${this.firstSeqError}`;
    if (this.lastSeq !== expect.lastSeq) return `ended at seq ${this.lastSeq}, the run stored ${expect.lastSeq} events`;
    const text = this.assistant.join('');
    if (text !== expectedText) {
      let at = 0;
      while (at < text.length && text[at] === expectedText[at]) at++;
      return `ASSISTANT deltas differ from the model text at character ${at} (${text.length} vs ${expectedText.length} characters)`;
    }
    if (this.assistantMessage !== expectedText) return 'AssistantMessage content differs from the model text';
    if (this.stopReason !== 'END_TURN') return `stop reason ${this.stopReason}`;
    return null;
  }
}

const groups = new Map<string, Group>();

function connectGraphql(g: Group, url: string): Promise<void> {
  return new Promise((resolve) => {
    const conn = newConnection();
    conn.client = createClient({
      url,
      webSocketImpl: WebSocket,
      lazy: false,
      retryAttempts: 0,
      keepAlive: 0,
      onNonLazyError: (error) => {
        conn.error ||= describe(error);
        resolve();
      },
      on: {
        connected: () => resolve(),
        closed: (event) => {
          conn.markClosed();
          if (!conn.error && !g.disposing) conn.error = `closed: ${describe(event)}`;
          resolve();
        },
      },
    });
    g.connections.push(conn);
  });
}

function connectPlain(g: Group, url: string): Promise<void> {
  return new Promise((resolve) => {
    const socket = new WebSocket(url);
    const sub = new Sub(g, g.subs.length, 0);
    g.subs.push(sub);
    const conn = newConnection();
    conn.socket = socket;
    socket.on('open', () => resolve());
    socket.on('error', (error) => {
      conn.error ||= describe(error);
      resolve();
    });
    socket.on('close', () => {
      conn.markClosed();
      if (!g.disposing) sub.finish('socket closed');
      resolve();
    });
    socket.on('message', (data) => {
      const message = JSON.parse(data.toString()) as { type: string; payload?: { data: { runEvents: RunEvent } } };
      const t = nowMs();
      if (message.type === 'next') sub.event(message.payload!.data.runEvents, message.payload, t);
      else if (message.type === 'complete') sub.finish(null);
    });
    g.connections.push(conn);
  });
}

async function connect(message: Extract<ToClient, { type: 'connect' }>): Promise<void> {
  const g = new Group(message.group);
  groups.set(message.group, g);
  const BATCH = 50;
  for (let i = 0; i < message.connections; i += BATCH) {
    const batch: Array<Promise<void>> = [];
    for (let j = i; j < Math.min(message.connections, i + BATCH); j++) {
      const url = message.urls[j % message.urls.length]!;
      batch.push(message.kind === 'graphql' ? connectGraphql(g, url) : connectPlain(g, url));
    }
    await Promise.all(batch);
  }
  const failed = g.connections.filter((connection) => connection.error);
  send({ type: 'connected', group: g.id, failed: failed.length, firstError: failed[0]?.error ?? null });
}

function subscribe(message: Extract<ToClient, { type: 'subscribe' }>): void {
  const g = groups.get(message.group)!;
  for (const conn of g.connections) {
    for (let k = 0; k < message.perConnection; k++) {
      const sub = new Sub(g, g.subs.length, message.after);
      g.subs.push(sub);
      conn.client!.subscribe<NextPayload['data']>(
        { query: RUN_EVENTS, variables: { runId: message.runId, after: message.after } },
        {
          next: (value) => {
            const t = nowMs();
            if (value.errors) sub.finish(`GraphQL errors: ${JSON.stringify(value.errors).slice(0, 300)}`);
            else sub.event(value.data!.runEvents, value, t);
          },
          error: (error) => sub.finish(`subscription error: ${describe(error)}`),
          complete: () => sub.finish(null),
        },
      );
    }
  }
}

function results(message: Extract<ToClient, { type: 'results' }>): void {
  const g = groups.get(message.group)!;
  const expected = replyText(message.expect.chunks);
  const failures: string[] = [];
  let failed = 0;
  let pings = 0;
  let events = 0;
  for (const sub of g.subs) {
    pings += sub.pings;
    events += sub.events;
    const problem = sub.problem(message.expect, expected);
    if (problem) {
      failed++;
      if (failures.length < 5) failures.push(`subscriber ${sub.index}: ${problem}`);
    }
  }
  const r: ClientResults = {
    subscribers: g.subs.length,
    failed,
    failures,
    events,
    pings,
    firstAt: g.firstAt,
    lastAt: g.lastAt,
    recv: Float64Array.from(g.recv),
    seq: Int32Array.from(g.seq),
    sub: Int32Array.from(g.sub),
    first: Int32Array.from(g.first),
    last: Int32Array.from(g.last),
    sample: g.sample,
  };
  send({ type: 'results', group: g.id, results: r });
}

async function dispose(message: Extract<ToClient, { type: 'dispose' }>): Promise<void> {
  const g = groups.get(message.group);
  if (g) {
    g.disposing = true;
    for (const conn of g.connections) {
      if (conn.client) void conn.client.dispose();
      else conn.socket!.close();
    }
    const closed = Promise.all(g.connections.map((connection) => (connection.closed ? null : connection.closedPromise)));
    await Promise.race([closed, new Promise((resolve) => setTimeout(resolve, 10_000))]);
    groups.delete(message.group);
  }
  send({ type: 'disposed', group: message.group });
}

process.on('message', (message: ToClient) => {
  const fail = (error: unknown) => process.send!(errorMessage(error));
  try {
    if (message.type === 'connect') connect(message).catch(fail);
    else if (message.type === 'subscribe') subscribe(message);
    else if (message.type === 'results') results(message);
    else if (message.type === 'dispose') dispose(message).catch(fail);
    else if (message.type === 'cpu') {
      const usage = process.cpuUsage();
      send({ type: 'cpu', micros: usage.user + usage.system });
    } else if (message.type === 'exit') process.exit(0);
  } catch (error) {
    fail(error);
  }
});
process.on('disconnect', () => process.exit(0));
