import { z } from 'zod';

/**
 * The provider kinds a server can be configured with, and what each needs. Each kind is reached
 * through its own AI SDK package; the OpenAI-compatible kinds (ollama, groq, together, xai,
 * deepseek, vllm) are the generic Chat Completions package with the service's base URL.
 */
export const PROVIDER_KINDS = ['openai', 'anthropic', 'google_ai', 'azure', 'bedrock', 'openai-compatible', 'ollama', 'groq', 'together', 'xai', 'deepseek', 'vllm'] as const;
export type ProviderKind = (typeof PROVIDER_KINDS)[number];

/** Base URLs of the kinds that have a well-known one (the others need `baseUrl`). */
export const DEFAULT_BASE_URLS: Partial<Record<ProviderKind, string>> = {
  openai: 'https://api.openai.com/v1',
  anthropic: 'https://api.anthropic.com/v1',
  google_ai: 'https://generativelanguage.googleapis.com/v1beta',
  ollama: 'http://127.0.0.1:11434/v1',
  groq: 'https://api.groq.com/openai/v1',
  together: 'https://api.together.xyz/v1',
  xai: 'https://api.x.ai/v1',
  deepseek: 'https://api.deepseek.com/v1',
  vllm: 'http://127.0.0.1:8000/v1',
};

/** Kinds whose requests go through `@ai-sdk/openai-compatible` (Chat Completions). */
export const CHAT_COMPLETIONS_KINDS: readonly ProviderKind[] = ['openai-compatible', 'ollama', 'groq', 'together', 'xai', 'deepseek', 'vllm'];

const modelEntry = z.union([
  z.string().min(1),
  z.object({
    name: z.string().min(1),
    contextWindow: z.number().int().min(256).max(100_000_000).optional(),
    maxOutputTokens: z.number().int().min(1).max(10_000_000).optional(),
    tools: z.boolean().optional(),
    reasoning: z.boolean().optional(),
    vision: z.boolean().optional(),
    /** An embedding model (listed by embeddingModels, not models). */
    embedding: z.boolean().optional(),
    dimensions: z.number().int().min(1).max(65_536).optional(),
  }),
]);

export const providerEntrySchema = z
  .object({
    name: z.string().regex(/^[a-z0-9_-]{1,64}$/i, 'provider names are 1 to 64 letters, digits, "_" and "-"').optional(),
    kind: z.enum(PROVIDER_KINDS).default('openai-compatible'),
    baseUrl: z.string().url().optional(),
    apiKey: z.string().optional(),
    /** Azure: the resource name (https://<resourceName>.openai.azure.com/openai) when no baseUrl is given. */
    resourceName: z.string().min(1).optional(),
    /** Azure: the api-version query parameter (default v1). */
    apiVersion: z.string().min(1).optional(),
    /** Bedrock: the AWS region and credentials (SigV4), unless apiKey (a Bedrock API key) is given. */
    region: z.string().min(1).optional(),
    accessKeyId: z.string().min(1).optional(),
    secretAccessKey: z.string().min(1).optional(),
    sessionToken: z.string().min(1).optional(),
    /** Anthropic, Google and Bedrock: tokens of extended thinking per call (0 turns it off). */
    thinkingBudgetTokens: z.number().int().min(0).max(1_000_000).default(1024),
    /** OpenAI and Azure reasoning models: the effort of their reasoning. */
    reasoningEffort: z.enum(['minimal', 'low', 'medium', 'high']).optional(),
    /** Models to list when the provider's API cannot be asked (and their context windows, capabilities). */
    models: z.array(modelEntry).max(1000).default([]),
  })
  .transform((entry, ctx) => {
    const baseUrl = entry.baseUrl ?? DEFAULT_BASE_URLS[entry.kind];
    if (!entry.name && entry.kind === 'openai-compatible') {
      ctx.addIssue({ code: 'custom', message: 'an openai-compatible provider needs a name' });
      return z.NEVER;
    }
    if (!baseUrl && entry.kind === 'openai-compatible') {
      ctx.addIssue({ code: 'custom', message: `provider '${entry.name}' (openai-compatible) needs a baseUrl` });
      return z.NEVER;
    }
    if (entry.kind === 'azure' && !baseUrl && !entry.resourceName) {
      ctx.addIssue({ code: 'custom', message: `provider '${entry.name ?? 'azure'}' (azure) needs a baseUrl or a resourceName` });
      return z.NEVER;
    }
    if (entry.kind === 'bedrock' && !entry.region) {
      ctx.addIssue({ code: 'custom', message: `provider '${entry.name ?? 'bedrock'}' (bedrock) needs a region` });
      return z.NEVER;
    }
    const models = entry.models.map((model) => (typeof model === 'string' ? { name: model } : model));
    return { ...entry, name: entry.name ?? entry.kind.replace('-', '_'), baseUrl, models };
  });

export type ProviderEntryInput = z.input<typeof providerEntrySchema>;
export type ProviderEntry = z.output<typeof providerEntrySchema>;
export type ConfiguredModel = ProviderEntry['models'][number];

/** A provider entry from code (tests, the demo), with the defaults applied. */
export function providerEntry(input: ProviderEntryInput): ProviderEntry {
  return providerEntrySchema.parse(input);
}
