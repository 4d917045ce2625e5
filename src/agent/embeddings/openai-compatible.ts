import { createOpenAICompatible } from '@ai-sdk/openai-compatible';
import { embedMany } from 'ai';
import type { Embedder } from './types.js';
import { normalize } from './types.js';

/** Letta's EmbeddingConfig.batch_size. */
export const EMBEDDING_BATCH_SIZE = 32;

export class EmbeddingError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'EmbeddingError';
  }
}

/** Any OpenAI-compatible `/embeddings` endpoint, through the AI SDK (the same package as the chat models). */
export function createOpenAICompatibleEmbedder(options: {
  handle: string;
  providerName: string;
  baseUrl: string;
  apiKey?: string;
  modelName: string;
}): Embedder {
  const provider = createOpenAICompatible({ name: options.providerName, baseURL: options.baseUrl, apiKey: options.apiKey });
  const model = provider.embeddingModel(options.modelName);
  return {
    handle: options.handle,
    dimensions: null,
    async embed(texts, signal) {
      const vectors: number[][] = [];
      for (let start = 0; start < texts.length; start += EMBEDDING_BATCH_SIZE) {
        const values = texts.slice(start, start + EMBEDDING_BATCH_SIZE);
        try {
          const { embeddings } = await embedMany({ model, values, maxRetries: 1, abortSignal: signal });
          vectors.push(...embeddings.map(normalize));
        } catch (error) {
          const detail = error instanceof Error ? error.message : String(error);
          throw new EmbeddingError(`Embedding with '${options.handle}' failed: ${detail.slice(0, 500)}`, { cause: error });
        }
      }
      return vectors;
    },
  };
}
