import type { CatalogEmbeddingModel, CatalogModel } from '../../agent/llm/catalog.js';
import { DEFAULT_EMBEDDING_HANDLE, LOCAL_DEFAULT_DIMENSIONS } from '../../agent/embeddings/index.js';
import type { ServiceContext } from '../platform/context.js';

/**
 * The model catalogue of the server's configured providers (the same for every organization:
 * providers are server configuration). A provider whose own list cannot be had contributes its
 * configured models, and says why in `modelProviders`.
 */

export type ModelCapability = 'tools' | 'reasoning' | 'vision';

export interface ModelFilter {
  provider?: string | null;
  supports?: ModelCapability[] | null;
}

export async function listModels(ctx: ServiceContext, filter: ModelFilter = {}): Promise<CatalogModel[]> {
  const listings = await ctx.runtime.catalog.list();
  return listings
    .filter((listing) => !filter.provider || listing.provider === filter.provider)
    .flatMap((listing) => listing.models)
    .filter((model) => (filter.supports ?? []).every((capability) => model[capability]));
}

/** The built-in embedder first (it needs no provider), then each provider's embedding models. */
export async function listEmbeddingModels(ctx: ServiceContext, filter: Pick<ModelFilter, 'provider'> = {}): Promise<Array<CatalogEmbeddingModel | LocalEmbeddingModel>> {
  const local: LocalEmbeddingModel = { handle: DEFAULT_EMBEDDING_HANDLE, provider: 'local', kind: 'local', name: DEFAULT_EMBEDDING_HANDLE.split('/')[1]!, dimensions: LOCAL_DEFAULT_DIMENSIONS, source: 'built-in' };
  const listings = await ctx.runtime.catalog.list();
  const remote = listings.filter((listing) => ctx.runtime.embeddings.serves(listing.provider)).flatMap((listing) => listing.embeddingModels);
  return [local, ...remote].filter((model) => !filter.provider || model.provider === filter.provider);
}

export interface LocalEmbeddingModel extends Omit<CatalogEmbeddingModel, 'kind' | 'source'> {
  kind: 'local';
  source: 'built-in';
}

export async function listModelProviders(ctx: ServiceContext) {
  const listings = await ctx.runtime.catalog.list();
  return listings.map((listing) => ({ name: listing.provider, kind: listing.kind, modelListError: listing.error, modelCount: listing.models.length, embeddingModelCount: listing.embeddingModels.length }));
}
