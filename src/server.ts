import http from 'node:http';
import { randomUUID } from 'node:crypto';
import { createYoga } from 'graphql-yoga';
import { renderGraphiQL } from '@graphql-yoga/render-graphiql';
import { maxAliasesPlugin } from '@escape.tech/graphql-armor-max-aliases';
import { maxDepthPlugin } from '@escape.tech/graphql-armor-max-depth';
import { maxTokensPlugin } from '@escape.tech/graphql-armor-max-tokens';
import type { AppContext } from './app.js';
import { schema } from './schema/index.js';
import type { GraphQLContext } from './schema/builder.js';
import { createErrorMasker, useErrorCodes } from './schema/error-masking.js';
import { useSharedSubscriptionExecution } from './transports/shared-execution.js';
import { useOperationLimits } from './transports/operation-limits.js';
import { useCompiledQueries } from './transports/compiled-queries.js';
import { authenticate, bearerToken, type Caller } from './services/platform/auth.js';
import { AppError } from './errors.js';
import { useGraphQLOverSSE } from './transports/sse.js';
import type { InitialContext } from './transports/operation.js';
import type { MaskError } from './transports/shared-execution.js';
import { attachWebSocketServer, tokenFromConnectionParams } from './transports/ws.js';
import { checkCsrf, corsOptions, createOriginPolicy, foreignOriginMessage, requestOrigin, useCsrfPrevention, useIntrospectionPolicy, type OriginPolicy } from './server/browser.js';
import { pipeStream } from './server/stream-response.js';
import { clientAddress } from './limits/client-address.js';
import { RateLimitedError, subjectOf } from './limits/rate-limits.js';
import { countClientErrors, countedHold, useOperationMetrics } from './observability/metrics.js';
import { METRICS_PATH, metricsAccess, serveMetrics, startMetricsServer } from './observability/metrics-endpoint.js';
import { useInputChecks } from './server/input-checks.js';
import { useStrictRequestParsers } from './server/request-parsers.js';
import { isSlicedResult, useSlicedLargeResults } from './server/large-results.js';

export const GRAPHQL_PATH = '/graphql';
export const SSE_PATH = '/graphql/stream';

/** The GraphiQL tour; test/docs-examples.test.ts keeps it valid against the schema. */
export const GRAPHIQL_DEFAULT_QUERY = `# Welcome to agentgraph: stateful agents as a graph.
# Run the operations in order with the play button (it asks which one); explore the schema in
# the Docs panel. Conventions: every mutation takes one input object; lists are connections with
# edges, nodes, totalCount and pageInfo; errors carry extensions.code (see ErrorCode).

# 1. An agent with two memory blocks. Copy its id into the variables below as "agentId".
mutation CreateAgent {
  createAgent(input: {
    name: "Ada"
    memoryBlocks: [
      { label: "human", value: "The user's name is Grace." }
      { label: "persona", value: "I am Ada, a patient tutor." }
    ]
  }) {
    agent { id name agentType tools { name } }
  }
}

# 2. Talk to it; the run ends with a stop reason (END_TURN, REQUIRES_APPROVAL, ...).
mutation Send($agentId: ID!) {
  sendMessage(input: { agentId: $agentId, input: "Hi! What do you remember about me?" }) {
    stopReason
    messages { messageType ... on AssistantMessage { content } }
    usage { totalTokens }
  }
}

# 3. The same, streamed token by token (a subscription, over WebSocket).
subscription Chat($agentId: ID!) {
  chat(input: { agentId: $agentId, input: "Tell me a short story." }) {
    __typename seq
    ... on MessageDeltaEvent { kind delta }
    ... on StopReasonEvent { stopReason }
  }
}

# 4. Agents with their memory and recent history.
query Agents {
  agents(first: 10) {
    totalCount
    nodes {
      id name memory
      blocks { label value }
      messages(last: 5) { nodes { messageType date } }
    }
  }
}
`;

export interface RunningServer {
  readonly url: string;
  readonly port: number;
  /** Where /metrics is served when METRICS_PORT puts it on its own port. */
  readonly metricsUrl?: string;
  /** Stops accepting, lets in-flight requests finish, closes sockets; bounded by SHUTDOWN_TIMEOUT_MS. */
  close(): Promise<void>;
}

