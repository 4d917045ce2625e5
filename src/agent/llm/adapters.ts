import { createAmazonBedrock } from '@ai-sdk/amazon-bedrock';
import { createAnthropic } from '@ai-sdk/anthropic';
import { createAzure } from '@ai-sdk/azure';
import { createGoogleGenerativeAI } from '@ai-sdk/google';
import { createOpenAI } from '@ai-sdk/openai';
import { createOpenAICompatible } from '@ai-sdk/openai-compatible';
import type { LanguageModelV3, LanguageModelV3CallOptions, LanguageModelV3FunctionTool, LanguageModelV3Prompt, SharedV3ProviderOptions } from '@ai-sdk/provider';
import { CHAT_COMPLETIONS_KINDS, type ProviderEntry, type ProviderKind } from '../../config-providers.js';
import { knownModelFacts } from './known-models.js';

/**
 * One adapter per provider kind: how its AI SDK package makes a model, and what a call adds to
 * the provider-neutral prompt (reasoning settings, prompt-cache breakpoints). Nothing here speaks
 * HTTP: the packages do.
 */

/** The provider-neutral model call of a step. */
export interface ModelCall {
  prompt: LanguageModelV3Prompt;
  tools: LanguageModelV3FunctionTool[];
  /** Force a tool call (a constrained tool rule, or memgpt agents that must call a tool). */
  requireTool?: boolean;
}

type Fetch = typeof globalThis.fetch;

/** The key under which a kind's SDK reads providerOptions and writes providerMetadata. */
export function optionsKey(kind: ProviderKind): string | undefined {
  switch (kind) {
    case 'openai':
      return 'openai';
    case 'azure':
      return 'azure';
    case 'anthropic':
      return 'anthropic';
    case 'google_ai':
      return 'google';
    case 'bedrock':
      return 'bedrock';
    default:
      return undefined;
  }
}

export function createLanguageModel(entry: ProviderEntry, modelName: string, fetch?: Fetch): LanguageModelV3 {
  const common = { ...(fetch ? { fetch } : {}) };
  switch (entry.kind) {
    case 'openai':
      return createOpenAI({ apiKey: entry.apiKey ?? '', baseURL: entry.baseUrl, name: entry.name, ...common }).responses(modelName);
    case 'azure':
      return createAzure({
        apiKey: entry.apiKey ?? '',
        ...(entry.baseUrl ? { baseURL: entry.baseUrl } : { resourceName: entry.resourceName }),
        ...(entry.apiVersion ? { apiVersion: entry.apiVersion } : {}),
        ...common,
      }).responses(modelName);
    case 'anthropic':
      return createAnthropic({ apiKey: entry.apiKey ?? '', baseURL: entry.baseUrl, ...common }).languageModel(modelName);
    case 'google_ai':
      return createGoogleGenerativeAI({ apiKey: entry.apiKey ?? '', baseURL: entry.baseUrl, ...common }).languageModel(modelName);
    case 'bedrock':
      return createAmazonBedrock({
        region: entry.region,
        ...(entry.baseUrl ? { baseURL: entry.baseUrl } : {}),
        ...(entry.apiKey
          ? { apiKey: entry.apiKey }
          : { accessKeyId: entry.accessKeyId ?? '', secretAccessKey: entry.secretAccessKey ?? '', ...(entry.sessionToken ? { sessionToken: entry.sessionToken } : {}) }),
        ...common,
      }).languageModel(modelName);
    default:
      return createOpenAICompatible({ name: entry.name, baseURL: entry.baseUrl!, apiKey: entry.apiKey, includeUsage: true, ...common }).chatModel(modelName);
  }
}

export const usesChatCompletions = (kind: ProviderKind) => CHAT_COMPLETIONS_KINDS.includes(kind);

/** Whether the model reasons natively (so that reasoning settings are sent at all). */
function reasons(modelName: string, entry: ProviderEntry): boolean {
  const configured = entry.models.find((model) => model.name === modelName)?.reasoning;
  return configured ?? knownModelFacts(modelName)?.reasoning ?? false;
}

/**
 * Provider options of a call. Thinking cannot be combined with a forced tool choice on Anthropic
 * and Bedrock (the API refuses it), so a step that must call a tool runs without thinking there.
 */
function providerOptions(entry: ProviderEntry, modelName: string, call: ModelCall): SharedV3ProviderOptions | undefined {
  const reasoning = reasons(modelName, entry);
  const budget = entry.thinkingBudgetTokens;
  switch (entry.kind) {
    case 'openai':
    case 'azure':
      // Stateless: reasoning comes back encrypted and is sent back with the next step.
      return {
        [optionsKey(entry.kind)!]: {
          store: false,
          ...(reasoning ? { reasoningSummary: 'auto', include: ['reasoning.encrypted_content'] } : {}),
          ...(reasoning && entry.reasoningEffort ? { reasoningEffort: entry.reasoningEffort } : {}),
        },
      };
    case 'anthropic':
      return reasoning && budget > 0 && !call.requireTool ? { anthropic: { thinking: { type: 'enabled', budgetTokens: budget } } } : undefined;
    case 'bedrock':
      return reasoning && budget > 0 && !call.requireTool ? { bedrock: { reasoningConfig: { type: 'enabled', budgetTokens: budget } } } : undefined;
    case 'google_ai':
      return reasoning && budget > 0 ? { google: { thinkingConfig: { includeThoughts: true, thinkingBudget: budget } } } : undefined;
    default:
      return undefined;
  }
}

/**
 * The system message holds the base prompt and the compiled memory, the largest stable prefix of
 * every request: a cache breakpoint at its end lets Anthropic and Bedrock reuse tools + system
 * from one step to the next (OpenAI and Gemini cache prefixes on their own).
 */
function withCacheBreakpoints(kind: ProviderKind, prompt: LanguageModelV3Prompt): LanguageModelV3Prompt {
  const breakpoint: SharedV3ProviderOptions | undefined =
    kind === 'anthropic' ? { anthropic: { cacheControl: { type: 'ephemeral' } } } : kind === 'bedrock' ? { bedrock: { cachePoint: { type: 'default' } } } : undefined;
  if (!breakpoint) return prompt;
  const lastSystem = prompt.map((message) => message.role).lastIndexOf('system');
  if (lastSystem < 0) return prompt;
  return prompt.map((message, index) => (index === lastSystem ? { ...message, providerOptions: { ...message.providerOptions, ...breakpoint } } : message));
}

/** What a call sends to the provider SDK (shared by calls and the raw payload preview). */
export function callOptionsFor(entry: ProviderEntry | undefined, modelName: string, call: ModelCall): LanguageModelV3CallOptions {
  const options = entry ? providerOptions(entry, modelName, call) : undefined;
  return {
    prompt: entry ? withCacheBreakpoints(entry.kind, call.prompt) : call.prompt,
    tools: call.tools.length ? call.tools : undefined,
    toolChoice: call.tools.length ? { type: call.requireTool ? 'required' : 'auto' } : undefined,
    ...(options ? { providerOptions: options } : {}),
  };
}
