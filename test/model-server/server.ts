/**
 * A scripted model server speaking the wire protocols of the providers over real HTTP, so that
 * each provider's real AI SDK package runs in the tests.
 *
 * Tests point the runtime's provider at `server.url` (or `origin` + the provider's path) and
 * script the model's replies with `enqueue(...)`; every request is recorded. When the script runs
 * out, a `Brain` decides (the default one echoes the last user message). Only `node:http` is used.
 *
 *   POST /v1/chat/completions                 OpenAI Chat Completions (openai-chat.ts)
 *   POST /v1/responses, /openai/v1/responses  OpenAI Responses, Azure OpenAI v1 (openai-responses.ts)
 *   POST /v1/messages                         Anthropic Messages (anthropic.ts)
 *   POST /v1beta/models/{m}:streamGenerateContent   Gemini (gemini.ts)
 *   POST /model/{m}/converse-stream           Bedrock ConverseStream, SigV4 checked (bedrock.ts)
 *   GET  /v1/models, /v1beta/models, /api/tags     model lists in each provider's shape (catalog.ts)
 *   POST /v1/embeddings, /v1beta/models/{m}:batchEmbedContents, /api/embed   embeddings (embeddings.ts)
 *   POST /v1/messages/count_tokens, /v1beta/models/{m}:countTokens   token counts (token-count.ts)
 *   anything else                             404
 */
import http, { type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { anthropic } from './anthropic.js';
import { bedrock, verifySigV4 } from './bedrock.js';
import { listModels } from './catalog.js';
import { handleEmbeddings } from './embeddings.js';
import { handleTokenCount, type CountCall } from './token-count.js';
import { gemini } from './gemini.js';
import { completionBody, openaiChat } from './openai-chat.js';
import { openaiResponses } from './openai-responses.js';
import { answerOf, messageText, randomId, retryAfterOf, type Brain, type ChatRequest, type Protocol, type ProtocolName, type Reply } from './protocol.js';

export * from './protocol.js';
export { EMBEDDING_DIMENSIONS, scriptedEmbedding, type EmbeddingCall } from './embeddings.js';
export { scriptedTokenCount, type CountCall } from './token-count.js';
import type { EmbeddingCall } from './embeddings.js';

export interface RecordedRequest {
  /** The request as a chat-completions body (the body itself for Chat Completions; a view of it for the other protocols). */
  body: ChatRequest;
  /** The parsed JSON body as sent. */
  raw: Record<string, unknown>;
  protocol: ProtocolName;
  /** The request path (and query). */
  path: string;
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
  /** `http://127.0.0.1:PORT`, for providers whose base path is not `/v1` (Gemini's `/v1beta`, Azure's `/openai`). */
  readonly origin: string;
  /** Appends replies to the FIFO script; each model request takes the next one. */
  enqueue(...replies: Reply[]): void;
  /** Every model request with a parseable body, in arrival order. */
  readonly requests: RecordedRequest[];
  /** Inputs of every embeddings request (any protocol), in arrival order. */
  readonly embeddingRequests: string[][];
  /** The same requests with their path (which tells the protocol) and model. */
  readonly embeddingCalls: EmbeddingCall[];
  /** Token count requests (Anthropic count_tokens, Gemini countTokens), with the count answered. */
  readonly countCalls: CountCall[];
  /** Embedding requests waiting (HOLD_EMBEDDING) for releaseEmbeddings(). */
  heldEmbeddings(): number;
  /** Answers every held embedding request. */
  releaseEmbeddings(): void;
  /** Replies not yet consumed. */
  pending(): number;
  /** Model requests still being answered (delaying, streaming or hanging). */
  active(): number;
  /** Closes the server and every open connection/stream; idempotent. */
  close(): Promise<void>;
}

export interface ModelServerOptions {
  port?: number;
  host?: string;
  brain?: Brain;
  /** Ids listed by the model list endpoints. */
  models?: string[];
  /** Bedrock: the secret key that ConverseStream requests must be signed with (SigV4). */
  awsSecretAccessKey?: string;
}

// --- request helpers (for brains and assertions) -------------------------------------------

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
function write(res: ServerResponse, data: string | Buffer, signal: AbortSignal): Promise<boolean> {
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

export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  if (res.headersSent || res.destroyed) return;
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), ...headers });
  res.end(text);
}

function sendError(res: ServerResponse, protocol: Protocol, status: number, reply: Reply = {}): void {
  const { body, headers } = protocol.error(status, reply);
  sendJson(res, status, body, { ...headers, ...retryAfterOf(status, reply) });
}

