import type { ConfiguredModel, ProviderEntry, ProviderKind } from '../../config-providers.js';
import { usesChatCompletions } from './adapters.js';
import { knownEmbeddingDimensions, knownModelFacts, looksLikeEmbeddingModel } from './known-models.js';

/**
 * The model catalogue (Letta's /v1/models and /v1/models/embedding): each configured provider's
 * models with context window and capabilities. The provider's own list is asked where its API
 * has one (OpenAI, Azure and every OpenAI-compatible server: GET /models; Anthropic: GET
 * /v1/models; Gemini: GET /v1beta/models with token limits); configured `models` are added and
 * win; windows and capabilities the list does not give come from the known model families.
 * A provider that cannot be asked (Bedrock's list is another AWS service), or that fails to
 * answer, contributes its configured models only. Lists are cached per provider.
 */

export type ModelSource = 'provider' | 'configuration';

export interface CatalogModel {
  handle: string;
  provider: string;
  kind: ProviderKind;
  name: string;
  displayName: string | null;
  contextWindow: number | null;
  maxOutputTokens: number | null;
  tools: boolean;
  reasoning: boolean;
  vision: boolean;
  source: ModelSource;
}

export interface CatalogEmbeddingModel {
  handle: string;
  provider: string;
  kind: ProviderKind;
  name: string;
  dimensions: number | null;
  source: ModelSource;
}

export interface ProviderListing {
  provider: string;
  kind: ProviderKind;
  models: CatalogModel[];
  embeddingModels: CatalogEmbeddingModel[];
  /** Why the provider's own list could not be used (null when it was, or when it has none). */
  error: string | null;
}

interface ListedModel {
  name: string;
  displayName?: string;
  contextWindow?: number;
  maxOutputTokens?: number;
  embedding?: boolean;
}

/** At most this many models are taken from one provider's list. */
export const MAX_LISTED_MODELS = 2000;
const MAX_LIST_BYTES = 4 * 1024 * 1024;
const CACHE_MS = 5 * 60_000;

type Fetch = typeof globalThis.fetch;

async function getJson(fetch: Fetch, url: string, headers: Record<string, string>, timeoutMs: number): Promise<unknown> {
  const response = await fetch(url, { headers, signal: AbortSignal.timeout(timeoutMs) });
  if (!response.ok) throw new Error(`GET ${new URL(url).pathname} answered HTTP ${response.status}`);
  const text = await response.text();
  if (text.length > MAX_LIST_BYTES) throw new Error(`the model list is larger than ${MAX_LIST_BYTES} bytes`);
  return JSON.parse(text) as unknown;
}

const trimSlash = (url: string) => url.replace(/\/+$/, '');