function createGraphQLHandler(app: AppContext, maskError: MaskError, origins: OriginPolicy) {
  const { config, logger } = app;
  return createYoga<InitialContext, GraphQLContext>({
    schema,
    graphqlEndpoint: GRAPHQL_PATH,
    // The body is read and bounded before yoga (handleGraphQL: MAX_BODY_BYTES, MAX_UPLOAD_BYTES);
    // yoga's own limit would pipe every buffered body through a web stream once more.
    maxRequestBodySize: false,
    landingPage: false,
    cors: corsOptions(origins),
    graphiql: config.GRAPHIQL ? { title: 'agentgraph', subscriptionsProtocol: 'WS', defaultQuery: GRAPHIQL_DEFAULT_QUERY } : false,
    // Bundled GraphiQL: the page works on machines without internet access (no CDN).
    renderGraphiQL,
    logging: {
      debug: (...args) => logger.debug({ args }, 'yoga'),
      info: (...args) => logger.info({ args }, 'yoga'),
      warn: (...args) => logger.warn({ args }, 'yoga'),
      // yoga reports every error it masks here; the masker logs unexpected ones with their stack and
      // useOperationMetrics logs client errors with their code, so these are noise at error level.
      error: (...args) => logger.debug({ args }, 'yoga'),
    },
    maskedErrors: { maskError },
    plugins: [
      maxTokensPlugin({ n: config.MAX_QUERY_TOKENS }),
      maxDepthPlugin({ n: config.MAX_QUERY_DEPTH, ignoreIntrospection: true, flattenFragments: true }),
      maxAliasesPlugin({ n: config.MAX_QUERY_ALIASES }),
      useCompiledQueries(logger),
      ...useOperationLimits({ maxCost: config.MAX_QUERY_COST, queryTimeoutMs: config.QUERY_TIMEOUT_MS, maxResponseBytes: config.MAX_RESPONSE_BYTES }),
      ...(app.tracing?.plugins(maskError) ?? []),
      useOperationMetrics(app.metrics, logger),
      useCsrfPrevention(),
      useStrictRequestParsers(),
      useInputChecks(),
      useIntrospectionPolicy(config.INTROSPECTION),
      useGraphQLOverSSE(
        SSE_PATH,
        maskError,
        checkCsrf,
        (request, address) => countedHold(app.metrics, 'sse', () => app.limits.openSubscription(subjectOf(bearerToken(request.headers.get('authorization')), address))),
        {
          errors: (operation, errors) => countClientErrors(app.metrics, logger, 'sse', operation, errors),
          refused: (reason) => app.metrics.rejectedConnections.inc({ transport: 'sse', reason }),
        },
      ),
      useSharedSubscriptionExecution(),
      useErrorCodes(),
      useSlicedLargeResults(),
    ],
    context: async (initial): Promise<GraphQLContext> => {
      const requestId = initial.request?.headers.get('x-request-id') ?? randomUUID();
      let caller: Caller | null = initial.caller ?? null;
      let authProblem: string | null = null;
      if (!caller) {
        const token = initial.request?.headers.get('authorization')
          ? bearerToken(initial.request.headers.get('authorization'))
          : tokenFromConnectionParams(initial.connectionParams);
        try {
          caller = await authenticate(app.db.prisma, app.authPolicy, token);
        } catch (error) {
          if (!(error instanceof AppError)) throw error;
          authProblem = error.message;
          // A wrong key counts against the client address; past the limit the answer is RATE_LIMITED.
          if (token && initial.clientAddress) await app.limits.authFailed(initial.clientAddress);
        }
      }
      return {
        caller,
        authProblem,
        services: {
          prisma: app.db.prisma,
          orgId: caller?.orgId ?? '',
          bus: app.bus,
          logger: logger.child({ requestId, orgId: caller?.orgId }),
          runtime: app.runtime,
        },
      };
    },
  });
}

function sendJson(res: http.ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) {
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', ...headers });
  res.end(JSON.stringify(body));
}

const graphqlError = (code: string, message: string, extra: Record<string, unknown> = {}) => ({ errors: [{ message, extensions: { ...extra, code } }] });

function sendRateLimited(res: http.ServerResponse, error: RateLimitedError) {
  sendJson(res, 429, graphqlError('RATE_LIMITED', error.message, error.details), { 'retry-after': String(error.retryAfterSeconds) });
}

class BodyTooLarge extends Error {}

const ALLOWED_METHODS = new Set(['GET', 'HEAD', 'POST', 'OPTIONS']);

/** How much of an oversized body is read and discarded before the 413 goes out anyway. */
const DRAIN_LIMIT_BYTES = 128 * 1024 * 1024;

