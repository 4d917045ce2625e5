import type { ProviderEntry } from '../../config-providers.js';
import { AppError } from '../../errors.js';
import { LOCAL_DEFAULT_DIMENSIONS, LOCAL_MODEL_PREFIX, LOCAL_PROVIDER, createLocalEmbedder, localDimensions, type LocalBatchEmbedder } from './local.js';
import { createSdkEmbedder, embeddingModelFor } from './sdk.js';
import type { Embedder, EmbedderRegistry } from './types.js';

export type { Embedder, EmbedderRegistry } from './types.js';
export { EmbeddingError } from './sdk.js';

export const DEFAULT_EMBEDDING_HANDLE = `${LOCAL_PROVIDER}/${LOCAL_MODEL_PREFIX}`;
export { LOCAL_DEFAULT_DIMENSIONS };

/**
 * Embedding handles are 'provider/model' like model handles: `local/hashed-ngram[-<dims>]` is the
 * built-in embedder; every configured provider that has embeddings (OpenAI, Azure, Google, Ollama
 * and the other OpenAI-compatible servers; not Anthropic or Bedrock) serves them under its name,
 * through its own AI SDK package.
 */
export function createEmbedderRegistry(
  entries: readonly ProviderEntry[],
  defaultHandle: string = DEFAULT_EMBEDDING_HANDLE,
  options: { localOffThread?: LocalBatchEmbedder } = {},
): EmbedderRegistry {
  const remote = new Map(entries.filter((entry) => embeddingModelFor(entry, 'probe')).map((entry) => [entry.name, entry]));
  const cache = new Map<string, Embedder>();
  const registry: EmbedderRegistry = {
    defaultHandle,
    serves: (provider) => remote.has(provider),
    resolve(raw) {
      const handle = raw?.trim() || defaultHandle;
      const cached = cache.get(handle);
      if (cached) return cached;
      const slash = handle.indexOf('/');
      const provider = slash > 0 ? handle.slice(0, slash) : '';
      const modelName = slash > 0 ? handle.slice(slash + 1) : '';
      let embedder: Embedder | undefined;
      if (provider === LOCAL_PROVIDER) {
        const dimensions = localDimensions(modelName);
        if (dimensions) embedder = createLocalEmbedder(handle, dimensions, options.localOffThread);
      } else {
        const entry = remote.get(provider);
        const model = entry && modelName ? embeddingModelFor(entry, modelName) : undefined;
        if (model) embedder = createSdkEmbedder(handle, model, entry!.models.find((configured) => configured.name === modelName)?.dimensions ?? null);
      }
      if (!embedder) {
        const known = [`${DEFAULT_EMBEDDING_HANDLE}[-<dims>]`, ...[...remote.keys()].map((name) => `${name}/<model>`)].join(', ');
        throw new AppError('BAD_USER_INPUT', `The embedding '${handle}' names no configured provider; available: ${known}`, { embedding: handle });
      }
      cache.set(handle, embedder);
      return embedder;
    },
  };
  return registry;
}
