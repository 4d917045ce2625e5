/**
 * A scripted model server speaking the OpenAI Chat Completions protocol over real HTTP.
 *
 * Tests point the runtime's provider SDK at `server.url` and script the model's replies with
 * `enqueue(...)`; every request is recorded. When the script runs out, a `Brain` decides (the
 * default one echoes the last user message). Only `node:http` is used.
 *
 *   POST /v1/chat/completions   stream: true → SSE `chat.completion.chunk`s + `data: [DONE]`,
 *                               otherwise one `chat.completion` object
 *   GET  /v1/models             a few model ids
 *   POST /v1/embeddings         deterministic vectors (EMBEDDING_DIMENSIONS long) from the words of
 *                               each input; an input containing FAIL_EMBEDDING answers 500, one
 *                               containing HOLD_EMBEDDING waits for releaseEmbeddings()
 *   anything else               404
 */
import { randomBytes } from 'node:crypto';
import http, { type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

// --- protocol types (the parts the scripted server and brains look at) ----------------------

export interface JsonSchema {
  type?: string | string[];
  description?: string;
  properties?: Record<string, JsonSchema>;
  required?: string[];
  enum?: unknown[];
  items?: JsonSchema;
  default?: unknown;
  [key: string]: unknown;
}

export interface ChatContentPart {
  type: string;
  text?: string;
  [key: string]: unknown;
}

export interface ChatToolCall {
  id: string;
  type: 'function';
  function: { name: string; arguments: string };
}

export interface ChatMessage {
  role: 'system' | 'developer' | 'user' | 'assistant' | 'tool';
  content?: string | ChatContentPart[] | null;
  name?: string;
  tool_calls?: ChatToolCall[];
  tool_call_id?: string;
  [key: string]: unknown;
}

export interface ChatTool {
  type: 'function';
  function: { name: string; description?: string; parameters?: JsonSchema; strict?: boolean };
}

/** A chat-completions request body as the client sent it (parsed JSON). */
export interface ChatRequest {
  model?: string;
  messages: ChatMessage[];
  tools?: ChatTool[];
  tool_choice?: unknown;
  parallel_tool_calls?: boolean;
  stream?: boolean;
  stream_options?: { include_usage?: boolean } | null;
  [key: string]: unknown;
}

export interface Usage {
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens?: number;
}

export interface ReplyToolCall {
  name: string;
  /** A JSON string, sent as is (may be invalid JSON on purpose), or an object to stringify. */
  arguments: string | Record<string, unknown>;
  /** Default: a random `call_…` id. */
  id?: string;
}

/** One scripted model answer. */
export interface Reply {
  /** Assistant content, streamed as several deltas of about `chunkSize` characters. */
  text?: string;
  /** Streamed as `reasoning_content` deltas before the text (DeepSeek / vLLM style). */
  reasoning?: string;
  /** Streamed as OpenAI tool_call deltas: a header chunk (id, type, name, "") then argument fragments. */
  toolCalls?: ReplyToolCall[];
  /** Sent in the final chunk; a rough estimate from lengths when absent. */
  usage?: Usage;
  /** Default: `tool_calls` when there are tool calls, else `stop`. */
  finishReason?: 'stop' | 'tool_calls' | 'length';
  /** Characters per streamed delta (text, reasoning and argument fragments). Default 4. */
  chunkSize?: number;
  /** Wait before the first byte (headers included). */
  delayMs?: number;
  /** Wait between streamed chunks. */
  chunkDelayMs?: number;
  /** Answer with this HTTP error status and an OpenAI-style error body instead. */
  status?: number;
  errorMessage?: string;
  /** Overrides the error body's `code` (e.g. `context_length_exceeded`). */
  errorCode?: string;
  /** Overrides the error body's `type`. */
  errorType?: string;
  /** Emit one `data:` event that is not valid JSON mid-stream, then continue (non-stream: a truncated body). */
  malformedChunk?: boolean;
  /** Destroy the socket after this many `data:` events, without `[DONE]` (non-stream: after half the body). */
  cutAfterChunks?: number;
  /** Accept the request and never answer (until the client aborts or `close()`). */
  hang?: boolean;
}

/** Decides a reply when the script (queue) is empty. May be async. */
export type Brain = (request: ChatRequest) => Reply | Promise<Reply>;

export interface RecordedRequest {
  /** The parsed JSON body. */
  body: ChatRequest;
  headers: IncomingHttpHeaders;
  /** `Date.now()` when the request arrived. */
  time: number;
  /** The reply chosen for it (undefined only while an async brain is deciding). */
  reply?: Reply;
  /** Where the reply came from. */
  source?: 'queue' | 'brain';
  /** The connection closed before the answer was complete (client abort, or `close()`); deliberate cuts excluded. */
  aborted: boolean;
  /** `Date.now()` when the connection closed early (set with `aborted`). */
  abortedAt?: number;
  /** The answer was fully written. */
  completed: boolean;
}

export interface ModelServer {
  /** Base URL including `/v1`, e.g. `http://127.0.0.1:PORT/v1`. */
  readonly url: string;
  /** Appends replies to the FIFO script; each chat request takes the next one. */
  enqueue(...replies: Reply[]): void;
  /** Every chat-completions request with a parseable body, in arrival order. */
  readonly requests: RecordedRequest[];
  /** Inputs of every `/v1/embeddings` request, in arrival order. */
  readonly embeddingRequests: string[][];
  /** Embedding requests waiting (HOLD_EMBEDDING) for releaseEmbeddings(). */
  heldEmbeddings(): number;
  /** Answers every held embedding request. */
  releaseEmbeddings(): void;
  /** Replies not yet consumed. */
  pending(): number;
  /** Chat requests still being answered (delaying, streaming or hanging). */
  active(): number;
  /** Closes the server and every open connection/stream; idempotent. */
  close(): Promise<void>;
}

export interface ModelServerOptions {
  port?: number;
  host?: string;
  brain?: Brain;
  /** Ids listed by `GET /v1/models`. */
  models?: string[];
}

// --- request helpers (for brains and assertions) -------------------------------------------

/** The text of a message: string content, or its text parts joined. */
export function messageText(message: ChatMessage | undefined): string {
  const content = message?.content;
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) return '';
  return content
    .map((part) => (typeof part?.text === 'string' ? part.text : ''))
    .filter((text) => text !== '')
    .join('\n');
}

