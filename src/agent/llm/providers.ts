import type { LanguageModelV3, LanguageModelV3CallOptions } from '@ai-sdk/provider';
import type { Config } from '../../config.js';
import { providerEntry, type ProviderEntry, type ProviderKind } from '../../config-providers.js';
import { AppError } from '../../errors.js';
import { callOptionsFor, createLanguageModel, type ModelCall } from './adapters.js';
import { knownModelFacts } from './known-models.js';

/**
 * Model providers, reached through the AI SDK's provider packages (never hand-written HTTP).
 * Agents name a model by handle `provider/model`; the provider part selects an entry here.
 */
export type { ProviderEntry, ProviderKind } from '../../config-providers.js';

export interface ResolvedModel {
  handle: string;
  provider: string;
  modelName: string;
  kind: ProviderKind;
  /** Letta's model_endpoint_type of this provider (openai, anthropic, google_ai, ...). */
  endpointType: string;
  model: LanguageModelV3;
  /** The SDK call options of a step: the prompt with cache breakpoints, tools, provider options. */
  callOptions(call: ModelCall): LanguageModelV3CallOptions;
}

export interface ModelRegistry {
  readonly providers: readonly string[];
  readonly entries: readonly ProviderEntry[];
  resolve(handle: string): ResolvedModel;
  /** The same model on a provider instance that sends its HTTP requests through `fetch` (for dry runs). */
  withFetch(handle: string, fetch: typeof globalThis.fetch): ResolvedModel;
  /** The kind of a configured provider. */
  kindOf(provider: string): ProviderKind | undefined;
  /** The configuration of a provider. */
  entryOf(provider: string): ProviderEntry | undefined;
  /** The model's context window: configuration, then the known families; undefined when unknown. */
  contextWindowOf(handle: string | null | undefined): number | undefined;
}

type ProviderConfig = Pick<Config, 'OPENAI_API_KEY' | 'OPENAI_BASE_URL' | 'ANTHROPIC_API_KEY' | 'ANTHROPIC_BASE_URL' | 'GEMINI_API_KEY' | 'LLM_PROVIDERS'>;

/** The configured providers: the key shortcuts first, then LLM_PROVIDERS (which wins on a name clash). */
export function providerEntries(config: ProviderConfig): ProviderEntry[] {
  const entries: ProviderEntry[] = [];
  if (config.OPENAI_API_KEY) entries.push(providerEntry({ kind: 'openai', baseUrl: config.OPENAI_BASE_URL, apiKey: config.OPENAI_API_KEY }));
  if (config.ANTHROPIC_API_KEY) entries.push(providerEntry({ kind: 'anthropic', baseUrl: config.ANTHROPIC_BASE_URL, apiKey: config.ANTHROPIC_API_KEY }));
  if (config.GEMINI_API_KEY) entries.push(providerEntry({ kind: 'google_ai', apiKey: config.GEMINI_API_KEY }));
  for (const entry of config.LLM_PROVIDERS) {
    const index = entries.findIndex((existing) => existing.name === entry.name);
    if (index >= 0) entries.splice(index, 1);
    entries.push(entry);
  }
  return entries;
}

/** Letta's model_endpoint_type for a kind. */
export function endpointTypeOf(kind: ProviderKind): string {
  return kind === 'openai-compatible' ? 'openai' : kind;
}

/** Splits a handle at its first slash: `provider/model` (the model part may contain slashes). */
export function splitHandle(handle: string): { provider: string; modelName: string } | undefined {
  const slash = handle.indexOf('/');
  if (slash <= 0 || slash === handle.length - 1) return undefined;
  return { provider: handle.slice(0, slash), modelName: handle.slice(slash + 1) };
}

export function createModelRegistry(entries: ProviderEntry[]): ModelRegistry {
  const byName = new Map(entries.map((entry) => [entry.name, entry]));
  const resolved = new Map<string, ResolvedModel>();
  const build = (handle: string, fetch?: typeof globalThis.fetch): ResolvedModel => {
    const parts = splitHandle(handle);
    const entry = parts ? byName.get(parts.provider) : undefined;
    if (!parts || !entry) {
      const known = [...byName.keys()].join(', ') || 'none (set OPENAI_API_KEY, ANTHROPIC_API_KEY, GEMINI_API_KEY or LLM_PROVIDERS)';
      throw new AppError('BAD_USER_INPUT', `The model '${handle}' names no configured provider; configured providers: ${known}`, { model: handle });
    }
    return {
      handle,
      provider: entry.name,
      modelName: parts.modelName,
      kind: entry.kind,
      endpointType: endpointTypeOf(entry.kind),
      model: createLanguageModel(entry, parts.modelName, fetch),
      callOptions: (call) => callOptionsFor(entry, parts.modelName, call),
    };
  };
  return {
    providers: [...byName.keys()],
    entries,
    resolve(handle) {
      let model = resolved.get(handle);
      if (!model) {
        model = build(handle);
        resolved.set(handle, model);
      }
      return model;
    },
    withFetch: (handle, fetch) => build(handle, fetch),
    kindOf: (provider) => byName.get(provider)?.kind,
    entryOf: (provider) => byName.get(provider),
    contextWindowOf(handle) {
      const parts = handle ? splitHandle(handle) : undefined;
      if (!parts) return undefined;
      const configured = byName.get(parts.provider)?.models.find((model) => model.name === parts.modelName)?.contextWindow;
      return configured ?? knownModelFacts(parts.modelName)?.contextWindow;
    },
  };
}
