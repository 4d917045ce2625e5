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
 */
export function buildPrompt(messages: PromptMessage[], target?: PromptTarget): LanguageModelV3Prompt {
  const prompt: LanguageModelV3Message[] = [];
  const toolNames = new Map<string, string>();
  for (const message of messages) {
    if (message.role === 'system') {
      prompt.push({ role: 'system', content: textOfContent(message.content) });
    } else if (message.role === 'user' || message.role === 'summary') {
      prompt.push({ role: 'user', content: [{ type: 'text', text: textOfContent(message.content) }] });
    } else if (message.role === 'assistant' || (message.role === 'approval' && toolCallsOf(message).length > 0)) {
      const text = textOfContent(message.content);
      const calls = toolCallsOf(message);
      for (const call of calls) toolNames.set(call.id, call.function.name);
      const sameProvider = target !== undefined && typeof message.model === 'string' && message.model.startsWith(`${target.provider}/`);
      const reasoning = sameProvider ? replayedReasoning(target.kind, message.content) : [];
      prompt.push({
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
      });
    } else if (message.role === 'tool' && message.toolCallId) {
      prompt.push({
        role: 'tool',
        content: [
          {
            type: 'tool-result',
            toolCallId: message.toolCallId,
            toolName: message.name ?? toolNames.get(message.toolCallId) ?? 'unknown',
            output: { type: 'text', value: textOfContent(message.content) },
          },
        ],
      });
    }
  }
  return prompt;
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