/** Text of the last `user` message, or "". */
export function lastUserText(request: ChatRequest): string {
  const messages = Array.isArray(request.messages) ? request.messages : [];
  for (let i = messages.length - 1; i >= 0; i--) {
    if (messages[i]?.role === 'user') return messageText(messages[i]);
  }
  return '';
}

/** Names of the function tools offered. */
export function toolNames(request: ChatRequest): string[] {
  return (request.tools ?? []).map((tool) => tool?.function?.name).filter((name): name is string => typeof name === 'string');
}

/** The system (and developer) messages' text, joined by blank lines. */
export function systemText(request: ChatRequest): string {
  const messages = Array.isArray(request.messages) ? request.messages : [];
  return messages
    .filter((m) => m?.role === 'system' || m?.role === 'developer')
    .map(messageText)
    .join('\n\n');
}

export const defaultBrain: Brain = (request) => ({ text: `echo: ${lastUserText(request)}` });

export const DEFAULT_MODELS = ['scripted-model', 'scripted-demo', 'gpt-4o-mini'];

// --- server ----------------------------------------------------------------------------------

const randomId = (prefix: string, bytes = 12): string => `${prefix}${randomBytes(bytes).toString('hex')}`;

/** Splits by code points, so surrogate pairs are never cut. */
function splitChunks(text: string, size: number): string[] {
  const chars = Array.from(text);
  const out: string[] = [];
  for (let i = 0; i < chars.length; i += size) out.push(chars.slice(i, i + size).join(''));
  return out;
}

const roughTokens = (chars: number): number => Math.max(1, Math.ceil(chars / 4));

function sleep(ms: number | undefined, signal: AbortSignal): Promise<void> {
  if (!ms || ms <= 0 || signal.aborted) return Promise.resolve();
  return new Promise((resolve) => {
    const onAbort = (): void => {
      clearTimeout(timer);
      resolve();
    };
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

/** Writes and waits until flushed; false when the connection is gone. */
function write(res: ServerResponse, data: string, signal: AbortSignal): Promise<boolean> {
  if (signal.aborted || res.destroyed) return Promise.resolve(false);
  return new Promise((resolve) => {
    const onAbort = (): void => resolve(false);
    signal.addEventListener('abort', onAbort, { once: true });
    res.write(data, (err) => {
      signal.removeEventListener('abort', onAbort);
      resolve(!err && !signal.aborted);
    });
  });
}

function errorDefaults(status: number): { type: string; code: string | null; message: string } {
  switch (status) {
    case 400:
      return { type: 'invalid_request_error', code: 'invalid_request', message: 'Invalid request.' };
    case 401:
      return { type: 'invalid_request_error', code: 'invalid_api_key', message: 'Incorrect API key provided.' };
    case 403:
      return { type: 'permission_error', code: 'permission_denied', message: 'You are not allowed to use this model.' };
    case 404:
      return { type: 'invalid_request_error', code: 'model_not_found', message: 'The model does not exist.' };
    case 429:
      return { type: 'requests', code: 'rate_limit_exceeded', message: 'Rate limit reached for requests.' };
    case 503:
      return { type: 'server_error', code: 'service_unavailable', message: 'The server is overloaded or not ready yet.' };
    default:
      return status >= 500
        ? { type: 'server_error', code: 'server_error', message: 'The server had an error while processing your request.' }
        : { type: 'invalid_request_error', code: null, message: `Request failed with status ${status}.` };
  }
}

function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  if (res.headersSent || res.destroyed) return;
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), ...headers });
  res.end(text);
}

