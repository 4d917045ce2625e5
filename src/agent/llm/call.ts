import { APICallError, JSONParseError, TypeValidationError, type LanguageModelV3, type LanguageModelV3CallOptions, type LanguageModelV3FunctionTool, type LanguageModelV3Prompt } from '@ai-sdk/provider';
import type { ErrorCode } from '../../errors.js';

/** What one model call produced, assembled from its stream. */
export interface ModelTurn {
  text: string;
  reasoning: string;
  toolCalls: Array<{ id: string; name: string; arguments: string }>;
  finishReason: string;
  usage: { promptTokens: number; completionTokens: number; totalTokens: number; cachedInputTokens?: number; reasoningTokens?: number };
  /** Nanoseconds from the request to the first streamed token. */
  ttftNs: bigint | null;
}

/** Deltas as the model produces them, for token streaming. */
export type ModelDelta =
  | { kind: 'reasoning'; text: string }
  | { kind: 'text'; text: string }
  | { kind: 'tool-call-start'; toolCallId: string; name: string }
  | { kind: 'tool-call-arguments'; toolCallId: string; delta: string };

/** A failed model call, classified as SPEC §6 and Letta's stop reasons expect. */
export class LlmError extends Error {
  constructor(
    readonly code: Extract<ErrorCode, 'LLM_TIMEOUT' | 'LLM_RATE_LIMIT' | 'LLM_AUTHENTICATION' | 'LLM_ERROR'>,
    message: string,
    readonly detail?: string,
    /** Letta's stop reason: the provider failed, or answered something unusable. */
    readonly stopReason: 'llm_api_error' | 'invalid_llm_response' = 'llm_api_error',
  ) {
    super(message);
    this.name = 'LlmError';
  }
}

class IncompleteStream extends Error {}

/** The call was aborted by cancellation (not a failure). */
export class CallAborted extends Error {}

export interface CallOptions {
  model: LanguageModelV3;
  prompt: LanguageModelV3Prompt;
  tools: LanguageModelV3FunctionTool[];
  /** Force a tool call (a constrained tool rule or memgpt agents that must call a tool). */
  requireTool?: boolean;
  cancel: AbortSignal;
  /** Longest silence allowed from the model, in milliseconds. */
  timeoutMs: number;
  onDelta?: (delta: ModelDelta) => void;
}

function classify(error: unknown, timedOut: boolean): LlmError {
  if (timedOut) return new LlmError('LLM_TIMEOUT', 'The LLM request timed out. Please try again.');
  if (APICallError.isInstance(error)) {
    const status = error.statusCode ?? 0;
    const detail = error.responseBody?.slice(0, 2000) ?? error.message;
    if (status === 401 || status === 403) return new LlmError('LLM_AUTHENTICATION', `The model provider refused the credentials (HTTP ${status})`, detail);
    if (status === 429) return new LlmError('LLM_RATE_LIMIT', `The model provider is rate limiting requests (HTTP 429): ${error.message}`, detail);
    if (status === 408 || status === 504) return new LlmError('LLM_TIMEOUT', `The model provider timed out (HTTP ${status})`, detail);
    return new LlmError('LLM_ERROR', `The model provider failed${status ? ` (HTTP ${status})` : ''}: ${error.message}`, detail);
  }
  const message = error instanceof Error ? error.message : String(error);
  if (JSONParseError.isInstance(error) || TypeValidationError.isInstance(error) || error instanceof IncompleteStream) {
    return new LlmError('LLM_ERROR', `The model returned an invalid response: ${message}`, message, 'invalid_llm_response');
  }
  return new LlmError('LLM_ERROR', `The model call failed: ${message}`, message);
}

/** What a call sends to the provider SDK (shared with the raw payload preview, so both send the same). */
export function callOptionsOf(options: Pick<CallOptions, 'prompt' | 'tools' | 'requireTool'>): LanguageModelV3CallOptions {
  return {
    prompt: options.prompt,
    tools: options.tools.length ? options.tools : undefined,
    toolChoice: options.tools.length ? { type: options.requireTool ? 'required' : 'auto' } : undefined,
  };
}

