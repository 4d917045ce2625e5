import type { ModelServer, ProtocolName } from '../model-server/server.js';

/**
 * One configured provider of each kind, all pointed at one scripted model server, which answers
 * each in its own wire protocol. Agents use `<name>/<model>`.
 */
export interface ProviderCase {
  kind: string;
  name: string;
  model: string;
  protocol: ProtocolName;
  /** The LLM_PROVIDERS entry for a model server. */
  entry(model: ModelServer): Record<string, unknown>;
  /** Whether a request body (as sent) carries the reasoning state `signature` of an earlier step back. */
  carriesReasoning?(raw: Record<string, unknown>, signature: string): boolean;
  /** The status a provider answers when it is overloaded. */
  overloadedStatus: number;
}

export const AWS_SECRET = 'test-secret-access-key';

const json = (value: unknown) => JSON.stringify(value);

export const PROVIDER_CASES: ProviderCase[] = [
  {
    kind: 'openai',
    name: 'openai',
    model: 'gpt-5-mini',
    protocol: 'openai-responses',
    entry: (m) => ({ kind: 'openai', baseUrl: `${m.origin}/v1`, apiKey: 'sk-test' }),
    carriesReasoning: (raw, signature) => ((raw.input as Array<Record<string, unknown>>) ?? []).some((item) => item.type === 'reasoning' && item.encrypted_content === signature),
    overloadedStatus: 503,
  },
  {
    kind: 'anthropic',
    name: 'anthropic',
    model: 'claude-sonnet-4-5',
    protocol: 'anthropic',
    entry: (m) => ({ kind: 'anthropic', baseUrl: `${m.origin}/v1`, apiKey: 'sk-ant-test' }),
    carriesReasoning: (raw, signature) =>
      ((raw.messages as Array<{ role: string; content: unknown }>) ?? []).some(
        (message) => message.role === 'assistant' && Array.isArray(message.content) && message.content.some((block: Record<string, unknown>) => block.type === 'thinking' && block.signature === signature),
      ),
    overloadedStatus: 529,
  },
  {
    kind: 'google_ai',
    name: 'google_ai',
    model: 'gemini-2.5-flash',
    protocol: 'gemini',
    entry: (m) => ({ kind: 'google_ai', baseUrl: `${m.origin}/v1beta`, apiKey: 'gemini-test' }),
    carriesReasoning: (raw, signature) =>
      ((raw.contents as Array<{ role: string; parts: Array<Record<string, unknown>> }>) ?? []).some(
        (content) => content.role === 'model' && content.parts.some((part) => part.functionCall && part.thoughtSignature === signature),
      ),
    overloadedStatus: 503,
  },
  {
    kind: 'azure',
    name: 'azure',
    model: 'gpt-5-mini',
    protocol: 'openai-responses',
    entry: (m) => ({ kind: 'azure', baseUrl: `${m.origin}/openai/v1`, apiKey: 'azure-test' }),
    carriesReasoning: (raw, signature) => json(raw.input).includes(json(signature)) && ((raw.input as Array<Record<string, unknown>>) ?? []).some((item) => item.type === 'reasoning'),
    overloadedStatus: 503,
  },
  {
    kind: 'bedrock',
    name: 'bedrock',
    model: 'anthropic.claude-sonnet-4-5-v1:0',
    protocol: 'bedrock',
    entry: (m) => ({ kind: 'bedrock', baseUrl: m.origin, region: 'us-east-1', accessKeyId: 'AKIDTEST', secretAccessKey: AWS_SECRET }),
    carriesReasoning: (raw, signature) =>
      ((raw.messages as Array<{ role: string; content: Array<Record<string, unknown>> }>) ?? []).some(
        (message) => message.role === 'assistant' && message.content.some((block) => (block.reasoningContent as { reasoningText?: { signature?: string } } | undefined)?.reasoningText?.signature === signature),
      ),
    overloadedStatus: 503,
  },
  {
    kind: 'groq',
    name: 'groq',
    model: 'llama-3.3-70b-versatile',
    protocol: 'openai-chat',
    entry: (m) => ({ kind: 'groq', baseUrl: `${m.origin}/v1`, apiKey: 'gsk-test' }),
    overloadedStatus: 503,
  },
];

export const providersEnv = (model: ModelServer) => JSON.stringify(PROVIDER_CASES.map((c) => c.entry(model)));
