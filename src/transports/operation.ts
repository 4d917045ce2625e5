import { getOperationAST, type ExecutionArgs, type ExecutionResult, type GraphQLError } from 'graphql';
import type { YogaServerInstance } from 'graphql-yoga';
import type { GraphQLContext } from '../schema/builder.js';
import { codedRequestError } from '../schema/error-masking.js';
import { subscribeShared, type MaskError } from './shared-execution.js';
import { PUSH, pushTo, type PushSink } from '../realtime/stream-push.js';
import { inputProblemError, operationInputProblem } from '../server/input-checks.js';

import type { Caller } from '../services/platform/auth.js';

/** What each transport hands to yoga's context factory. */
export interface InitialContext {
  request?: Request;
  params?: unknown;
  connectionParams?: Record<string, unknown>;
  /** Set by the WebSocket server once the connection is authenticated. */
  caller?: Caller;
  /** The client's address (rate limits of callers without a key). */
  clientAddress?: string;
}

/** Takes the slots a subscription occupies while open (rate limits); the result gives them back. */
export type HoldSubscription = () => Promise<() => void>;

export type GraphQLHandler = YogaServerInstance<InitialContext, GraphQLContext>;

/** What graphql-ws and SSE run operations with: yoga for parsing, validation and context; the error masker. */
export interface StreamingHandler {
  yoga: GraphQLHandler;
  maskError: MaskError;
}

export interface OperationPayload {
  query: string;
  operationName?: string | null;
  variables?: Record<string, unknown> | null;
}

export type Prepared =
  | { ok: true; args: ExecutionArgs; run: () => unknown }
  | { ok: false; errors: GraphQLError[] };

/**
 * Parses, validates and builds the context of one streamed operation through yoga's plugin
 * pipeline (so limits and auth apply as on HTTP). Queries and mutations execute through yoga;
 * subscriptions with shared execution and the same error masking (see shared-execution.ts).
 * Shared by graphql-ws and SSE.
 */
export async function prepareOperation(
  { yoga, maskError }: StreamingHandler,
  initial: InitialContext,
  payload: OperationPayload,
  hold?: HoldSubscription,
): Promise<Prepared> {
  const enveloped = yoga.getEnveloped(initial);
  let document;
  try {
    document = enveloped.parse(payload.query);
  } catch (error) {
    return { ok: false, errors: [codedRequestError(error)] };
  }
  let errors: readonly GraphQLError[];
  try {
    errors = enveloped.validate(enveloped.schema, document);
  } catch (error) {
    // The query limits (graphql-armor) throw their rejection instead of reporting it.
    return { ok: false, errors: [codedRequestError(error)] };
  }
  if (errors.length > 0) return { ok: false, errors: errors.map(codedRequestError) };
  const problem = operationInputProblem(document, payload.variables);
  if (problem) return { ok: false, errors: [inputProblemError(problem)] };
  const args: ExecutionArgs = {
    schema: enveloped.schema,
    document,
    operationName: payload.operationName ?? undefined,
    variableValues: payload.variables ?? undefined,
    contextValue: await enveloped.contextFactory(),
  };
  const isSubscription = getOperationAST(document, payload.operationName)?.operation === 'subscription';
  if (!isSubscription) return { ok: true, args, run: () => enveloped.execute(args) };
  let release: () => void = () => {};
  if (hold) {
    try {
      release = await hold();
    } catch (error) {
      return { ok: false, errors: [maskError(error) as GraphQLError] };
    }
  }
  return {
    ok: true,
    args,
    run: async () => {
      try {
        return releasing(await subscribeShared(args, maskError), release);
      } catch (error) {
        release();
        throw error;
      }
    },
  };
}

/** graphql-js reports subscribe-time failures as `{ errors }` without `data`; protocols expect `data: null`. */
export function withData(result: unknown): unknown {
  if (result && typeof result === 'object' && !(Symbol.asyncIterator in result) && !('data' in result)) {
    return { data: null, ...(result as ExecutionResult) };
  }
  return result;
}

/** The subscription's results, giving back its slots once it ends (or at once when it did not start). */
function releasing(result: unknown, release: () => void): unknown {
  if (!result || typeof result !== 'object' || !(Symbol.asyncIterator in result)) {
    release();
    return result;
  }
  const source = result as AsyncIterableIterator<unknown>;
  const end = <T>(value: T): T => {
    release();
    return value;
  };
  return {
    [Symbol.asyncIterator]() {
      return this;
    },
    [PUSH]: (sink: PushSink<unknown>) => pushTo(source, sink),
    next: () =>
      source.next().then(
        (step) => (step.done ? end(step) : step),
        (error: unknown) => {
          release();
          throw error;
        },
      ),
    return: async (value?: unknown) => end(source.return ? await source.return(value) : { done: true, value }),
    throw: async (error?: unknown) => {
      release();
      if (source.throw) return source.throw(error);
      throw error;
    },
  };
}
