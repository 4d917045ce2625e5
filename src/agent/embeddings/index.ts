import type { ProviderEntry } from '../llm/providers.js';
import { AppError } from '../../errors.js';
import { LOCAL_DEFAULT_DIMENSIONS, LOCAL_MODEL_PREFIX, LOCAL_PROVIDER, createLocalEmbedder, localDimensions } from './local.js';
import { createOpenAICompatibleEmbedder } from './openai-compatible.js';
import type { Embedder, EmbedderRegistry } from './types.js';

export type { Embedder, EmbedderRegistry } from './types.js';
export { EmbeddingError } from './openai-compatible.js';

export const DEFAULT_EMBEDDING_HANDLE = `${LOCAL_PROVIDER}/${LOCAL_MODEL_PREFIX}`;
export { LOCAL_DEFAULT_DIMENSIONS };

/**
 * Embedding handles are 'provider/model' like model handles: `local/hashed-ngram[-<dims>]` is the
 * built-in embedder; any OpenAI-compatible provider configured for models (OPENAI_API_KEY,
 * LLM_PROVIDERS) also serves embeddings under its name.
 */
export function createEmbedderRegistry(entries: readonly ProviderEntry[], defaultHandle: string = DEFAULT_EMBEDDING_HANDLE): EmbedderRegistry {
  const remote = new Map(entries.filter((entry) => entry.kind === 'openai-compatible' && entry.baseUrl).map((entry) => [entry.name, entry]));
  const cache = new Map<string, Embedder>();
  const registry: EmbedderRegistry = {
    defaultHandle,
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
        if (dimensions) embedder = createLocalEmbedder(handle, dimensions);
      } else {
        const entry = remote.get(provider);
        if (entry && modelName) {
          embedder = createOpenAICompatibleEmbedder({ handle, providerName: entry.name, baseUrl: entry.baseUrl!, apiKey: entry.apiKey, modelName });
        }
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
