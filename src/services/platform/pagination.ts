import { z } from 'zod';
import { Prisma } from '../../generated/prisma/client.js';
import type { Db } from './scope.js';
import { AppError, badInput } from '../../errors.js';

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
  /** Rows of the whole list (across pages), counted only when a client asks. */
  totalCount: () => Promise<number>;
}

/** A cursor whose row no longer exists: the list cannot continue from it (it never restarts silently). */
export const cursorGone = (name: 'after' | 'before', cursor: string) =>
  new AppError('NOT_FOUND', `${name}: cursor ${cursor.slice(0, 80)} names no row of this list (deleted?); page again without it`, { path: name });

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
 * the row is gone: NOT_FOUND, see cursorGone); `find` runs the query built here and `count`
 * counts the filter's rows.
 */
export async function paginate<T>(
  args: PageArgs,
  key: SortKey,
  filter: Where,
  loadCursor: (id: string) => Promise<Cursor | undefined>,
  find: (query: KeysetQuery) => Promise<T[]>,
  count: (where: Where) => Promise<number>,
): Promise<Page<T>> {
  checkPageArgs(args);
  const backward = args.last != null;
  const limit = backward ? args.last! : (args.first ?? DEFAULT_PAGE_SIZE);
  const conditions: Where[] = [filter];
  const load = async (name: 'after' | 'before') => {
    const id = args[name];
    if (!id) return undefined;
    const cursor = await loadCursor(id);
    if (!cursor) throw cursorGone(name, id);
    return cursor;
  };
  const after = await load('after');
  const before = await load('before');
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
    totalCount: () => count(filter),
  };
}

/** A table's list of rows per parent, for firstRowsPerParent. */
export interface PerParentList {
  table: 'FileAgent' | 'File' | 'FolderAgent';
  parent: 'agentId' | 'folderId';
  /** The row's id column (FolderAgent has none: its agentId). */
  id: 'id' | 'agentId';
  /** Sort column; ties break by the id column. */
  orderBy: 'fileName' | 'createdAt';
  /** Extra SQL condition on the table's rows. */
  filter?: Prisma.Sql;
}

/**
 * The first `limit` rows of every parent in one statement (a window per parent), so that a
 * nested list under many parents costs the same as under one. Rows come as (parent, id) in each
 * parent's order.
 */
export async function firstRowsPerParent(db: Db, list: PerParentList, parentIds: readonly string[], limit: number): Promise<Array<{ parent: string; id: string }>> {
  if (parentIds.length === 0 || limit === 0) return [];
  const id = Prisma.raw(`"${list.id}"`);
  const parent = Prisma.raw(`"${list.parent}"`);
  const order = Prisma.raw(`"${list.orderBy}"`);
  return db.$queryRaw<Array<{ parent: string; id: string }>>`
    SELECT parent, id FROM (
      SELECT ${parent} AS parent, ${id} AS id, row_number() OVER (PARTITION BY ${parent} ORDER BY ${order}, ${id}) AS n
      FROM ${Prisma.raw(`"${list.table}"`)}
      WHERE ${parent} IN (${Prisma.join(parentIds)}) ${list.filter ? Prisma.sql`AND ${list.filter}` : Prisma.empty}
    ) ranked
    WHERE n <= ${limit}
    ORDER BY parent, n`;
}

/** First pages of several parents from their rows (in order, at most limit + 1 each); `count` counts one parent's rows. */
export function firstPages<T>(parentIds: readonly string[], rows: T[], parentOf: (row: T) => string, limit: number, count: (parentId: string) => Promise<number>): Array<Page<T>> {
  const byParent = new Map<string, T[]>(parentIds.map((id) => [id, []]));
  for (const row of rows) byParent.get(parentOf(row))?.push(row);
  return parentIds.map((id) => {
    const list = byParent.get(id)!;
    return { nodes: list.slice(0, limit), hasNextPage: list.length > limit, hasPreviousPage: false, totalCount: () => count(id) };
  });
}

/** A Prisma query shape that also loads `field` (a `select` shape lists only what the client asked for). */
export function selecting<S extends { select?: unknown }>(shape: S, field: string): S {
  return shape.select ? { ...shape, select: { ...(shape.select as Record<string, unknown>), [field]: true } } : shape;
}
