import type { LanguageModelV3FunctionTool, LanguageModelV3Message, LanguageModelV3Prompt } from '@ai-sdk/provider';
import type { ProviderKind } from '../config-providers.js';
import { replayedReasoning, toolCallOptions } from './llm/reasoning.js';

/** The parts of a stored message that the model sees. */
export interface PromptMessage {
  role: 'system' | 'user' | 'assistant' | 'tool' | 'approval' | 'summary';
  content: unknown;
  toolCalls: unknown;
  toolCallId: string | null;
  name: string | null;
  /** The handle of the model that wrote an assistant message (its reasoning state is that provider's). */
  model?: string | null;
}

/** The provider a prompt is built for: reasoning signatures go back only to the provider that made them. */
export interface PromptTarget {
  provider: string;
  kind: ProviderKind;
}

interface StoredToolCall {
  id: string;
  function: { name: string; arguments: string };
}

export function textOfContent(content: unknown): string {
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) return '';
  return content
    .filter((part) => part && typeof part === 'object' && part.type === 'text' && typeof part.text === 'string')
    .map((part) => part.text as string)
    .join('\n');
}

function toolCallsOf(message: PromptMessage): StoredToolCall[] {
  return Array.isArray(message.toolCalls) ? (message.toolCalls as StoredToolCall[]) : [];
}

function parseArguments(text: string): unknown {
  try {
    return JSON.parse(text || '{}');
  } catch {
    return { raw: text };
  }
}

/**
 * Converts the in-context messages (system message first) into the provider-neutral prompt.
 * Approval requests are the model's own tool calls; approval responses are bookkeeping the model
 * never sees (their outcome is in the tool messages that follow).
 *
 * `history` followed by `extra`: the conversion of `history` is kept with that array, and a later
 * call with the same array (the loop's context, kept across steps and runs, only ever appended
 * to or given a new system message) converts only the messages that are new, so that a step's
 * prompt does not cost more as the history grows.
 */
export function buildPrompt(history: PromptMessage[], target?: PromptTarget, extra: PromptMessage[] = []): LanguageModelV3Prompt {
  const targetKey = target ? `${target.provider}\u0000${target.kind}` : '';
  let state = conversions.get(history);
  if (!state || state.target !== targetKey || state.sources.length > history.length) {
    state = { target: targetKey, sources: [], converted: [], toolNames: new Map() };
    conversions.set(history, state);
  }
  const { sources, converted, toolNames } = state;
  // A replaced message (the system message, rebuilt) is converted again; a replaced later one starts over.
  for (let i = 0; i < sources.length; i++) {
    if (sources[i] === history[i]) continue;
    if (i > 0) {
      sources.length = 0;
      converted.length = 0;
      toolNames.clear();
      break;
    }
    sources[0] = history[0]!;
    converted[0] = convertMessage(history[0]!, target, (id) => toolNames.get(id));
  }
  for (let i = sources.length; i < history.length; i++) {
    const message = history[i]!;
    rememberToolNames(message, toolNames);
    sources.push(message);
    converted.push(convertMessage(message, target, (id) => toolNames.get(id)));
  }
  const extraNames = new Map<string, string>();
  const prompt = converted.filter((message): message is LanguageModelV3Message => message !== null);
  for (const message of extra) {
    rememberToolNames(message, extraNames);
    const value = convertMessage(message, target, (id) => extraNames.get(id) ?? toolNames.get(id));
    if (value) prompt.push(value);
  }
  return prompt;
}

interface Conversion {
  target: string;
  /** The history's messages converted so far, and what each became (null: not shown to the model). */
  sources: PromptMessage[];
  converted: Array<LanguageModelV3Message | null>;
  /** Tool names by call id, for tool results stored without a name. */
  toolNames: Map<string, string>;
}

const conversions = new WeakMap<PromptMessage[], Conversion>();

function rememberToolNames(message: PromptMessage, names: Map<string, string>) {
  if (message.role === 'assistant' || message.role === 'approval') for (const call of toolCallsOf(message)) names.set(call.id, call.function.name);
}

function convertMessage(message: PromptMessage, target: PromptTarget | undefined, toolNameOf: (callId: string) => string | undefined): LanguageModelV3Message | null {
  if (message.role === 'system') return { role: 'system', content: textOfContent(message.content) };
  if (message.role === 'user' || message.role === 'summary') return { role: 'user', content: [{ type: 'text', text: textOfContent(message.content) }] };
  if (message.role === 'assistant' || (message.role === 'approval' && toolCallsOf(message).length > 0)) {
    const text = textOfContent(message.content);
    const calls = toolCallsOf(message);
    const sameProvider = target !== undefined && typeof message.model === 'string' && message.model.startsWith(`${target.provider}/`);
    const reasoning = sameProvider ? replayedReasoning(target.kind, message.content) : [];
    return {
      role: 'assistant',
      content: [
        ...reasoning,
        ...(text ? [{ type: 'text' as const, text }] : []),
        ...calls.map((call) => {
          const providerOptions = sameProvider ? toolCallOptions(target.kind, message.content, call.id) : undefined;
          return {
            type: 'tool-call' as const,
            toolCallId: call.id,
            toolName: call.function.name,
            input: parseArguments(call.function.arguments),
            ...(providerOptions ? { providerOptions } : {}),
          };
        }),
      ],
    };
  }
  if (message.role === 'tool' && message.toolCallId) {
    return {
      role: 'tool',
      content: [
        {
          type: 'tool-result',
          toolCallId: message.toolCallId,
          toolName: message.name ?? toolNameOf(message.toolCallId) ?? 'unknown',
          output: { type: 'text', value: textOfContent(message.content) },
        },
      ],
    };
  }
  return null;
}

export interface ToolForModel {
  name: string;
  description: string | null;
  jsonSchema: unknown;
}

/** Function tools for the model; memgpt agents get Letta's request_heartbeat argument on non-terminal tools. */
export function toolsForModel(tools: ToolForModel[], options: { heartbeat: (name: string) => boolean }): LanguageModelV3FunctionTool[] {
  return tools.map((tool) => {
    const schema = (tool.jsonSchema ?? {}) as { description?: string; parameters?: Record<string, unknown> };
    const parameters = structuredClone(schema.parameters ?? { type: 'object', properties: {} }) as {
      type: 'object';
      properties?: Record<string, unknown>;
      required?: string[];
    };
    if (options.heartbeat(tool.name)) {
      parameters.properties = {
        ...parameters.properties,
        request_heartbeat: {
          type: 'boolean',
          description: 'Request an immediate heartbeat after function execution. Set to `True` if you want to send a follow-up message or run a follow-up function.',
        },
      };
      parameters.required = [...(parameters.required ?? []), 'request_heartbeat'];
    }
    return {
      type: 'function',
      name: tool.name,
      description: tool.description ?? schema.description ?? '',
      inputSchema: parameters as LanguageModelV3FunctionTool['inputSchema'],
    };
  });
}
