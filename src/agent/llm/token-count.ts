import type { ProviderEntry } from '../../config-providers.js';

/**
 * The provider's own token count of a request, where its API has one: Anthropic's
 * `POST /v1/messages/count_tokens` and Gemini's `POST models/{m}:countTokens`. Claude and
 * Gemini publish no offline tokenizer, so this is the only exact count for them. The body is the
 * one the provider SDK built for the call (the raw payload), so the count is of what would be sent.
 */

export const COUNT_SOURCES = { anthropic: 'anthropic_count_tokens', google_ai: 'gemini_count_tokens' } as const;

export function hasCountEndpoint(entry: ProviderEntry | undefined): entry is ProviderEntry & { kind: keyof typeof COUNT_SOURCES } {
  return entry !== undefined && entry.kind in COUNT_SOURCES && Boolean(entry.baseUrl);
}

const pick = (body: Record<string, unknown>, keys: string[]) => Object.fromEntries(keys.filter((key) => body[key] !== undefined).map((key) => [key, body[key]]));

/** The count, or undefined when the provider has no count endpoint. Throws when it fails to answer. */
export async function countTokensAtProvider(entry: ProviderEntry, modelName: string, body: Record<string, unknown>, timeoutMs: number, fetch: typeof globalThis.fetch = globalThis.fetch): Promise<number | undefined> {
  if (!hasCountEndpoint(entry)) return undefined;
  const base = entry.baseUrl!.replace(/\/+$/, '');
  const request: { url: string; headers: Record<string, string>; body: unknown } =
    entry.kind === 'anthropic'
      ? {
          url: `${base}/messages/count_tokens`,
          headers: { 'x-api-key': entry.apiKey ?? '', 'anthropic-version': '2023-06-01' },
          body: pick(body, ['model', 'system', 'messages', 'tools', 'tool_choice', 'thinking']),
        }
      : {
          url: `${base}/models/${encodeURIComponent(modelName)}:countTokens`,
          headers: { 'x-goog-api-key': entry.apiKey ?? '' },
          body: { generateContentRequest: { model: `models/${modelName}`, ...pick(body, ['contents', 'systemInstruction', 'tools', 'toolConfig']) } },
        };
  const response = await fetch(request.url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...request.headers },
    body: JSON.stringify(request.body),
    signal: AbortSignal.timeout(timeoutMs),
  });
  if (!response.ok) throw new Error(`token count answered HTTP ${response.status}`);
  const answer = (await response.json()) as { input_tokens?: unknown; totalTokens?: unknown };
  const count = entry.kind === 'anthropic' ? answer.input_tokens : answer.totalTokens;
  if (typeof count !== 'number' || !Number.isFinite(count) || count < 0) throw new Error('token count answered no number');
  return count;
}
