import DataLoader from 'dataloader';

/**
 * Keys per load: a level of a large nested answer (thousands of parents) loads in statements of
 * this many parents, each compiled, answered and mapped on its own turn of the event loop.
 */
const MAX_BATCH_SIZE = 256;

const loaders = new WeakMap<object, Map<string, DataLoader<string, unknown>>>();

/**
 * A dataloader for one request and one `key` (a field with its arguments and selection): the
 * list field of every parent in a response loads in one go instead of one query per parent.
 */
export function loaderFor<V>(ctx: object, key: string, load: (ids: readonly string[]) => Promise<V[]>): DataLoader<string, V> {
  let byKey = loaders.get(ctx);
  if (!byKey) loaders.set(ctx, (byKey = new Map()));
  let loader = byKey.get(key);
  if (!loader) byKey.set(key, (loader = new DataLoader<string, unknown>(load, { maxBatchSize: MAX_BATCH_SIZE })));
  return loader as DataLoader<string, V>;
}
