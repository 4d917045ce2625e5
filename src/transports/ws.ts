import type http from 'node:http';
import type { ExecutionArgs, GraphQLError } from 'graphql';
import { CloseCode, handleProtocols, makeServer } from 'graphql-ws';
import WebSocket, { WebSocketServer } from 'ws';
import type { AppContext } from '../app.js';
import { authenticate, bearerToken, type Caller } from '../services/platform/auth.js';
import { AppError } from '../errors.js';
import { prepareOperation, withData, type StreamingHandler } from './operation.js';
import { nextMessageSender, sendMessage, sharedPayloadReplacer } from './ws-sending.js';
import { pushTo, type PushSink } from '../realtime/stream-push.js';
import { foreignOriginMessage, type OriginPolicy } from '../server/browser.js';
import { clientAddress } from '../limits/client-address.js';
import { subjectOf } from '../limits/rate-limits.js';
import { countClientErrors, countedHold, requestedOperation } from '../observability/metrics.js';

/** The API key of a graphql-ws connection: `{ authorization: "Bearer …" }` (or `apiKey`) in connection_init. */
export function tokenFromConnectionParams(params: Record<string, unknown> | undefined): string | undefined {
  const value = params?.authorization ?? params?.Authorization ?? params?.apiKey;
  return typeof value === 'string' ? bearerToken(value) : undefined;
}

/** A close frame's reason holds at most 123 bytes. */
function closeReason(message: string): string {
  const reason = `Unauthorized: ${message}`;
  return Buffer.byteLength(reason) <= 123 ? reason : 'Unauthorized: the API key was refused';
}

type RunnableArgs = ExecutionArgs & { rootValue: { run: () => unknown; push?: PushSink<unknown> } };

/**
 * graphql-ws on the HTTP server's port and path. The key is checked once, at connection_init:
 * a wrong or revoked key closes the socket with 4401 before any operation runs (a code graphql-ws
 * clients treat as fatal: retrying a bad key cannot help), a client over its rate limit with 4403
 * (which they retry with backoff). The sockets are
 * wired to graphql-ws here rather than by its `useServer`, for the sending in ws-sending.ts and
 * one keep-alive timer for all connections: every WS_KEEPALIVE_MS each socket is pinged, and
 * one that did not answer the previous ping is cut off.
 */
