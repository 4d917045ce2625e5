import type { CatalogEmbeddingModel, CatalogModel } from '../agent/llm/catalog.js';
import { PROVIDER_KINDS } from '../config-providers.js';
import * as catalog from '../services/models/catalog.js';
import { builder } from './builder.js';

/**
 * The model catalogue (Letta's GET /v1/models and /v1/models/embedding), for model pickers: the
 * models of the server's configured providers with context windows and capabilities. These are
 * plain lists, not connections: they are bounded by the server's configuration, not by use.
 */

const KIND_DESCRIPTIONS: Record<(typeof PROVIDER_KINDS)[number] | 'local', string> = {
  openai: 'OpenAI, on the Responses API (@ai-sdk/openai).',
  anthropic: 'Anthropic Messages (@ai-sdk/anthropic).',
  google_ai: 'Google AI Gemini API (@ai-sdk/google).',
  azure: 'Azure OpenAI, on the Responses API (@ai-sdk/azure).',
  bedrock: 'Amazon Bedrock Converse (@ai-sdk/amazon-bedrock).',
  'openai-compatible': 'Any server speaking OpenAI Chat Completions (@ai-sdk/openai-compatible).',
  ollama: 'Ollama: Chat Completions at /v1, embeddings through its native /api (ollama-ai-provider-v2).',
  groq: 'Groq (Chat Completions).',
  together: 'Together AI (Chat Completions).',
  xai: 'xAI (Chat Completions).',
  deepseek: 'DeepSeek (Chat Completions).',
  vllm: 'vLLM (Chat Completions).',
  local: 'The built-in hashed n-gram embedder: no provider, no network.',
};

const enumName = (kind: string) => kind.toUpperCase().replace(/-/g, '_');

export const ProviderKindEnum = builder.enumType('ProviderKind', {
  description: 'How the server reaches a provider: which AI SDK package and wire protocol.',
  values: Object.fromEntries(Object.entries(KIND_DESCRIPTIONS).map(([kind, description]) => [enumName(kind), { value: kind, description }])) as Record<string, { value: string; description: string }>,
});

const ModelSourceEnum = builder.enumType('ModelSource', {
  description: 'Where a catalogue entry comes from.',
  values: {
    PROVIDER_API: { value: 'provider', description: "The provider's own model list." },
    CONFIGURATION: { value: 'configuration', description: 'The `models` of the provider in LLM_PROVIDERS.' },
    BUILT_IN: { value: 'built-in', description: 'Part of this server.' },
  } as const,
});

const ModelCapabilityEnum = builder.enumType('ModelCapability', {
  description: 'What a model can do.',
  values: {
    TOOLS: { value: 'tools', description: 'Calls tools (function calling).' },
    REASONING: { value: 'reasoning', description: 'Reasons natively (extended thinking, reasoning summaries, thoughts).' },
    VISION: { value: 'vision', description: 'Reads images.' },
  } as const,
});

const ModelRef = builder.objectRef<CatalogModel>('Model').implement({
  description: 'A language model an agent can use, by its handle.',
  fields: (t) => ({
    handle: t.exposeString('handle', { description: "The handle 'provider/model' that agents' `model` takes." }),
    provider: t.exposeString('provider', { description: 'The configured provider it belongs to.' }),
    providerKind: t.field({ type: ProviderKindEnum, description: 'The kind of that provider.', resolve: (model) => model.kind }),
    name: t.exposeString('name', { description: "The model's name at the provider." }),
    displayName: t.exposeString('displayName', { nullable: true, description: "The provider's display name, when its list gives one." }),
    contextWindow: t.exposeInt('contextWindow', {
      nullable: true,
      description: 'Tokens the model accepts: configuration, else the provider’s list, else the known model family; null when unknown.',
    }),
    maxOutputTokens: t.exposeInt('maxOutputTokens', { nullable: true, description: 'Tokens the model can produce in one answer, when known.' }),
    supportsTools: t.exposeBoolean('tools', { description: 'Whether it calls tools.' }),
    supportsReasoning: t.exposeBoolean('reasoning', { description: 'Whether it reasons natively.' }),
    supportsVision: t.exposeBoolean('vision', { description: 'Whether it reads images.' }),
    source: t.field({ type: ModelSourceEnum, description: 'Where this entry comes from.', resolve: (model) => model.source }),
  }),
});

type EmbeddingEntry = CatalogEmbeddingModel | catalog.LocalEmbeddingModel;

const EmbeddingModelRef = builder.objectRef<EmbeddingEntry>('EmbeddingModel').implement({
  description: 'An embedding model for archival memory and files, by its handle.',
  fields: (t) => ({
    handle: t.exposeString('handle', { description: "The handle 'provider/model' that agents' and folders' `embedding` takes." }),
    provider: t.exposeString('provider', { description: 'The configured provider it belongs to (`local` for the built-in embedder).' }),
    providerKind: t.field({ type: ProviderKindEnum, description: 'The kind of that provider.', resolve: (model) => model.kind }),
    name: t.exposeString('name', { description: "The model's name at the provider." }),
    dimensions: t.exposeInt('dimensions', { nullable: true, description: 'The length of its vectors, when known.' }),
    source: t.field({ type: ModelSourceEnum, description: 'Where this entry comes from.', resolve: (model) => model.source }),
  }),
});

const ModelProviderRef = builder.objectRef<Awaited<ReturnType<typeof catalog.listModelProviders>>[number]>('ModelProvider').implement({
  description: 'A model provider configured on this server (OPENAI_API_KEY, ANTHROPIC_API_KEY, GEMINI_API_KEY, LLM_PROVIDERS).',
  fields: (t) => ({
    name: t.exposeString('name', { description: "The provider part of its handles ('name/model')." }),
    kind: t.field({ type: ProviderKindEnum, description: 'How the server reaches it.', resolve: (provider) => provider.kind }),
    modelCount: t.exposeInt('modelCount', { description: 'Language models listed for it.' }),
    embeddingModelCount: t.exposeInt('embeddingModelCount', { description: 'Embedding models listed for it.' }),
    modelListError: t.exposeString('modelListError', {
      nullable: true,
      description: "Why the provider's own model list could not be had (only its configured models are listed then); null when it was, or when it has none (Bedrock).",
    }),
  }),
});

builder.queryFields((t) => ({
  models: t.field({
    type: [ModelRef],
    description: "The language models of the server's providers, as their APIs list them plus configured ones.",
    args: {
      provider: t.arg.string({ required: false, description: 'Only this provider’s models.' }),
      supports: t.arg({ type: [ModelCapabilityEnum], required: false, description: 'Only models with every one of these capabilities.' }),
    },
    resolve: (_root, args, ctx) => catalog.listModels(ctx.services, { provider: args.provider, supports: args.supports }),
  }),
  embeddingModels: t.field({
    type: [EmbeddingModelRef],
    description: 'The embedding models: the built-in one, and those of the providers that serve embeddings.',
    args: { provider: t.arg.string({ required: false, description: 'Only this provider’s models.' }) },
    resolve: (_root, args, ctx) => catalog.listEmbeddingModels(ctx.services, { provider: args.provider }),
  }),
  modelProviders: t.field({
    type: [ModelProviderRef],
    description: 'The configured model providers, and whether their model lists could be had.',
    resolve: (_root, _args, ctx) => catalog.listModelProviders(ctx.services),
  }),
}));