/** The provider's own list, or undefined when its API has none we can ask. */
async function askProvider(entry: ProviderEntry, fetch: Fetch, timeoutMs: number): Promise<ListedModel[] | undefined> {
  const base = entry.baseUrl ? trimSlash(entry.baseUrl) : undefined;
  if (entry.kind === 'anthropic') {
    const body = (await getJson(fetch, `${base}/models?limit=1000`, { 'x-api-key': entry.apiKey ?? '', 'anthropic-version': '2023-06-01' }, timeoutMs)) as { data?: Array<{ id: string; display_name?: string }> };
    return (body.data ?? []).map((model) => ({ name: model.id, displayName: model.display_name }));
  }
  if (entry.kind === 'google_ai') {
    const body = (await getJson(fetch, `${base}/models?pageSize=1000`, { 'x-goog-api-key': entry.apiKey ?? '' }, timeoutMs)) as {
      models?: Array<{ name: string; displayName?: string; inputTokenLimit?: number; outputTokenLimit?: number; supportedGenerationMethods?: string[] }>;
    };
    return (body.models ?? []).map((model) => ({
      name: model.name.replace(/^models\//, ''),
      displayName: model.displayName,
      contextWindow: model.inputTokenLimit,
      maxOutputTokens: model.outputTokenLimit,
      embedding: (model.supportedGenerationMethods ?? []).some((method) => /embed/i.test(method)) && !(model.supportedGenerationMethods ?? []).includes('generateContent'),
    }));
  }
  if (entry.kind === 'openai' || entry.kind === 'azure' || usesChatCompletions(entry.kind)) {
    if (!base) return undefined;
    const headers: Record<string, string> = entry.kind === 'azure' ? { 'api-key': entry.apiKey ?? '' } : entry.apiKey ? { authorization: `Bearer ${entry.apiKey}` } : {};
    const body = (await getJson(fetch, `${base}/models`, headers, timeoutMs)) as { data?: Array<{ id: string }> };
    return (body.data ?? []).map((model) => ({ name: model.id }));
  }
  return undefined;
}

function modelOf(entry: ProviderEntry, listed: ListedModel | undefined, configured: ConfiguredModel | undefined, name: string): CatalogModel {
  const known = knownModelFacts(name);
  return {
    handle: `${entry.name}/${name}`,
    provider: entry.name,
    kind: entry.kind,
    name,
    displayName: listed?.displayName ?? null,
    contextWindow: configured?.contextWindow ?? listed?.contextWindow ?? known?.contextWindow ?? null,
    maxOutputTokens: configured?.maxOutputTokens ?? listed?.maxOutputTokens ?? known?.maxOutputTokens ?? null,
    tools: configured?.tools ?? known?.tools ?? true,
    reasoning: configured?.reasoning ?? known?.reasoning ?? false,
    vision: configured?.vision ?? known?.vision ?? false,
    source: configured ? 'configuration' : 'provider',
  };
}

export function listingOf(entry: ProviderEntry, listed: ListedModel[] | undefined, error: string | null): ProviderListing {
  const configured = new Map(entry.models.map((model) => [model.name, model]));
  const names = [...new Set([...(listed ?? []).slice(0, MAX_LISTED_MODELS).map((model) => model.name), ...configured.keys()])];
  const byName = new Map((listed ?? []).map((model) => [model.name, model]));
  const models: CatalogModel[] = [];
  const embeddingModels: CatalogEmbeddingModel[] = [];
  for (const name of names) {
    const fromList = byName.get(name);
    const config = configured.get(name);
    const embedding = config?.embedding ?? fromList?.embedding ?? looksLikeEmbeddingModel(name);
    if (embedding) {
      embeddingModels.push({ handle: `${entry.name}/${name}`, provider: entry.name, kind: entry.kind, name, dimensions: config?.dimensions ?? knownEmbeddingDimensions(name) ?? null, source: config ? 'configuration' : 'provider' });
    } else {
      models.push(modelOf(entry, fromList, config, name));
    }
  }
  return { provider: entry.name, kind: entry.kind, models, embeddingModels, error };
}

export interface ModelCatalog {
  /** Every configured provider's listing, in configuration order. */
  list(): Promise<ProviderListing[]>;
}

export function createModelCatalog(entries: readonly ProviderEntry[], options: { timeoutMs: number; fetch?: Fetch; now?: () => number }): ModelCatalog {
  const fetch = options.fetch ?? globalThis.fetch;
  const now = options.now ?? Date.now;
  const cache = new Map<string, { at: number; listing: Promise<ProviderListing> }>();
  const listOne = async (entry: ProviderEntry): Promise<ProviderListing> => {
    try {
      return listingOf(entry, await askProvider(entry, fetch, options.timeoutMs), null);
    } catch (error) {
      const message = error instanceof Error ? (error.name === 'TimeoutError' ? `no answer within PROVIDER_QUERY_TIMEOUT_MS=${options.timeoutMs}` : error.message) : String(error);
      return listingOf(entry, undefined, `the provider's model list is unavailable: ${message.slice(0, 300)}`);
    }
  };
  return {
    list() {
      return Promise.all(
        entries.map((entry) => {
          const cached = cache.get(entry.name);
          if (cached && now() - cached.at < CACHE_MS) return cached.listing;
          const listing = listOne(entry);
          cache.set(entry.name, { at: now(), listing });
          // A failed listing is asked again on the next call rather than cached for minutes.
          void listing.then((result) => result.error && cache.delete(entry.name));
          return listing;
        }),
      );
    },
  };
}
