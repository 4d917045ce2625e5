import { createSourceEventStream, execute, type DocumentNode, type ExecutionArgs, type ExecutionResult } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import { PUSH, pushTo, type Pushable, type PushSink } from '../realtime/stream-push.js';

/**
 * Subscribers of the same operation share its execution. A subscription's source events are
 * mapped to results one subscriber at a time by default, so a run streamed to 500 chat windows
 * ran every selection set 500 times. Here the result for one source event is computed (and its
 * errors masked) once per (document, operation, variables, organization) and handed to every such
 * subscriber, as the same object (transports/ws-sending.ts serialises it once too).
 *
 * Sharing needs the same event object for every subscriber (runEvents hands out one object per
 * stored event, see services/run-events.ts); other events simply miss the cache. A selection whose
 * resolvers are synchronous is executed synchronously, so that its results can be pushed
 * (realtime/stream-push.ts) to every subscriber in the turn the event arrives.
 */

export type MaskError = (error: unknown) => Error;

type Result = Promise<ExecutionResult> | ExecutionResult;
type Results = Map<string, Result>;

/** Per source event, per document, per variant: the event's result (weak: dropped with the event). */
const shared = new WeakMap<object, WeakMap<DocumentNode, Results>>();

function variantOf(args: ExecutionArgs): string {
  const orgId = (args.contextValue as { services?: { orgId?: string } } | undefined)?.services?.orgId ?? '';
  return `${orgId}\u0000${args.operationName ?? ''}\u0000${JSON.stringify(args.variableValues ?? {})}`;
}

function masked(result: ExecutionResult, maskError: MaskError | undefined): ExecutionResult {
  if (!maskError || !result.errors) return result;
  return { ...result, errors: result.errors.map((error) => maskError(error) as never) };
}

function executeMasked(args: ExecutionArgs, event: unknown, maskError: MaskError | undefined): Result {
  const result = execute({ ...args, rootValue: event });
  return isPending(result) ? result.then((value) => masked(value, maskError)) : masked(result, maskError);
}

function isPending(result: Result): result is Promise<ExecutionResult> {
  return typeof (result as Partial<Promise<unknown>>).then === 'function';
}

function resultFor(event: unknown, args: ExecutionArgs, variant: string, maskError: MaskError | undefined): Result {
  if (typeof event !== 'object' || event === null) return executeMasked(args, event, maskError);
  let byDocument = shared.get(event);
  if (!byDocument) shared.set(event, (byDocument = new WeakMap()));
  let results = byDocument.get(args.document);
  if (!results) byDocument.set(args.document, (results = new Map()));
  let result = results.get(variant);
  if (!result) {
    result = executeMasked(args, event, maskError);
    results.set(variant, result);
    // Once computed, later subscribers take the result itself rather than awaiting a promise.
    if (isPending(result)) void result.then((value) => results!.set(variant, value), () => {});
  }
  return result;
}

/** The source stream mapped to results; return() reaches the source at once, even mid-wait. */
function mapEvents(
  source: AsyncIterator<unknown>,
  map: (event: unknown) => Result,
  maskError: MaskError | undefined,
): AsyncIterableIterator<ExecutionResult> & Pushable<ExecutionResult> {
  return {
    [Symbol.asyncIterator]() {
      return this;
    },
    // A result still being computed is not pushed: the event takes next(), which awaits it.
    [PUSH](sink: PushSink<ExecutionResult>) {
      pushTo(source, (event: unknown) => {
        const result = map(event);
        return !isPending(result) && sink(result);
      });
    },
    next() {
      // Without `async`: a result already computed for another subscriber costs no extra turn.
      return source.next().then(
        (step): IteratorResult<ExecutionResult> | Promise<IteratorResult<ExecutionResult>> => {
          if (step.done) return { done: true, value: undefined };
          const result = map(step.value);
          return isPending(result) ? result.then((value) => ({ done: false, value })) : { done: false, value: result };
        },
        (error: unknown) => {
          throw maskError ? maskError(error) : error;
        },
      );
    },
    async return() {
      await source.return?.();
      return { done: true, value: undefined };
    },
    async throw(error?: unknown) {
      if (source.throw) await source.throw(error);
      throw error;
    },
  };
}

/**
 * A subscription with shared execution. With `maskError`, errors are masked here, once per shared
 * result: the streaming transports call this directly rather than through yoga's plugin pipeline,
 * whose per-result hooks (error masking) cost more than the rest of the delivery to each subscriber.
 */
export async function subscribeShared(
  args: ExecutionArgs,
  maskError?: MaskError,
): Promise<AsyncIterableIterator<ExecutionResult> | ExecutionResult> {
  const source = await createSourceEventStream(args);
  if (!(Symbol.asyncIterator in source)) return masked(source as ExecutionResult, maskError);
  const variant = variantOf(args);
  const iterator = (source as AsyncIterable<unknown>)[Symbol.asyncIterator]();
  return mapEvents(iterator, (event) => resultFor(event, args, variant, maskError), maskError);
}

/** Shared execution for subscriptions that do go through yoga (over plain HTTP); yoga masks their errors. */
export function useSharedSubscriptionExecution(): Plugin {
  return {
    onSubscribe({ setSubscribeFn }) {
      setSubscribeFn(((args: ExecutionArgs) => subscribeShared(args)) as never);
    },
  };
}
