import { queryFromInfo } from '@pothos/plugin-prisma';
import type { GraphQLResolveInfo } from 'graphql';
import { loaderFor } from './batch.js';
import { pace } from './pacing.js';

type Shape = { select?: never; include?: never };

/**
 * A nested list of records (Block.agents) of one parent: every parent of a level loads in one
 * statement per batch (a dataloader per field, page size and selection, so a parent met again
 * deeper in the answer, e.g. a shared block, is not loaded twice), rather than inside its
 * parent's statement, where Pothos loaded the deeper levels of a query such as
 * agents → blocks → agents → blocks → agents with per-parent lookups compiled and mapped in one
 * go; then paced (pacing.ts) before graphql completes it.
 */
export async function nestedList<T>(
  ctx: object,
  info: GraphQLResolveInfo,
  parentId: string,
  take: number,
  load: (parentIds: readonly string[], take: number, shape: Shape) => Promise<T[][]>,
): Promise<T[]> {
  const shape = queryFromInfo({ context: ctx, info }) as Shape;
  const key = `${info.parentType.name}.${info.fieldName} ${JSON.stringify([take, shape])}`;
  const list = await loaderFor(ctx, key, (ids) => load(ids, take, shape)).load(parentId);
  await pace();
  return list;
}
