import { z } from 'zod';
import { getNamedType, isListType, isNonNullType, type GraphQLField, type GraphQLOutputType } from 'graphql';
import type { FieldComplexityValue } from '@pothos/plugin-complexity';
import { DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE } from '../services/platform/pagination.js';

/**
 * What an operation costs, before it runs (see transports/operation-limits.ts, which refuses an
 * operation over MAX_QUERY_COST). Every field costs 1; what a list selects is counted once per item
 * it may return:
 *   - a connection (`first`/`last`, else the default page) multiplies its selection by the page size,
 *     and its `edges`/`nodes` then count once;
 *   - a plain list with a `first` argument (every nested list of records has one) by `first`;
 *   - `nodes(ids:)` and other lists with `ids` by the number of ids;
 *   - any other list (small lists inside one record: tool calls, returns…) by LIST_MULTIPLIER.
 * Fields that do much more work than a lookup set their own cost with the `complexity` option.
 */

/** Items of a nested list of records when the query does not say (its `first` default). */
export const NESTED_LIST_DEFAULT = 100;
/** A list inside one record (tool calls of a message, …) counts as this many items. */
export const LIST_MULTIPLIER = 10;

const unwrap = (type: GraphQLOutputType): GraphQLOutputType => (isNonNullType(type) ? type.ofType : type);

const count = (value: unknown, fallback: number) =>
  typeof value === 'number' && Number.isFinite(value) ? Math.min(Math.max(0, Math.floor(value)), MAX_PAGE_SIZE) : fallback;

export function fieldCost<Context>(args: Record<string, unknown>, _ctx: Context, field: GraphQLField<unknown, Context>): FieldComplexityValue {
  const type = unwrap(field.type);
  if (getNamedType(type).name.endsWith('Connection') && ('first' in args || 'last' in args)) {
    return { field: 1, multiplier: count(args.first ?? args.last, DEFAULT_PAGE_SIZE) };
  }
  if (!isListType(type)) return 1;
  if (field.args.length === 0 && (field.name === 'edges' || field.name === 'nodes')) return { field: 1, multiplier: 1 };
  if (Array.isArray(args.ids)) return { field: 1, multiplier: args.ids.length };
  if ('first' in args) return { field: 1, multiplier: count(args.first, NESTED_LIST_DEFAULT) };
  return { field: 1, multiplier: LIST_MULTIPLIER };
}

/** The `first` argument of a nested list of records (Agent.blocks, Block.agents, …). */
export const firstArgOptions = (items: string) => ({
  required: false as const,
  defaultValue: NESTED_LIST_DEFAULT,
  description: `At most this many ${items} (0 to ${MAX_PAGE_SIZE}); also what the list counts for in the operation's cost.`,
});

/** The number of items a nested list takes (`first`, or its default when null). */
export const takeOf = (first: number | null | undefined): number => count(first, NESTED_LIST_DEFAULT);

/** Validation of a nested list's `first`. */
export const nestedFirst = z.number().int().min(0).max(MAX_PAGE_SIZE).nullish();

/**
 * Costs of fields that do far more than a lookup, in lookups: an agent file carries the whole
 * agent (history included); a context-window overview counts the tokens of the whole context; a
 * search embeds its query and ranks.
 */
export const HEAVY_FIELD_COST = {
  exportAgent: 5_000,
  contextWindow: 500,
  search: 100,
} as const;