/** Streams one model call, reporting deltas; aborts the HTTP request on cancellation or timeout. */
export async function callModel(options: CallOptions): Promise<ModelTurn> {
  // The timeout is an idle timeout: it restarts with every part the model streams.
  const local = new AbortController();
  let timedOut = false;
  let timer: NodeJS.Timeout | undefined;
  const armTimeout = () => {
    clearTimeout(timer);
    timer = setTimeout(() => {
      timedOut = true;
      local.abort();
    }, options.timeoutMs);
  };
  const signal = AbortSignal.any([options.cancel, local.signal]);
  armTimeout();
  const started = process.hrtime.bigint();
  let ttftNs: bigint | null = null;
  const firstToken = () => {
    ttftNs ??= process.hrtime.bigint() - started;
  };
  const turn: ModelTurn = {
    text: '',
    reasoning: '',
    toolCalls: [],
    finishReason: 'unknown',
    usage: { promptTokens: 0, completionTokens: 0, totalTokens: 0 },
    ttftNs: null,
  };
  const pending = new Map<string, { id: string; name: string; arguments: string }>();
  let finished = false;
  try {
    const { stream } = await options.model.doStream({ ...callOptionsOf(options), abortSignal: signal });
    const reader = stream.getReader();
    for (;;) {
      const { done, value: part } = await reader.read();
      if (done) break;
      armTimeout();
      switch (part.type) {
        case 'text-delta':
          firstToken();
          turn.text += part.delta;
          options.onDelta?.({ kind: 'text', text: part.delta });
          break;
        case 'reasoning-delta':
          firstToken();
          turn.reasoning += part.delta;
          options.onDelta?.({ kind: 'reasoning', text: part.delta });
          break;
        case 'tool-input-start':
          firstToken();
          pending.set(part.id, { id: part.id, name: part.toolName, arguments: '' });
          options.onDelta?.({ kind: 'tool-call-start', toolCallId: part.id, name: part.toolName });
          break;
        case 'tool-input-delta': {
          const call = pending.get(part.id);
          if (call) call.arguments += part.delta;
          options.onDelta?.({ kind: 'tool-call-arguments', toolCallId: part.id, delta: part.delta });
          break;
        }
        case 'tool-call':
          firstToken();
          pending.delete(part.toolCallId);
          turn.toolCalls.push({ id: part.toolCallId, name: part.toolName, arguments: part.input });
          break;
        case 'finish':
          finished = true;
          turn.finishReason = typeof part.finishReason === 'string' ? part.finishReason : part.finishReason.unified;
          turn.usage = {
            promptTokens: part.usage.inputTokens.total ?? 0,
            completionTokens: part.usage.outputTokens.total ?? 0,
            totalTokens: (part.usage.inputTokens.total ?? 0) + (part.usage.outputTokens.total ?? 0),
            cachedInputTokens: part.usage.inputTokens.cacheRead,
            reasoningTokens: part.usage.outputTokens.reasoning,
          };
          break;
        case 'error':
          throw part.error;
        default:
          break;
      }
    }
    if (!finished) throw new IncompleteStream('the stream ended before the model finished');
  } catch (error) {
    // Stop the provider's stream too: a failed call must not keep generating (and billing).
    local.abort();
    if (options.cancel.aborted) throw new CallAborted('cancelled');
    throw classify(error, timedOut);
  } finally {
    clearTimeout(timer);
  }
  if (options.cancel.aborted) throw new CallAborted('cancelled');
  turn.ttftNs = ttftNs;
  return turn;
}

/** A provider's "the prompt does not fit" answer (OpenAI's context_length_exceeded, Anthropic's "prompt is too long", ...). */
export function isContextOverflow(error: LlmError): boolean {
  const text = `${error.message}\n${error.detail ?? ''}`;
  return /context_length_exceeded|context length|context window|maximum context|prompt is too long|too many tokens|input is too long/i.test(text);
}
