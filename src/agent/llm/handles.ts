import type { ProviderKind } from '../../config-providers.js';
import { splitHandle } from './providers.js';

/**
 * Letta's handles (`openai/…`, `anthropic/…`, `google_ai/…`, `ollama/…`, …) name providers by
 * their endpoint type, which are this server's provider kinds and default provider names. An
 * agent file's `llm_config` may instead carry a handle of a provider the exporting server had
 * (a BYOK name such as "gemini-something"): on import, that becomes a handle of a provider here
 * that serves the same endpoint type.
 */

/** Letta's model_endpoint_type values and the provider kind that serves each here. */
const KIND_OF_ENDPOINT_TYPE: Record<string, ProviderKind> = {
  openai: 'openai',
  anthropic: 'anthropic',
  google_ai: 'google_ai',
  azure: 'azure',
  bedrock: 'bedrock',
  ollama: 'ollama',
  groq: 'groq',
  together: 'together',
  xai: 'xai',
  deepseek: 'deepseek',
  vllm: 'vllm',
};

export interface ConfiguredProviders {
  readonly providers: readonly string[];
  kindOf(provider: string): ProviderKind | undefined;
}

/** The provider here for a Letta endpoint type: one of that kind (named after it first), else the type's own name. */
function providerFor(endpointType: string, configured: ConfiguredProviders): string {
  const kind = KIND_OF_ENDPOINT_TYPE[endpointType];
  if (!kind) return endpointType;
  if (configured.kindOf(endpointType) === kind) return endpointType;
  return configured.providers.find((provider) => configured.kindOf(provider) === kind) ?? endpointType;
}

interface LlmConfigLike {
  handle?: unknown;
  model?: unknown;
  model_endpoint_type?: unknown;
}

/**
 * The handle an imported agent runs on: its handle when that provider is configured here; else
 * its endpoint type and model mapped to a provider here; else its handle as it is (sends then
 * fail with "names no configured provider" until the operator configures one or imports with a
 * model override).
 */
export function handleForImport(model: string | null | undefined, llmConfig: LlmConfigLike | null | undefined, configured: ConfiguredProviders): string | null {
  const handle = model ?? (typeof llmConfig?.handle === 'string' && llmConfig.handle.includes('/') ? llmConfig.handle : undefined);
  const parts = handle ? splitHandle(handle) : undefined;
  if (parts && configured.providers.includes(parts.provider)) return handle!;
  const endpointType = typeof llmConfig?.model_endpoint_type === 'string' ? llmConfig.model_endpoint_type : undefined;
  const modelName = typeof llmConfig?.model === 'string' && llmConfig.model ? llmConfig.model : parts?.modelName;
  if (endpointType && modelName) return `${providerFor(endpointType, configured)}/${modelName}`;
  return handle ?? null;
}
