import DataLoader from 'dataloader';

const loaders = new WeakMap<object, Map<string, DataLoader<string, unknown>>>();

/**
 * A dataloader for one request and one `key` (a field with its arguments and selection): the
 * list field of every parent in a response loads in one go instead of one query per parent.
 */
export function loaderFor<V>(ctx: object, key: string, load: (ids: readonly string[]) => Promise<V[]>): DataLoader<string, V> {
  let byKey = loaders.get(ctx);
  if (!byKey) loaders.set(ctx, (byKey = new Map()));
  let loader = byKey.get(key);
  if (!loader) byKey.set(key, (loader = new DataLoader<string, unknown>(load)));
  return loader as DataLoader<string, V>;
}