export async function readBody(req: IncomingMessage): Promise<string | undefined> {
  const chunks: Buffer[] = [];
  try {
    for await (const chunk of req) chunks.push(chunk as Buffer);
  } catch {
    return undefined; // client went away while sending
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** The protocol (and the model named in the path) of a model request. */
function route(method: string, path: string): { protocol: Protocol; model?: string } | undefined {
  if (method !== 'POST') return undefined;
  if (path === '/v1/chat/completions') return { protocol: openaiChat };
  if (path === '/v1/responses' || path === '/openai/v1/responses') return { protocol: openaiResponses };
  if (path === '/v1/messages') return { protocol: anthropic };
  const gemini_ = /^\/v1beta\/models\/([^/:]+):streamGenerateContent$/.exec(path);
  if (gemini_) return { protocol: gemini, model: decodeURIComponent(gemini_[1]!) };
  const bedrock_ = /^\/model\/([^/]+)\/converse-stream$/.exec(path);
  if (bedrock_) return { protocol: bedrock, model: decodeURIComponent(bedrock_[1]!) };
  return undefined;
}

export async function startModelServer(options: ModelServerOptions = {}): Promise<ModelServer> {
  const host = options.host ?? '127.0.0.1';
  const brain = options.brain ?? defaultBrain;
  const models = options.models ?? DEFAULT_MODELS;
  const queue: Reply[] = [];
  const requests: RecordedRequest[] = [];
  /** In-flight model answers: aborting one ends its timers and writes. */
  const inFlight = new Set<AbortController>();
  let closing: Promise<void> | undefined;

  async function handleModel(req: IncomingMessage, res: ServerResponse, protocol: Protocol, pathModel: string | undefined): Promise<void> {
    const text = await readBody(req);
    if (text === undefined) return;
    let raw: unknown;
    try {
      raw = JSON.parse(text);
    } catch {
      sendError(res, protocol, 400, { errorMessage: 'We could not parse the JSON body of your request.', errorCode: 'invalid_json' });
      return;
    }
    const view = typeof raw === 'object' && raw !== null && !Array.isArray(raw) ? protocol.view(raw as Record<string, unknown>, pathModel) : 'the body must be a JSON object';
    if (typeof view === 'string') {
      sendError(res, protocol, 400, { errorMessage: view, errorCode: 'invalid_value' });
      return;
    }
    if (protocol.name === 'bedrock' && options.awsSecretAccessKey) {
      const problem = verifySigV4(req, text, options.awsSecretAccessKey);
      if (problem) {
        sendJson(res, 403, { message: problem }, { 'x-amzn-errortype': 'InvalidSignatureException' });
        return;
      }
    }
    const record: RecordedRequest = { body: view, raw: raw as Record<string, unknown>, protocol: protocol.name, path: req.url ?? '', headers: req.headers, time: Date.now(), aborted: false, completed: false };
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
          reply = await brain(view);
        } catch (err) {
          record.reply = { status: 500, errorMessage: `brain failed: ${err instanceof Error ? err.message : String(err)}` };
          sendError(res, protocol, 500, record.reply);
          return;
        }
      }
      record.reply = reply;

      await sleep(reply.delayMs, signal);
      if (signal.aborted) return;
      if (reply.hang) return; // left open until the client aborts or close() destroys it

      if (reply.status !== undefined && reply.status >= 400) {
        sendError(res, protocol, reply.status, reply);
        return;
      }

      const answer = answerOf(view, reply, protocol.toolCallPrefix);
      const requestId = randomId('req_');

      if (protocol.name === 'openai-chat' && view.stream !== true) {
        const body = JSON.stringify(completionBody(answer));
        const half = body.slice(0, Math.floor(body.length / 2));
        if (reply.cutAfterChunks !== undefined) {
          res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), 'x-request-id': requestId });
          await write(res, half, signal);
          cut = true;
          res.destroy();
          return;
        }
        const sentBody = reply.malformedChunk ? half : body;
        res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(sentBody), 'x-request-id': requestId });
        res.end(sentBody);
        return;
      }

      const frames = protocol.frames(answer, reply, view);
      res.writeHead(200, { 'content-type': protocol.streamContentType, 'cache-control': 'no-cache', connection: 'keep-alive', 'x-request-id': requestId });
      res.flushHeaders();
      let sent = 0;
      for (const frame of frames) {
        if (reply.cutAfterChunks !== undefined && sent >= reply.cutAfterChunks) {
          cut = true;
          res.destroy();
          return;
        }
        if (sent > 0) await sleep(reply.chunkDelayMs, signal);
        if (!(await write(res, frame, signal))) return;
        sent++;
      }
      res.end();
    } finally {
      if (res.writableFinished) record.completed = true;
      else res.once('finish', () => (record.completed = true));
    }
  }

  const embeddingRequests: string[][] = [];
  const embeddingCalls: EmbeddingCall[] = [];
  const countCalls: CountCall[] = [];
  const held: Array<() => void> = [];
  const releaseEmbeddings = () => {
    for (const release of held.splice(0)) release();
  };
  const hold = () => new Promise<void>((resolve) => held.push(resolve));
  const server = http.createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://localhost').pathname;
    const model = route(req.method ?? 'GET', path);
    if (model) {
      handleModel(req, res, model.protocol, model.model).catch((err: unknown) => {
        if (!res.headersSent) sendError(res, model.protocol, 500, { errorMessage: err instanceof Error ? err.message : String(err) });
        else res.destroy();
      });
      return;
    }
    if (req.method === 'POST' && handleEmbeddings(req, res, path, { inputs: embeddingRequests, calls: embeddingCalls }, hold)) return;
    if (req.method === 'GET' && listModels(req, res, path, models)) return;
    if (req.method === 'POST' && handleTokenCount(req, res, path, countCalls)) return;
    req.resume();
    sendError(res, openaiChat, 404, { errorMessage: `Unknown request URL: ${req.method} ${path}`, errorCode: 'unknown_url' });
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
  const origin = `http://${urlHost}:${port}`;

  return {
    url: `${origin}/v1`,
    origin,
    requests,
    embeddingRequests,
    embeddingCalls,
    countCalls,
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