function sendError(
  res: ServerResponse,
  status: number,
  overrides: { message?: string; type?: string; code?: string } = {},
): void {
  const defaults = errorDefaults(status);
  const headers: Record<string, string> = { 'x-request-id': randomId('req_') };
  if (status === 429) {
    headers['retry-after'] = '0';
    headers['retry-after-ms'] = '0';
  }
  sendJson(
    res,
    status,
    {
      error: {
        message: overrides.message ?? defaults.message,
        type: overrides.type ?? defaults.type,
        param: null,
        code: overrides.code ?? defaults.code,
      },
    },
    headers,
  );
}

interface Completion {
  id: string;
  created: number;
  model: string;
  text: string | undefined;
  reasoning: string | undefined;
  toolCalls: Array<{ id: string; name: string; arguments: string }>;
  finishReason: 'stop' | 'tool_calls' | 'length';
  usage: Required<Usage>;
  usageGiven: boolean;
}

function buildCompletion(request: ChatRequest, reply: Reply): Completion {
  const toolCalls = (reply.toolCalls ?? []).map((call) => ({
    id: call.id ?? randomId('call_'),
    name: call.name,
    arguments: typeof call.arguments === 'string' ? call.arguments : JSON.stringify(call.arguments),
  }));
  const outputChars =
    (reply.text?.length ?? 0) + (reply.reasoning?.length ?? 0) + toolCalls.reduce((n, c) => n + c.name.length + c.arguments.length, 0);
  const promptTokens = reply.usage?.prompt_tokens ?? roughTokens(JSON.stringify(request.messages ?? []).length + JSON.stringify(request.tools ?? []).length);
  const completionTokens = reply.usage?.completion_tokens ?? roughTokens(outputChars);
  return {
    id: randomId('chatcmpl-'),
    created: Math.floor(Date.now() / 1000),
    model: typeof request.model === 'string' && request.model ? request.model : 'scripted-model',
    text: reply.text,
    reasoning: reply.reasoning,
    toolCalls,
    finishReason: reply.finishReason ?? (toolCalls.length > 0 ? 'tool_calls' : 'stop'),
    usage: {
      prompt_tokens: promptTokens,
      completion_tokens: completionTokens,
      total_tokens: reply.usage?.total_tokens ?? promptTokens + completionTokens,
    },
    usageGiven: reply.usage !== undefined,
  };
}

/** The SSE `data:` payloads (objects, or a raw malformed string) for a streamed reply. */
function streamEvents(completion: Completion, reply: Reply, includeUsage: boolean): Array<object | string> {
  const size = Math.max(1, Math.floor(reply.chunkSize ?? 4));
  const chunk = (delta: Record<string, unknown>, finishReason: string | null = null): Record<string, unknown> => ({
    id: completion.id,
    object: 'chat.completion.chunk',
    created: completion.created,
    model: completion.model,
    choices: [{ index: 0, delta, logprobs: null, finish_reason: finishReason }],
    ...(includeUsage ? { usage: null } : {}),
  });

  const events: Array<object | string> = [];
  const textFirst = !completion.reasoning && completion.text !== undefined;
  events.push(chunk({ role: 'assistant', content: textFirst ? '' : null }));
  for (const piece of splitChunks(completion.reasoning ?? '', size)) events.push(chunk({ reasoning_content: piece }));
  for (const piece of splitChunks(completion.text ?? '', size)) events.push(chunk({ content: piece }));
  completion.toolCalls.forEach((call, index) => {
    events.push(chunk({ tool_calls: [{ index, id: call.id, type: 'function', function: { name: call.name, arguments: '' } }] }));
    for (const piece of splitChunks(call.arguments, size)) events.push(chunk({ tool_calls: [{ index, function: { arguments: piece } }] }));
  });
  const finish = chunk({}, completion.finishReason);
  if (completion.usageGiven && !includeUsage) finish.usage = completion.usage;
  events.push(finish);
  if (includeUsage) {
    events.push({ id: completion.id, object: 'chat.completion.chunk', created: completion.created, model: completion.model, choices: [], usage: completion.usage });
  }
  if (reply.malformedChunk) {
    // Mid-stream: after the role chunk and before the finish chunk.
    const at = Math.max(1, Math.min(events.length - 1, Math.floor(events.length / 2)));
    events.splice(at, 0, `{"id":"${completion.id}","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"content":`);
  }
  return events;
}

