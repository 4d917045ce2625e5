import type { LanguageModelV3ReasoningPart, SharedV3ProviderMetadata, SharedV3ProviderOptions } from '@ai-sdk/provider';
import type { ProviderKind } from '../../config-providers.js';
import { optionsKey } from './adapters.js';

/**
 * Reasoning as providers return it, and as it must go back to them on the next step:
 * Anthropic's (and Bedrock's) thinking blocks with their signatures and redacted blocks, OpenAI's
 * Responses reasoning items with their summaries and encrypted content, Gemini's thought
 * signatures. Stored in Letta's content parts (`reasoning` with `signature`, `redacted_reasoning`,
 * `summarized_reasoning`, `tool_call` with `signature`), so that exports carry them too.
 */

/** One reasoning block of a streamed answer: its text and the provider's metadata. */
export interface ReasoningBlock {
  text: string;
  providerMetadata?: SharedV3ProviderMetadata;
}

type Json = Record<string, unknown>;

const metadataOf = (kind: ProviderKind, metadata: SharedV3ProviderMetadata | undefined): Json | undefined => {
  const key = optionsKey(kind);
  if (!key || !metadata) return undefined;
  // Azure's package writes under "azure", or "openai" in some versions: accept both.
  return (metadata[key] ?? (kind === 'azure' ? metadata.openai : undefined)) as Json | undefined;
};

const stringOr = (value: unknown): string | undefined => (typeof value === 'string' && value !== '' ? value : undefined);

/** Letta content parts for the reasoning of one answer. */
export function reasoningContent(kind: ProviderKind, blocks: ReasoningBlock[]): Json[] {
  const parts: Json[] = [];
  const summaries = new Map<string, Json & { summary: Array<{ index: number; text: string }> }>();
  for (const block of blocks) {
    const meta = metadataOf(kind, block.providerMetadata);
    if (kind === 'openai' || kind === 'azure') {
      const itemId = stringOr(meta?.itemId);
      if (itemId) {
        let item = summaries.get(itemId);
        if (!item) {
          item = { type: 'summarized_reasoning', id: itemId, summary: [], encrypted_content: stringOr(meta?.reasoningEncryptedContent) ?? null };
          summaries.set(itemId, item);
          parts.push(item);
        }
        item.encrypted_content ??= stringOr(meta?.reasoningEncryptedContent) ?? null;
        if (block.text) item.summary.push({ index: item.summary.length, text: block.text });
        continue;
      }
    }
    const redacted = stringOr(meta?.redactedData);
    if (redacted) {
      parts.push({ type: 'redacted_reasoning', data: redacted });
      continue;
    }
    const signature = stringOr(meta?.signature) ?? stringOr(meta?.thoughtSignature);
    if (!block.text && !signature) continue;
    parts.push({ type: 'reasoning', is_native: true, reasoning: block.text, signature: signature ?? null });
  }
  return parts;
}

/**
 * The reasoning parts of a stored answer to send back to the same provider. Reasoning without
 * provider state (plain text of an OpenAI-compatible server) is not sent back: those servers do
 * not take it (DeepSeek refuses it).
 */
export function replayedReasoning(kind: ProviderKind, content: unknown): LanguageModelV3ReasoningPart[] {
  const key = optionsKey(kind);
  if (!key || !Array.isArray(content)) return [];
  const out: LanguageModelV3ReasoningPart[] = [];
  const part = (text: string, options: Json): LanguageModelV3ReasoningPart => ({ type: 'reasoning', text, providerOptions: { [key]: options } as SharedV3ProviderOptions });
  for (const raw of content as Json[]) {
    if (!raw || typeof raw !== 'object') continue;
    if (raw.type === 'summarized_reasoning' && (kind === 'openai' || kind === 'azure')) {
      const options = { itemId: raw.id, reasoningEncryptedContent: raw.encrypted_content ?? null };
      const summary = Array.isArray(raw.summary) ? (raw.summary as Array<{ text?: unknown }>) : [];
      if (summary.length === 0) out.push(part('', options));
      for (const entry of summary) out.push(part(typeof entry.text === 'string' ? entry.text : '', options));
    } else if (raw.type === 'redacted_reasoning' && (kind === 'anthropic' || kind === 'bedrock') && stringOr(raw.data)) {
      out.push(part('', { redactedData: raw.data }));
    } else if (raw.type === 'reasoning' && stringOr(raw.signature)) {
      const reasoning = typeof raw.reasoning === 'string' ? raw.reasoning : '';
      if (kind === 'anthropic' || kind === 'bedrock') out.push(part(reasoning, { signature: raw.signature }));
      else if (kind === 'google_ai') out.push(part(reasoning, { thoughtSignature: raw.signature }));
    }
  }
  return out;
}

/** Gemini signs function calls too: the signature is kept in a `tool_call` content part beside the call. */
export function toolCallSignature(kind: ProviderKind, metadata: SharedV3ProviderMetadata | undefined): string | undefined {
  return kind === 'google_ai' ? stringOr(metadataOf(kind, metadata)?.thoughtSignature) : undefined;
}

export function toolCallOptions(kind: ProviderKind, content: unknown, toolCallId: string): SharedV3ProviderOptions | undefined {
  if (kind !== 'google_ai' || !Array.isArray(content)) return undefined;
  const part = (content as Json[]).find((entry) => entry?.type === 'tool_call' && entry.id === toolCallId && stringOr(entry.signature));
  return part ? { google: { thoughtSignature: part.signature as string } } : undefined;
}
