import { Client, cacheExchange, fetchExchange, subscriptionExchange } from 'urql';
import { createClient as createWsClient, type Client as WsClient } from 'graphql-ws';
import { serverUrl, websocketUrl } from './settings';

/**
 * One urql client for queries and mutations (HTTP) and one graphql-ws socket for every
 * subscription. Both send the API key, when there is one: HTTP as a bearer token, graphql-ws in
 * its connectionParams.
 */
export interface Clients {
  apiKey: string | undefined;
  urql: Client;
  ws: WsClient;
}

/** The server closes the socket with 4401 when it refuses the key; graphql-ws's client does not retry that code. */
const isRefusedKey = (event: unknown) => typeof event === 'object' && event !== null && (event as { code?: unknown }).code === 4401;

export function createClients(apiKey: string | undefined, onForbidden: () => void): Clients {
  const authorization = apiKey ? `Bearer ${apiKey}` : undefined;
  const ws = createWsClient({
    url: websocketUrl,
    connectionParams: () => (authorization ? { authorization } : {}),
    // Stay connected, and reconnect after a drop; runs then resume from their last seq (follow-run.ts).
    lazy: false,
    retryAttempts: Number.POSITIVE_INFINITY,
    retryWait: async (retries) => new Promise((resolve) => setTimeout(resolve, Math.min(250 * 2 ** retries, 5_000))),
    // A refused key ends the connection for good: ask for another one.
    onNonLazyError: (event) => {
      if (isRefusedKey(event)) onForbidden();
    },
  });
  const urql = new Client({
    url: serverUrl,
    exchanges: [
      cacheExchange,
      fetchExchange,
      subscriptionExchange({
        forwardSubscription: (request) => ({
          subscribe: (sink) => ({ unsubscribe: ws.subscribe({ ...request, query: request.query ?? '' }, sink) }),
        }),
      }),
    ],
    fetchOptions: () => ({
      headers: {
        // Required by the server's CSRF protection for requests that are not plain JSON (uploads).
        'x-graphql-yoga-csrf': '1',
        ...(authorization ? { authorization } : {}),
      },
    }),
  });
  return { apiKey, urql, ws };
}