function completionBody(completion: Completion): Record<string, unknown> {
  const message: Record<string, unknown> = { role: 'assistant', content: completion.text ?? null, refusal: null };
  if (completion.reasoning !== undefined) message.reasoning_content = completion.reasoning;
  if (completion.toolCalls.length > 0) {
    message.tool_calls = completion.toolCalls.map((c) => ({ id: c.id, type: 'function', function: { name: c.name, arguments: c.arguments } }));
  }
  return {
    id: completion.id,
    object: 'chat.completion',
    created: completion.created,
    model: completion.model,
    choices: [{ index: 0, message, logprobs: null, finish_reason: completion.finishReason }],
    usage: completion.usage,
  };
}

export async function startModelServer(options: ModelServerOptions = {}): Promise<ModelServer> {
  const host = options.host ?? '127.0.0.1';
  const brain = options.brain ?? defaultBrain;
  const models = options.models ?? DEFAULT_MODELS;
  const queue: Reply[] = [];
  const requests: RecordedRequest[] = [];
  /** In-flight chat answers: aborting one ends its timers and writes. */
  const inFlight = new Set<AbortController>();
  let closing: Promise<void> | undefined;

  async function readBody(req: IncomingMessage): Promise<string | undefined> {
    const chunks: Buffer[] = [];
    try {
      for await (const chunk of req) chunks.push(chunk as Buffer);
    } catch {
      return undefined; // client went away while sending
    }
    return Buffer.concat(chunks).toString('utf8');
  }

  async function handleChat(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const raw = await readBody(req);
    if (raw === undefined) return;
    let body: unknown;
    try {
      body = JSON.parse(raw);
    } catch {
      sendError(res, 400, { message: 'We could not parse the JSON body of your request.', code: 'invalid_json' });
      return;
    }
    if (typeof body !== 'object' || body === null || Array.isArray(body) || !Array.isArray((body as ChatRequest).messages)) {
      sendError(res, 400, { message: "Invalid request: 'messages' must be an array.", code: 'invalid_value' });
      return;
    }
    const request = body as ChatRequest;
    const record: RecordedRequest = { body: request, headers: req.headers, time: Date.now(), aborted: false, completed: false };
    requests.push(record);

    const controller = new AbortController();
    const signal = controller.signal;
    inFlight.add(controller);
    let cut = false;
    res.on('close', () => {
      if (!res.writableFinished && !cut) Object.assign(record, { aborted: true, abortedAt: Date.now() });
      controller.abort();
      inFlight.delete(controller);
    });

    try {
      const queued = queue.shift();
      let reply: Reply;
      if (queued) {
        reply = queued;
        record.source = 'queue';
      } else {
        record.source = 'brain';
        try {
          reply = await brain(request);
        } catch (err) {
          record.reply = { status: 500, errorMessage: `brain failed: ${err instanceof Error ? err.message : String(err)}` };
          sendError(res, 500, { message: record.reply.errorMessage });
          return;
        }
      }
      record.reply = reply;

      await sleep(reply.delayMs, signal);
      if (signal.aborted) return;
      if (reply.hang) return; // left open until the client aborts or close() destroys it

      if (reply.status !== undefined && reply.status >= 400) {
        sendError(res, reply.status, { message: reply.errorMessage, code: reply.errorCode, type: reply.errorType });
        return;
      }

      const completion = buildCompletion(request, reply);
      const requestId = randomId('req_');

      if (request.stream !== true) {
        const text = JSON.stringify(completionBody(completion));
        const broken = reply.malformedChunk ? text.slice(0, Math.floor(text.length / 2)) : text;
        if (reply.cutAfterChunks !== undefined) {
          res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), 'x-request-id': requestId });
          await write(res, text.slice(0, Math.floor(text.length / 2)), signal);
          cut = true;
          res.destroy();
          return;
        }
        res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(broken), 'x-request-id': requestId });
        res.end(broken);
        return;
      }

      const includeUsage = request.stream_options?.include_usage === true;
      const events = streamEvents(completion, reply, includeUsage);
      res.writeHead(200, {
        'content-type': 'text/event-stream; charset=utf-8',
        'cache-control': 'no-cache',
        connection: 'keep-alive',
        'x-request-id': requestId,
      });
      res.flushHeaders();
      let sent = 0;
      for (const event of events) {
        if (reply.cutAfterChunks !== undefined && sent >= reply.cutAfterChunks) {
          cut = true;
          res.destroy();
          return;
        }
        if (sent > 0) await sleep(reply.chunkDelayMs, signal);
        const payload = typeof event === 'string' ? event : JSON.stringify(event);
        if (!(await write(res, `data: ${payload}\n\n`, signal))) return;
        sent++;
      }
      if (reply.cutAfterChunks !== undefined && sent >= reply.cutAfterChunks) {
        cut = true;
        res.destroy();
        return;
      }
      if (reply.chunkDelayMs) await sleep(reply.chunkDelayMs, signal);
      if (!(await write(res, 'data: [DONE]\n\n', signal))) return;
      res.end();
    } finally {
      if (res.writableFinished) record.completed = true;
      else res.once('finish', () => (record.completed = true));
    }
  }

  const embeddingRequests: string[][] = [];
  const held: Array<() => void> = [];
  const releaseEmbeddings = () => {
    for (const release of held.splice(0)) release();
  };
  const server = http.createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://localhost').pathname;
    if (req.method === 'POST' && path === '/v1/chat/completions') {
      handleChat(req, res).catch((err: unknown) => {
        if (!res.headersSent) sendError(res, 500, { message: err instanceof Error ? err.message : String(err) });
        else res.destroy();
      });
      return;
    }
    if (req.method === 'POST' && path === '/v1/embeddings') {
      handleEmbeddings(req, res, embeddingRequests, () => new Promise<void>((resolve) => held.push(resolve))).catch((err: unknown) => sendError(res, 500, { message: err instanceof Error ? err.message : String(err) }));
      return;
    }
    if (req.method === 'GET' && path === '/v1/models') {
      const created = Math.floor(Date.now() / 1000);
      sendJson(res, 200, { object: 'list', data: models.map((id) => ({ id, object: 'model', created, owned_by: 'agentgraph-test' })) });
      return;
    }
    req.resume();
    sendError(res, 404, { message: `Unknown request URL: ${req.method} ${path}`, code: 'unknown_url' });
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  const urlHost = host.includes(':') ? `[${host}]` : host;

  return {
    url: `http://${urlHost}:${port}/v1`,
    requests,
    embeddingRequests,
    enqueue: (...replies) => void queue.push(...replies),
    heldEmbeddings: () => held.length,
    releaseEmbeddings,
    pending: () => queue.length,
    active: () => inFlight.size,
    close() {
      closing ??= new Promise<void>((resolve) => {
        for (const controller of inFlight) controller.abort();
        releaseEmbeddings();
        server.close(() => resolve());
        server.closeAllConnections();
      });
      return closing;
    },
  };
}