export function attachWebSocketServer(app: AppContext, handler: StreamingHandler, server: http.Server, path: string, origins: OriginPolicy): WebSocketServer {
  const wsServer = new WebSocketServer({
    server,
    path,
    handleProtocols,
    // A page from another origin may not open a socket (browsers always send Origin here).
    verifyClient: ({ origin, req }: { origin: string | undefined; req: http.IncomingMessage }, done: (ok: boolean, code?: number, message?: string) => void) => {
      if (origins.allows(origin, req.headers.host)) return done(true);
      app.logger.warn({ origin, transport: 'graphql-ws' }, 'WebSocket from a foreign origin refused');
      app.metrics.rejectedConnections.inc({ transport: 'graphql-ws', reason: 'FORBIDDEN' });
      done(false, 403, foreignOriginMessage(origin!));
    },
  });
  const callers = new WeakMap<object, Caller>();
  /** Subscriptions open on each socket (RATE_LIMIT_SUBSCRIPTIONS_PER_CONNECTION). */
  const openOnSocket = new WeakMap<object, number>();
  const perConnection = app.config.RATE_LIMIT_SUBSCRIPTIONS_PER_CONNECTION;
  const addressOf = (request: http.IncomingMessage) => clientAddress(request, app.config.TRUST_PROXY);
  const graphqlWs = makeServer<Record<string, unknown> | undefined, { socket: WebSocket; request: http.IncomingMessage }>({
    execute: async (args) => withData(await (args as RunnableArgs).rootValue.run()) as never,
    // A subscription that can push its results sends them without graphql-ws's per-message steps.
    subscribe: async (args) => {
      const { run, push } = (args as RunnableArgs).rootValue;
      const result = withData(await run());
      if (push) pushTo(result, push);
      return result as never;
    },
    onConnect: async (ctx) => {
      const token = tokenFromConnectionParams(ctx.connectionParams);
      const address = addressOf(ctx.extra.request);
      try {
        if (token) await app.limits.checkAuthFailures(address);
        const caller = await authenticate(app.db.prisma, app.authPolicy, token);
        callers.set(ctx.extra.socket, caller);
        return true;
      } catch (error) {
        if (!(error instanceof AppError)) throw error;
        app.logger.info({ code: error.code, address, transport: 'graphql-ws' }, `WebSocket connection refused: ${error.message}`);
        app.metrics.rejectedConnections.inc({ transport: 'graphql-ws', reason: error.code });
        if (token && error.code === 'UNAUTHENTICATED') await app.limits.authFailed(address).catch(() => {});
        // Returning false closes with 4403 Forbidden, which graphql-ws clients retry; a refused key closes first.
        if (error.code === 'UNAUTHENTICATED') ctx.extra.socket.close(CloseCode.Unauthorized, closeReason(error.message));
        return false;
      }
    },
    onSubscribe: async (ctx, id, payload) => {
      const socket = ctx.extra.socket;
      const address = addressOf(ctx.extra.request);
      const subject = subjectOf(tokenFromConnectionParams(ctx.connectionParams), address);
      try {
        await app.limits.request(subject);
      } catch (error) {
        return [handler.maskError(error) as GraphQLError];
      }
      const hold = async () => {
        const open = openOnSocket.get(socket) ?? 0;
        if (perConnection > 0 && open >= perConnection) {
          throw new AppError('RATE_LIMITED', `Too many subscriptions open on this connection (at most ${perConnection}); complete one first`, { limit: 'subscriptionsPerConnection' });
        }
        // Counted before the first await: a burst of subscribe messages sees each other.
        openOnSocket.set(socket, open + 1);
        const leave = () => openOnSocket.set(socket, (openOnSocket.get(socket) ?? 1) - 1);
        let releaseKey: () => void;
        try {
          releaseKey = await app.limits.openSubscription(subject);
        } catch (error) {
          leave();
          throw error;
        }
        let released = false;
        return () => {
          if (released) return;
          released = true;
          leave();
          releaseKey();
        };
      };
      const prepared = await prepareOperation(
        handler,
        { connectionParams: ctx.connectionParams, caller: callers.get(socket), params: payload, clientAddress: address },
        payload,
        countedHold(app.metrics, 'graphql-ws', hold),
      );
      if (!prepared.ok) return prepared.errors;
      // graphql-ws forgets the id when the client completes it or the socket closes.
      const push = nextMessageSender(socket, id, () => id in ctx.subscriptions);
      return { ...prepared.args, rootValue: { run: prepared.run, push } };
    },
    // The result itself (not graphql-ws's copy of it) is the payload, so that sharedPayloadReplacer
    // recognises a result shared by several subscriptions.
    // Runs once per subscriber and event: the operation's name (a regex over the query) only when there are errors to count.
    onNext: (_ctx, _id, payload, _args, result) => {
      if (result.errors) countClientErrors(app.metrics, app.logger, 'graphql-ws', requestedOperation(payload), result.errors);
      return result;
    },
    // Errors instead of a result (limits, validation, rate limits), sent as graphql-ws `error` messages.
    onError: (_ctx, _id, payload, errors) => void countClientErrors(app.metrics, app.logger, 'graphql-ws', requestedOperation(payload), errors),
    jsonMessageReplacer: sharedPayloadReplacer,
  });

  const unanswered = new WeakSet<WebSocket>();
  const keepAlive = setInterval(() => {
    for (const socket of wsServer.clients) {
      if (unanswered.has(socket)) {
        socket.terminate();
        continue;
      }
      unanswered.add(socket);
      socket.ping();
    }
  }, app.config.WS_KEEPALIVE_MS);
  wsServer.once('close', () => clearInterval(keepAlive));

  const internalError = (socket: WebSocket, error: unknown, what: string) => {
    app.logger.error({ err: error }, what);
    socket.close(CloseCode.InternalServerError, 'Internal server error');
  };

  wsServer.on('connection', (socket, request) => {
    socket.on('pong', () => unanswered.delete(socket));
    socket.once('error', (error) => internalError(socket, error, 'WebSocket error'));
    const closed = graphqlWs.opened(
      {
        protocol: socket.protocol,
        send: (data) => sendMessage(socket, data),
        close: (code, reason) => socket.close(code, reason),
        onMessage: (handle) =>
          socket.on('message', (data) => {
            handle(String(data)).catch((error: unknown) => internalError(socket, error, 'graphql-ws message handling failed'));
          }),
      },
      { socket, request },
    );
    socket.once('close', (code, reason) => {
      closed(code, String(reason)).catch((error: unknown) => app.logger.error({ err: error }, 'graphql-ws close handling failed'));
    });
  });
  return wsServer;
}
