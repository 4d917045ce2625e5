import type { GraphQLError } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import { createHandler } from 'graphql-sse/lib/use/fetch';
import { prepareOperation, withData, type GraphQLHandler, type HoldSubscription } from './operation.js';
import type { MaskError } from './shared-execution.js';
import { requestedOperation } from '../observability/metrics.js';

/**
 * GraphQL over Server-Sent Events (the graphql-sse protocol) at `endpoint`, authenticated by the
 * request's Authorization header like any HTTP request. Errors at subscribe time (auth, unknown
 * ids) reach the client as a result with errors, not as a broken stream.
 */
export function useGraphQLOverSSE(
  endpoint: string,
  maskError: MaskError,
  checkRequest: (request: Request) => void,
  holdFor: (request: Request, clientAddress: string | undefined) => HoldSubscription,
  /** Told about the errors each streamed result carries, and about streams refused before any operation. */
  observe: { errors(operation: string | undefined, errors: readonly GraphQLError[] | undefined): void; refused(code: string): void },
): Plugin {
  let handler: ((request: Request) => Promise<Response>) | undefined;
  const addresses = new WeakMap<Request, string | undefined>();
  const operations = new WeakMap<Request, string | undefined>();
  return {
    onYogaInit({ yoga }) {
      const typed = yoga as unknown as GraphQLHandler;
      handler = createHandler(
        {
          onSubscribe: async (req, params) => {
            const clientAddress = addresses.get(req.raw);
            operations.set(req.raw, requestedOperation(params));
            const prepared = await prepareOperation({ yoga: typed, maskError }, { request: req.raw, params, clientAddress }, params, holdFor(req.raw, clientAddress));
            if (!prepared.ok) return { data: null, errors: prepared.errors };
            return withData(await prepared.run()) as never;
          },
          onNext: (_ctx, req, result) => void observe.errors(operations.get(req.raw), result.errors as readonly GraphQLError[] | undefined),
        },
        yoga.fetchAPI,
      );
    },
    onRequest({ request, endResponse, fetchAPI, serverContext }) {
      if (new URL(request.url).pathname !== endpoint || !handler) return;
      if (request.method !== 'OPTIONS') {
        try {
          checkRequest(request);
        } catch (error) {
          const { message, extensions } = error as GraphQLError;
          const status = (extensions?.http as { status?: number } | undefined)?.status ?? 400;
          observe.refused(String(extensions?.code ?? 'BAD_USER_INPUT'));
          const body = JSON.stringify({ errors: [{ message, extensions: { code: extensions?.code } }] });
          return endResponse(new fetchAPI.Response(body, { status, headers: { 'content-type': 'application/json; charset=utf-8' } }));
        }
      }
      addresses.set(request, (serverContext as { clientAddress?: string } | undefined)?.clientAddress);
      return handler(request).then(endResponse);
    },
  };
}
