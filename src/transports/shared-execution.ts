import { createSourceEventStream, execute, type DocumentNode, type ExecutionArgs, type ExecutionResult } from 'graphql';
import type { Plugin } from 'graphql-yoga';

/**
 * Subscribers of the same operation share its execution. A subscription's source events are
 * mapped to results one subscriber at a time by default, so a run streamed to 500 chat windows
 * ran every selection set 500 times. Here the result for one source event is computed once per
 * (document, operation, variables, organization) and handed to every such subscriber.
 *
 * Sharing needs the same event object for every subscriber (runEvents hands out one object per
 * stored event, see services/run-events.ts); other events simply miss the cache.
 */

type Results = Map<string, Promise<ExecutionResult> | ExecutionResult>;

/** Per source event, per document, per variant: the event's result (weak: dropped with the event). */
const shared = new WeakMap<object, WeakMap<DocumentNode, Results>>();

function variantOf(args: ExecutionArgs): string {
  const orgId = (args.contextValue as { services?: { orgId?: string } } | undefined)?.services?.orgId ?? '';
  return `${orgId}\u0000${args.operationName ?? ''}\u0000${JSON.stringify(args.variableValues ?? {})}`;
}

function resultFor(event: unknown, args: ExecutionArgs, variant: string): Promise<ExecutionResult> | ExecutionResult {
  if (typeof event !== 'object' || event === null) return execute({ ...args, rootValue: event });
  let byDocument = shared.get(event);
  if (!byDocument) shared.set(event, (byDocument = new WeakMap()));
  let results = byDocument.get(args.document);
  if (!results) byDocument.set(args.document, (results = new Map()));
  let result = results.get(variant);
  if (!result) {
    result = execute({ ...args, rootValue: event });
    results.set(variant, result);
  }
  return result;
}

/** The source stream mapped to results; return() reaches the source at once, even mid-wait. */
function mapEvents(source: AsyncIterator<unknown>, map: (event: unknown) => Promise<ExecutionResult> | ExecutionResult): AsyncIterableIterator<ExecutionResult> {
  return {
    [Symbol.asyncIterator]() {
      return this;
    },
    async next() {
      const step = await source.next();
      return step.done ? { done: true, value: undefined } : { done: false, value: await map(step.value) };
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

async function sharedSubscribe(args: ExecutionArgs) {
  const source = await createSourceEventStream(args);
  if (!(Symbol.asyncIterator in source)) return source as ExecutionResult;
  const variant = variantOf(args);
  const iterator = (source as AsyncIterable<unknown>)[Symbol.asyncIterator]();
  return mapEvents(iterator, (event) => resultFor(event, args, variant));
}

export function useSharedSubscriptionExecution(): Plugin {
  return {
    onSubscribe({ setSubscribeFn }) {
      setSubscribeFn(sharedSubscribe as never);
    },
  };
}
