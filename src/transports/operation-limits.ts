import { getOperationAST, GraphQLError, validate, type DocumentNode, type ExecutionArgs, type ExecutionResult, type GraphQLSchema } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import { createComplexityRule } from '@pothos/plugin-complexity';
import { AppError, type ErrorCode } from '../errors.js';

/**
 * The limits that keep one operation from exhausting the instance, on every transport (HTTP,
 * graphql-ws, SSE all validate and execute through yoga's plugins):
 *   - cost (MAX_QUERY_COST): refused at validation, before anything runs; the cost of each field
 *     is defined in schema/cost.ts and depends on the list sizes asked for, variables included;
 *   - deadline (QUERY_TIMEOUT_MS): a query still running is ended (mutations and subscriptions
 *     are not: a mutation's effects would happen anyway; a run has its own limits);
 *   - response size (MAX_RESPONSE_BYTES): a query or mutation result larger than this is dropped.
 */

export interface OperationLimits {
  maxCost: number;
  queryTimeoutMs: number;
  maxResponseBytes: number;
}

const coded = (code: ErrorCode, message: string, extensions: Record<string, unknown> = {}) =>
  new GraphQLError(message, { extensions: { ...extensions, code } });

/** Marks our verdicts (cost, or an argument that cannot be costed), so that one cached with a document (see below) is recognised. */
const COST_ERROR = Symbol('costError');

function isCostError(error: GraphQLError): boolean {
  return (error as GraphQLError & { [COST_ERROR]?: true })[COST_ERROR] === true;
}

interface RequestParams {
  operationName?: string | null;
  variables?: Record<string, unknown> | null;
}

/** The cost error of an operation over `maxCost`, or undefined. Variables count (a `first: $n`). */
export function costError(schema: GraphQLSchema, document: DocumentNode, params: RequestParams, maxCost: number): GraphQLError | undefined {
  let verdict: GraphQLError | undefined;
  const rule = createComplexityRule({
    variableValues: params.variables ?? {},
    operationName: params.operationName ?? undefined,
    context: {},
    validate: ({ complexity }) => {
      if (complexity <= maxCost) return;
      verdict = coded(
        'QUERY_TOO_COSTLY',
        `This operation costs ${complexity}, over the limit of ${maxCost}: ask for fewer items (first/last on lists and connections) or fewer nested lists`,
        { cost: complexity, limit: maxCost },
      );
    },
  });
  // Other problems (an unknown operation name, bad variables) are left to validation and execution.
  try {
    validate(schema, document, [rule]);
  } catch (error) {
    // Costs read the arguments as resolvers will (validated): an invalid one refuses the operation
    // here, as it cannot be costed (and must not let the rest of it run uncounted).
    if (!(error instanceof AppError)) throw error;
    verdict = coded(error.code, error.message, error.details);
  }
  if (verdict) Object.assign(verdict, { [COST_ERROR]: true });
  return verdict;
}

/**
 * Costing once per request shape: verdicts per document (yoga's parse cache hands out one
 * document per query text), operation name and variables. Bounded per document; requests with
 * large variables (uploads, long inputs) are costed each time rather than keyed by them.
 */
const VERDICTS_PER_DOCUMENT = 64;
const MAX_VERDICT_KEY_CHARS = 1024;

/**
 * The request's operation name and variables as a key; undefined when the variables are larger
 * than MAX_VERDICT_KEY_CHARS or hold anything but plain JSON (an upload's file). Built by a walk
 * that stops at the budget: a JSON.stringify of a 10 MiB upload's bytes held the event loop for
 * half a second.
 */
function verdictKey(params: RequestParams): string | undefined {
  const parts: string[] = [params.operationName ?? '', '\u0000'];
  let budget = MAX_VERDICT_KEY_CHARS;
  const add = (text: string) => {
    budget -= text.length;
    parts.push(text);
    return budget >= 0;
  };
  const walk = (value: unknown): boolean => {
    if (value === null || typeof value === 'number' || typeof value === 'boolean') return add(String(value));
    if (typeof value === 'string') return value.length <= budget && add(JSON.stringify(value));
    if (Array.isArray(value)) return add('[') && value.every((item) => add(',') && walk(item)) && add(']');
    if (typeof value !== 'object' || Object.getPrototypeOf(value) !== Object.prototype) return false;
    return add('{') && Object.entries(value).every(([name, item]) => add(JSON.stringify(name)) && walk(item)) && add('}');
  };
  return params.variables === undefined || walk(params.variables) ? parts.join('') : undefined;
}

