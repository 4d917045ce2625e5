import { z } from 'zod';
import { badInput } from './errors.js';

/**
 * Keyset pagination with Letta's semantics: cursors are row ids, relative to the sort order
 * (with a descending sort, `after` the newest yields older rows). Rows sort by (field, id); for
 * a nullable field, nulls come last in either direction, as Letta orders last_run_completion.
 */
export type SortDirection = 'asc' | 'desc';

export interface PageArgs {
  first?: number | null;
  after?: string | null;
  last?: number | null;
  before?: string | null;
}

export interface Page<T> {
  nodes: T[];
  hasNextPage: boolean;
  hasPreviousPage: boolean;
}

export interface SortKey {
  field: string;
  nullable: boolean;
  direction: SortDirection;
}

export const DEFAULT_PAGE_SIZE = 50;
export const MAX_PAGE_SIZE = 500;

const pageSize = z.number().int().min(0).max(MAX_PAGE_SIZE);

export function checkPageArgs(args: PageArgs): void {
  for (const key of ['first', 'last'] as const) {
    const value = args[key];
    if (value != null && !pageSize.safeParse(value).success) {
      throw badInput(key, `must be an integer from 0 to ${MAX_PAGE_SIZE}`);
    }
  }
  if (args.first != null && args.last != null) throw badInput('last', 'cannot be combined with first');
}

type Where = Record<string, unknown>;
type Cursor = { id: string; value: unknown };

const flip = (direction: SortDirection): SortDirection => (direction === 'asc' ? 'desc' : 'asc');

/** The rows that come after `cursor` when walking in `direction` (nulls last when walking forward). */
function beyond(key: SortKey, cursor: Cursor, walkForward: boolean): Where {
  const direction = walkForward ? key.direction : flip(key.direction);
  const op = direction === 'asc' ? 'gt' : 'lt';
  const { field } = key;
  if (cursor.value === null || cursor.value === undefined) {
    const tiedNulls = { [field]: null, id: { [op]: cursor.id } };
    return walkForward ? tiedNulls : { OR: [{ [field]: { not: null } }, tiedNulls] };
  }
  const clauses: Where[] = [{ [field]: { [op]: cursor.value } }, { [field]: cursor.value, id: { [op]: cursor.id } }];
  if (key.nullable && walkForward) clauses.push({ [field]: null });
  return { OR: clauses };
}

function orderBy(key: SortKey, walkForward: boolean): Where[] {
  const sort = walkForward ? key.direction : flip(key.direction);
  const fieldOrder = key.nullable ? { sort, nulls: walkForward ? 'last' : 'first' } : sort;
  return [{ [key.field]: fieldOrder }, { id: sort }];
}

export interface KeysetQuery {
  where: Where;
  orderBy: Where[];
  take: number;
}

/**
 * Runs keyset pagination. `loadCursor` returns the sort value of a cursor row (undefined when
 * the row is gone: the cursor is then ignored); `find` runs the query built here.
 */
export async function paginate<T>(
  args: PageArgs,
  key: SortKey,
  filter: Where,
  loadCursor: (id: string) => Promise<Cursor | undefined>,
  find: (query: KeysetQuery) => Promise<T[]>,
): Promise<Page<T>> {
  checkPageArgs(args);
  const backward = args.last != null;
  const limit = backward ? args.last! : (args.first ?? DEFAULT_PAGE_SIZE);
  const conditions: Where[] = [filter];
  const after = args.after ? await loadCursor(args.after) : undefined;
  const before = args.before ? await loadCursor(args.before) : undefined;
  if (after) conditions.push(beyond(key, after, true));
  if (before) conditions.push(beyond(key, before, false));

  const rows = await find({ where: { AND: conditions }, orderBy: orderBy(key, !backward), take: limit + 1 });
  const more = rows.length > limit;
  const nodes = rows.slice(0, limit);
  if (backward) nodes.reverse();
  return {
    nodes,
    hasNextPage: backward ? Boolean(before) : more,
    hasPreviousPage: backward ? more : Boolean(after),
  };
}
