import { createAnthropic } from '@ai-sdk/anthropic';
import { createOpenAICompatible } from '@ai-sdk/openai-compatible';
import type { LanguageModelV3 } from '@ai-sdk/provider';
import type { Config } from '../../config.js';
import { AppError } from '../../errors.js';

/**
 * Model providers, reached through the AI SDK's provider packages (never hand-written HTTP).
 * Agents name a model by handle `provider/model`; the provider part selects an entry here.
 */
export interface ProviderEntry {
  name: string;
  kind: 'openai-compatible' | 'anthropic';
  baseUrl?: string;
  apiKey?: string;
}

export interface ResolvedModel {
  handle: string;
  provider: string;
  modelName: string;
  endpointType: string;
  model: LanguageModelV3;
}

export interface ModelRegistry {
  readonly providers: readonly string[];
  resolve(handle: string): ResolvedModel;
  /** The same model on a provider instance that sends its HTTP requests through `fetch` (for dry runs). */
  withFetch(handle: string, fetch: typeof globalThis.fetch): ResolvedModel;
}

export function providerEntries(config: Pick<Config, 'OPENAI_API_KEY' | 'OPENAI_BASE_URL' | 'ANTHROPIC_API_KEY' | 'ANTHROPIC_BASE_URL' | 'LLM_PROVIDERS'>): ProviderEntry[] {
  const entries: ProviderEntry[] = [];
  if (config.OPENAI_API_KEY) entries.push({ name: 'openai', kind: 'openai-compatible', baseUrl: config.OPENAI_BASE_URL, apiKey: config.OPENAI_API_KEY });
  if (config.ANTHROPIC_API_KEY) entries.push({ name: 'anthropic', kind: 'anthropic', baseUrl: config.ANTHROPIC_BASE_URL, apiKey: config.ANTHROPIC_API_KEY });
  for (const entry of config.LLM_PROVIDERS) {
    const index = entries.findIndex((existing) => existing.name === entry.name);
    if (index >= 0) entries.splice(index, 1);
    entries.push(entry);
  }
  return entries;
}

export function createModelRegistry(entries: ProviderEntry[]): ModelRegistry {
  const factoryFor = (entry: ProviderEntry, fetch?: typeof globalThis.fetch): ((modelName: string) => LanguageModelV3) => {
    if (entry.kind === 'anthropic') {
      const anthropic = createAnthropic({ apiKey: entry.apiKey ?? '', ...(entry.baseUrl ? { baseURL: entry.baseUrl } : {}), ...(fetch ? { fetch } : {}) });
      return (modelName) => anthropic.languageModel(modelName) as LanguageModelV3;
    }
    const provider = createOpenAICompatible({ name: entry.name, baseURL: entry.baseUrl!, apiKey: entry.apiKey, includeUsage: true, ...(fetch ? { fetch } : {}) });
    return (modelName) => provider.chatModel(modelName) as LanguageModelV3;
  };
  const factories = new Map<string, (modelName: string) => LanguageModelV3>();
  for (const entry of entries) factories.set(entry.name, factoryFor(entry));
  const byName = new Map(entries.map((entry) => [entry.name, entry]));
  const kinds = new Map(entries.map((entry) => [entry.name, entry.kind]));
  const resolved = new Map<string, ResolvedModel>();
  return {
    providers: [...factories.keys()],
    resolve(handle) {
      const cached = resolved.get(handle);
      if (cached) return cached;
      const slash = handle.indexOf('/');
      const provider = handle.slice(0, slash);
      const modelName = handle.slice(slash + 1);
      const factory = slash > 0 ? factories.get(provider) : undefined;
      if (!factory || !modelName) {
        const known = [...factories.keys()].join(', ') || 'none (set OPENAI_API_KEY, ANTHROPIC_API_KEY or LLM_PROVIDERS)';
        throw new AppError('BAD_USER_INPUT', `The model '${handle}' names no configured provider; configured providers: ${known}`, { model: handle });
      }
      const model = { handle, provider, modelName, endpointType: kinds.get(provider) === 'anthropic' ? 'anthropic' : provider, model: factory(modelName) };
      resolved.set(handle, model);
      return model;
    },
    withFetch(handle, fetch) {
      const model = this.resolve(handle);
      return { ...model, model: factoryFor(byName.get(model.provider)!, fetch)(model.modelName) };
    },
  };
}
