import type http from 'node:http';
import type { ExecutionArgs } from 'graphql';
import { useServer } from 'graphql-ws/use/ws';
import { WebSocketServer } from 'ws';
import type { AppContext } from '../app.js';
import { authenticate, bearerToken, type Caller } from '../services/auth.js';
import { AppError } from '../services/errors.js';
import { prepareOperation, withData, type GraphQLHandler } from './operation.js';

/** The API key of a graphql-ws connection: `{ authorization: "Bearer …" }` (or `apiKey`) in connection_init. */
export function tokenFromConnectionParams(params: Record<string, unknown> | undefined): string | undefined {
  const value = params?.authorization ?? params?.Authorization ?? params?.apiKey;
  return typeof value === 'string' ? bearerToken(value) : undefined;
}

type RunnableArgs = ExecutionArgs & { rootValue: { run: () => unknown } };

/**
 * graphql-ws on the HTTP server's port and path. The key is checked once, at connection_init:
 * a wrong or revoked key closes the socket with 4403 before any operation runs. A client that
 * answers no ping within WS_KEEPALIVE_MS is cut off.
 */
export function attachWebSocketServer(
  app: AppContext,
  yoga: GraphQLHandler,
  server: http.Server,
  path: string,
): WebSocketServer {
  const wsServer = new WebSocketServer({ server, path });
  const callers = new WeakMap<object, Caller>();
  useServer(
    {
      execute: async (args) => withData(await (args as RunnableArgs).rootValue.run()) as never,
      subscribe: async (args) => withData(await (args as RunnableArgs).rootValue.run()) as never,
      onConnect: async (ctx) => {
        try {
          const caller = await authenticate(app.db.prisma, app.authPolicy, tokenFromConnectionParams(ctx.connectionParams));
          callers.set(ctx.extra.socket, caller);
          return true;
        } catch (error) {
          if (error instanceof AppError) return false;
          throw error;
        }
      },
      onSubscribe: async (ctx, _id, payload) => {
        const prepared = await prepareOperation(
          yoga,
          { connectionParams: ctx.connectionParams, caller: callers.get(ctx.extra.socket), params: payload },
          payload,
        );
        if (!prepared.ok) return prepared.errors;
        return { ...prepared.args, rootValue: { run: prepared.run } };
      },
    },
    wsServer,
    app.config.WS_KEEPALIVE_MS,
  );
  return wsServer;
}
