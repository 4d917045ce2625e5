/**
 * What is known of model families without asking their provider: context window, output limit
 * and capabilities. Providers' model lists rarely say this (OpenAI's says nothing of it), so the
 * catalogue and the default context window fall back to this table, then to configuration.
 * First match wins; the patterns match the model name (the part of a handle after the slash).
 */
export interface ModelFacts {
  contextWindow: number;
  maxOutputTokens?: number;
  tools: boolean;
  reasoning: boolean;
  vision: boolean;
}

const facts = (contextWindow: number, maxOutputTokens: number | undefined, tools: boolean, reasoning: boolean, vision: boolean): ModelFacts => ({ contextWindow, maxOutputTokens, tools, reasoning, vision });

const FAMILIES: Array<[RegExp, ModelFacts]> = [
  // OpenAI
  [/^gpt-5/, facts(400_000, 128_000, true, true, true)],
  [/^gpt-4\.1/, facts(1_047_576, 32_768, true, false, true)],
  [/^(gpt-4o|chatgpt-4o)/, facts(128_000, 16_384, true, false, true)],
  [/^o[134](-|$)/, facts(200_000, 100_000, true, true, true)],
  [/^gpt-4-turbo/, facts(128_000, 4_096, true, false, true)],
  [/^gpt-4/, facts(8_192, 4_096, true, false, false)],
  [/^gpt-3\.5/, facts(16_385, 4_096, true, false, false)],
  [/^gpt-oss/, facts(131_072, 32_768, true, true, false)],
  // Anthropic
  [/^claude-(opus|sonnet|haiku)-4|^claude-4|^claude-3-7/, facts(200_000, 64_000, true, true, true)],
  [/^claude-3-5-haiku/, facts(200_000, 8_192, true, false, false)],
  [/^claude-3/, facts(200_000, 8_192, true, false, true)],
  // Google
  [/^gemini-(2\.5|3)/, facts(1_048_576, 65_536, true, true, true)],
  [/^gemini-2\.0/, facts(1_048_576, 8_192, true, false, true)],
  [/^gemini-1\.5-pro/, facts(2_097_152, 8_192, true, false, true)],
  [/^gemini-1\.5/, facts(1_048_576, 8_192, true, false, true)],
  // Open models, as served by Ollama, Groq, Together, vLLM (windows as their servers usually give them)
  [/deepseek-reasoner|deepseek-r1/, facts(128_000, 32_768, true, true, false)],
  [/deepseek/, facts(128_000, 8_192, true, false, false)],
  [/^grok-4|^grok-3-mini/, facts(256_000, undefined, true, true, true)],
  [/^grok/, facts(131_072, undefined, true, false, false)],
  [/qwq|qwen3/, facts(131_072, undefined, true, true, false)],
  [/qwen/, facts(32_768, undefined, true, false, false)],
  [/llama-?3\.[123]|llama3\.[123]|llama-4|llama4/, facts(131_072, undefined, true, false, false)],
  [/llama-?3|llama3/, facts(8_192, undefined, true, false, false)],
  [/mistral|mixtral/, facts(32_768, undefined, true, false, false)],
  [/gemma/, facts(8_192, undefined, false, false, false)],
];

/** Facts of a model name (with or without a `provider/` prefix or a `models/` path), when its family is known. */
export function knownModelFacts(model: string): ModelFacts | undefined {
  const name = model.slice(model.lastIndexOf('/') + 1).toLowerCase();
  // Bedrock ids carry a vendor prefix ("anthropic.claude-sonnet-4-...", "us.anthropic...").
  const bare = name.replace(/^(?:[a-z]{2}\.)?(?:anthropic|meta|amazon|mistral|deepseek)\./, '');
  return FAMILIES.find(([pattern]) => pattern.test(bare))?.[1];
}

/** Embedding models whose vector length is known. */
const EMBEDDING_DIMENSIONS: Array<[RegExp, number]> = [
  [/^text-embedding-3-large/, 3072],
  [/^text-embedding-3-small|^text-embedding-ada-002/, 1536],
  [/^gemini-embedding/, 3072],
  [/^text-embedding-00[45]/, 768],
  [/nomic-embed-text/, 768],
  [/mxbai-embed-large/, 1024],
  [/all-minilm/, 384],
];

export function knownEmbeddingDimensions(model: string): number | undefined {
  const name = model.slice(model.lastIndexOf('/') + 1).toLowerCase();
  return EMBEDDING_DIMENSIONS.find(([pattern]) => pattern.test(name))?.[1];
}

/** Whether a listed model id names an embedding model (providers list both kinds together). */
export function looksLikeEmbeddingModel(model: string): boolean {
  return /embed/i.test(model);
}