function costVerdicts(maxCost: number) {
  const verdicts = new WeakMap<DocumentNode, Map<string, GraphQLError | null>>();
  return (schema: GraphQLSchema, document: DocumentNode, params: RequestParams): GraphQLError | undefined => {
    const key = verdictKey(params);
    if (key === undefined) return costError(schema, document, params, maxCost);
    let byRequest = verdicts.get(document);
    if (!byRequest) verdicts.set(document, (byRequest = new Map()));
    const known = byRequest.get(key);
    if (known !== undefined) return known ?? undefined;
    const verdict = costError(schema, document, params, maxCost);
    if (byRequest.size >= VERDICTS_PER_DOCUMENT) byRequest.clear();
    byRequest.set(key, verdict ?? null);
    return verdict;
  };
}

function operationCostPlugin(maxCost: number): Plugin {
  const verdictOf = costVerdicts(maxCost);
  return {
    onValidate({ context, params }) {
      return ({ result, setResult }) => {
        // Yoga caches a document's validation result and hands it to later requests of the same
        // text, whose variables may differ: a verdict of ours in it is dropped and made afresh.
        const others = result.filter((error) => !isCostError(error));
        if (others.length > 0) {
          if (others.length !== result.length) setResult(others);
          return;
        }
        const verdict = verdictOf(params.schema, params.documentAST, (context as { params?: RequestParams }).params ?? {});
        setResult(verdict ? [verdict] : []);
      };
    },
  };
}

type Execute = (args: ExecutionArgs & { signal?: AbortSignal }) => Promise<ExecutionResult> | ExecutionResult;

function queryDeadlinePlugin(timeoutMs: number): Plugin {
  return {
    onExecute({ args, executeFn, setExecuteFn }) {
      if (getOperationAST(args.document, args.operationName)?.operation !== 'query') return;
      const execute = executeFn as Execute;
      setExecuteFn((async (callArgs: ExecutionArgs & { signal?: AbortSignal }) => {
        const deadline = new AbortController();
        let timer: NodeJS.Timeout | undefined;
        const expired = new Promise<ExecutionResult>((resolve) => {
          timer = setTimeout(() => {
            // Built only when it happens: a GraphQLError (its stack) per query was 1% of bench:nested.
            const timedOut = coded('QUERY_TIMEOUT', `This query ran longer than ${timeoutMs} ms and was stopped; ask for less`, { timeoutMs });
            // Resolvers not yet started are skipped; the answer goes out now.
            deadline.abort(timedOut);
            resolve({ data: null, errors: [timedOut] });
          }, timeoutMs);
        });
        const signal = callArgs.signal ? AbortSignal.any([callArgs.signal, deadline.signal]) : deadline.signal;
        try {
          const running = Promise.resolve(execute({ ...callArgs, signal }));
          running.catch(() => {}); // rejected with the abort once the deadline passed
          return await Promise.race([running, expired]);
        } finally {
          clearTimeout(timer);
        }
      }) as never);
    },
  };
}

/**
 * Whether the JSON text of `value` would be longer than `limit` characters (strings counted by
 * length, escapes aside). Walks without building the text and stops as soon as it is over.
 */
export function exceedsSize(value: unknown, limit: number): boolean {
  let size = 0;
  const stack: unknown[] = [value];
  while (stack.length > 0) {
    const item = stack.pop();
    if (item === null || item === undefined) size += 4;
    else if (typeof item === 'string') size += item.length + 2;
    else if (typeof item === 'number' || typeof item === 'boolean' || typeof item === 'bigint') size += 8;
    else if (item instanceof Date) size += 26;
    else if (Array.isArray(item)) {
      size += item.length + 1;
      for (const element of item) stack.push(element);
    } else if (typeof item === 'object') {
      const json = (item as { toJSON?: () => unknown }).toJSON;
      if (typeof json === 'function') {
        stack.push(json.call(item));
        continue;
      }
      for (const key in item) {
        size += key.length + 4;
        stack.push((item as Record<string, unknown>)[key]);
      }
    }
    if (size > limit) return true;
  }
  return false;
}

function responseSizePlugin(maxBytes: number): Plugin {
  return {
    onExecute() {
      return {
        onExecuteDone({ result, setResult }) {
          if (!result || typeof result !== 'object' || Symbol.asyncIterator in result) return;
          if (!exceedsSize((result as ExecutionResult).data, maxBytes)) return;
          setResult({
            data: null,
            errors: [coded('RESPONSE_TOO_LARGE', `The result is larger than ${maxBytes} bytes and was not sent; ask for less (fewer items, fields or aliases)`, { limit: maxBytes })],
          });
        },
      };
    },
  };
}

export function useOperationLimits(limits: OperationLimits): Plugin[] {
  return [operationCostPlugin(limits.maxCost), queryDeadlinePlugin(limits.queryTimeoutMs), responseSizePlugin(limits.maxResponseBytes)];
}