// --- embeddings ----------------------------------------------------------------------------

export const EMBEDDING_DIMENSIONS = 8;

/** A deterministic vector: each word adds to one bucket chosen by its characters. */
export function scriptedEmbedding(text: string): number[] {
  const vector = new Array<number>(EMBEDDING_DIMENSIONS).fill(0);
  for (const word of text.toLowerCase().match(/[a-z0-9]+/g) ?? []) {
    let hash = 0;
    for (const char of word) hash = (hash * 31 + char.charCodeAt(0)) % 1_000_003;
    vector[hash % EMBEDDING_DIMENSIONS]! += 1;
  }
  return vector;
}

async function handleEmbeddings(req: IncomingMessage, res: ServerResponse, recorded: string[][], hold: () => Promise<void>) {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  const body = JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}') as { input?: string | string[]; model?: string };
  const inputs = typeof body.input === 'string' ? [body.input] : (body.input ?? []);
  recorded.push(inputs);
  if (inputs.some((input) => input.includes('HOLD_EMBEDDING'))) await hold();
  if (inputs.some((input) => input.includes('FAIL_EMBEDDING'))) {
    sendError(res, 500, { message: 'scripted embedding failure' });
    return;
  }
  sendJson(res, 200, {
    object: 'list',
    model: body.model ?? 'scripted',
    data: inputs.map((input, index) => ({ object: 'embedding', index, embedding: scriptedEmbedding(input) })),
    usage: { prompt_tokens: inputs.length, total_tokens: inputs.length },
  });
}