async function readBody(req: http.IncomingMessage, limit: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > limit) throw new BodyTooLarge();
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

export async function startServer(app: AppContext): Promise<RunningServer> {
  const { config, logger } = app;
  const maskError = createErrorMasker(logger);
  const origins = createOriginPolicy(config.CORS_ORIGINS);
  const yoga = createGraphQLHandler(app, maskError, origins);
  let shuttingDown = false;
  const inFlight = new Set<Promise<void>>();
  const streams = new Set<AbortController>();

  async function handleGraphQL(req: http.IncomingMessage, res: http.ServerResponse) {
    const declared = Number(req.headers['content-length'] ?? 0);
    // A file upload (GraphQL multipart request) may carry a file up to MAX_UPLOAD_BYTES.
    const multipart = (req.headers['content-type'] ?? '').startsWith('multipart/form-data');
    const bodyLimit = multipart ? Math.max(config.MAX_BODY_BYTES, config.MAX_UPLOAD_BYTES + 64 * 1024) : config.MAX_BODY_BYTES;
    const tooLarge = () =>
      sendJson(res, 413, graphqlError('PAYLOAD_TOO_LARGE', `Request body exceeds ${bodyLimit} bytes`), { connection: 'close' });
    if (declared > bodyLimit) {
      // Answering while the client still sends would reset its connection before it reads the
      // answer (a large upload then fails with ECONNRESET): discard the body, then answer.
      let drained = 0;
      const answer = () => {
        if (!res.headersSent) tooLarge();
      };
      req.on('data', (chunk: Buffer) => {
        drained += chunk.length;
        if (drained > bodyLimit + DRAIN_LIMIT_BYTES) answer();
      });
      req.on('end', answer);
      req.on('error', () => {});
      req.resume();
      return;
    }
    const address = clientAddress(req, config.TRUST_PROXY);
    if (req.method !== 'OPTIONS') {
      const token = bearerToken(req.headers.authorization);
      try {
        if (token) await app.limits.checkAuthFailures(address);
        await app.limits.request(subjectOf(token, address));
      } catch (error) {
        if (!(error instanceof RateLimitedError)) throw error;
        req.resume();
        return sendRateLimited(res, error);
      }
    }
    let body: Buffer | undefined;
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      try {
        body = await readBody(req, bodyLimit);
      } catch (error) {
        if (error instanceof BodyTooLarge) return tooLarge();
        throw error;
      }
    }
    const abort = new AbortController();
    // Aborting builds a DOMException: only for a client that left before its answer was written.
    res.on('close', () => {
      if (!res.writableFinished) abort.abort();
    });
    // yoga's own Request class (whatwg-node), given Node's header object as is and the body read
    // above: its headers are read from that object on demand, and a buffered body is parsed
    // without the web streams a native Request puts around it.
    const request = new yoga.fetchAPI.Request(`http://${req.headers.host ?? 'localhost'}${req.url ?? '/'}`, {
      method: req.method,
      headers: req.headers as Record<string, string>,
      body: body && body.length > 0 ? new Uint8Array(body.buffer as ArrayBuffer, body.byteOffset, body.length) : undefined,
      signal: abort.signal,
    });
    const response = await yoga.fetch(request, { clientAddress: address });
    res.writeHead(response.status, Object.fromEntries(response.headers));
    const type = response.headers.get('content-type') ?? '';
    if (!type.includes('text/event-stream') && !type.includes('multipart/mixed')) {
      // A plain result: one write instead of one per chunk of the body stream. yoga's own results
      // are text, written as is; a sliced large result (server/large-results.ts) is collected as
      // bytes (reading it as text would decode it once more).
      if (isSlicedResult(response)) {
        const bytes = await response.arrayBuffer();
        res.end(Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes));
      } else {
        const text = await response.text();
        res.end(text.length === 0 ? undefined : text);
      }
      return;
    }
    if (!response.body) return void res.end();
    streams.add(abort);
    try {
      await pipeStream(response.body, res, abort.signal, { maxBufferedBytes: config.SSE_BUFFER_BYTES, eventStream: type.includes('text/event-stream') });
    } finally {
      streams.delete(abort);
    }
  }

  /** Refuses what must not reach yoga: unknown methods, and browsers from origins not allowed. */
  function refused(req: http.IncomingMessage, res: http.ServerResponse): boolean {
    if (!ALLOWED_METHODS.has(req.method ?? '')) {
      sendJson(res, 405, graphqlError('BAD_USER_INPUT', `Method ${req.method} is not allowed; use GET or POST`), { allow: [...ALLOWED_METHODS].join(', ') });
      return true;
    }
    const { origin, host } = requestOrigin(req);
    if (origins.allows(origin, host)) return false;
    logger.warn({ origin, path: req.url }, 'request from a foreign origin refused');
    sendJson(res, 403, graphqlError('FORBIDDEN', foreignOriginMessage(origin!)));
    return true;
  }

  async function handle(req: http.IncomingMessage, res: http.ServerResponse) {
    const path = (req.url ?? '/').split('?')[0];
    if (path === '/healthz') return sendJson(res, 200, { status: 'ok' });
    if (path === '/readyz') {
      const ready = !shuttingDown && (await isReady(app));
      return sendJson(res, ready ? 200 : 503, { status: ready ? 'ready' : 'unavailable' });
    }
    if (shuttingDown) return sendJson(res, 503, graphqlError('UNAVAILABLE', 'Server is shutting down'), { connection: 'close' });
    if (path === '/') {
      res.writeHead(302, { location: GRAPHQL_PATH });
      return void res.end();
    }
    if (path === METRICS_PATH && config.METRICS && config.METRICS_PORT === undefined) {
      return serveMetrics(req, res, app.metrics, metricsAccess(config, false), refreshMetrics);
    }
    if (path === GRAPHQL_PATH || path === SSE_PATH) return refused(req, res) ? undefined : handleGraphQL(req, res);
    return sendJson(res, 404, graphqlError('NOT_FOUND', `No route ${path}; the API is at ${GRAPHQL_PATH}`));
  }

  const server = http.createServer((req, res) => {
    const work = handle(req, res).catch((error: unknown) => {
      logger.error({ err: error }, 'request failed');
      if (!res.headersSent) sendJson(res, 500, graphqlError('INTERNAL', 'Internal server error'));
      else res.end();
    });
    inFlight.add(work);
    void work.finally(() => inFlight.delete(work));
  });
  const wsServer = attachWebSocketServer(app, { yoga, maskError }, server, GRAPHQL_PATH, origins);
  async function refreshMetrics() {
    app.metrics.connections.set({ transport: 'graphql-ws' }, wsServer.clients.size);
    app.metrics.connections.set({ transport: 'sse' }, streams.size);
    app.metrics.queueDepth.set(await app.db.prisma.run.count({ where: { status: 'created' } }));
  }
  const metricsServer = config.METRICS && config.METRICS_PORT !== undefined ? await startMetricsServer(config, logger, app.metrics, refreshMetrics) : undefined;

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.PORT, config.HOST, () => resolve());
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : config.PORT;
  const url = `http://${config.HOST.includes(':') ? `[${config.HOST}]` : config.HOST}:${port}${GRAPHQL_PATH}`;
  logger.info({ url }, `agentgraph listening on ${url}${config.GRAPHIQL ? ' (GraphiQL)' : ''}`);

  let closing: Promise<void> | undefined;
  const close = () =>
    (closing ??= (async () => {
      shuttingDown = true;
      logger.info('shutting down');
      const stopped = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      for (const client of wsServer.clients) client.close(1001, 'Server shutting down');
      for (const stream of streams) stream.abort();
      const deadline = new Promise<'timeout'>((resolve) => setTimeout(() => resolve('timeout'), config.SHUTDOWN_TIMEOUT_MS).unref());
      const drained = Promise.all([...inFlight]).then(() => 'drained' as const);
      if ((await Promise.race([drained, deadline])) === 'timeout') logger.warn('shutdown timeout: closing remaining connections');
      for (const client of wsServer.clients) client.terminate();
      server.closeAllConnections();
      await Promise.race([stopped, deadline]);
      await new Promise<void>((resolve) => wsServer.close(() => resolve()));
      if (metricsServer) {
        metricsServer.closeAllConnections();
        await new Promise<void>((resolve) => metricsServer.close(() => resolve()));
      }
      logger.info('server closed');
    })());

  const metricsAddress = metricsServer?.address();
  const metricsUrl = metricsAddress && typeof metricsAddress === 'object' ? `http://${config.METRICS_HOST}:${metricsAddress.port}${METRICS_PATH}` : undefined;
  return { url, port, metricsUrl, close };
}

async function isReady(app: AppContext): Promise<boolean> {
  try {
    await app.db.prisma.$queryRaw`SELECT 1`;
    return await app.bus.healthy();
  } catch {
    return false;
  }
}
