import { createAzure } from '@ai-sdk/azure';
import { createGoogleGenerativeAI } from '@ai-sdk/google';
import { createOpenAI } from '@ai-sdk/openai';
import { createOpenAICompatible } from '@ai-sdk/openai-compatible';
import type { EmbeddingModelV3 } from '@ai-sdk/provider';
import { embedMany } from 'ai';
import { createOllama } from 'ollama-ai-provider-v2';
import type { ProviderEntry } from '../../config-providers.js';
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

/** Ollama's native API lives beside its OpenAI-compatible `/v1`: http://host:11434/api. */
export function ollamaApiUrl(baseUrl: string): string {
  return baseUrl.replace(/\/+$/, '').replace(/\/v1$/, '') + '/api';
}

/**
 * The embedding model of a provider entry, through its AI SDK package: OpenAI and Azure
 * (/embeddings), Google (batchEmbedContents), Ollama (its native /api/embed), any other
 * OpenAI-compatible server (/embeddings). Anthropic and Bedrock serve none here.
 */
export function embeddingModelFor(entry: ProviderEntry, modelName: string): EmbeddingModelV3 | undefined {
  switch (entry.kind) {
    case 'openai':
      return createOpenAI({ apiKey: entry.apiKey ?? '', baseURL: entry.baseUrl, name: entry.name }).embedding(modelName);
    case 'azure':
      return createAzure({ apiKey: entry.apiKey ?? '', ...(entry.baseUrl ? { baseURL: entry.baseUrl } : { resourceName: entry.resourceName }), ...(entry.apiVersion ? { apiVersion: entry.apiVersion } : {}) }).embedding(modelName);
    case 'google_ai':
      return createGoogleGenerativeAI({ apiKey: entry.apiKey ?? '', baseURL: entry.baseUrl }).embeddingModel(modelName);
    case 'ollama':
      return createOllama({ baseURL: ollamaApiUrl(entry.baseUrl!), ...(entry.apiKey ? { headers: { authorization: `Bearer ${entry.apiKey}` } } : {}) }).embedding(modelName);
    case 'anthropic':
    case 'bedrock':
      return undefined;
    default:
      return entry.baseUrl ? createOpenAICompatible({ name: entry.name, baseURL: entry.baseUrl, apiKey: entry.apiKey }).embeddingModel(modelName) : undefined;
  }
}

/** An embedder over an SDK embedding model, in batches of EMBEDDING_BATCH_SIZE; `dimensions` only when configured (a guess would index the wrong length). */
export function createSdkEmbedder(handle: string, model: EmbeddingModelV3, dimensions: number | null = null): Embedder {
  return {
    handle,
    dimensions,
    async embed(texts, signal) {
      const vectors: number[][] = [];
      for (let start = 0; start < texts.length; start += EMBEDDING_BATCH_SIZE) {
        const values = texts.slice(start, start + EMBEDDING_BATCH_SIZE);
        try {
          const { embeddings } = await embedMany({ model, values, maxRetries: 1, abortSignal: signal });
          vectors.push(...embeddings.map(normalize));
        } catch (error) {
          const detail = error instanceof Error ? error.message : String(error);
          throw new EmbeddingError(`Embedding with '${handle}' failed: ${detail.slice(0, 500)}`, { cause: error });
        }
      }
      return vectors;
    },
  };
}
