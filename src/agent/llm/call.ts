import { APICallError, JSONParseError, TypeValidationError, type LanguageModelV3StreamPart, type SharedV3ProviderMetadata } from '@ai-sdk/provider';
import type { ErrorCode } from '../../errors.js';
import type { ModelCall } from './adapters.js';
import type { ResolvedModel } from './providers.js';
import type { ReasoningBlock } from './reasoning.js';
import { retryDelay, type RetryPolicy } from './retry.js';

/** What one model call produced, assembled from its stream. */
export interface ModelTurn {
  text: string;
  reasoning: string;
  /** The reasoning blocks with the provider's metadata (signatures, encrypted content). */
  reasoningBlocks: ReasoningBlock[];
  toolCalls: Array<{ id: string; name: string; arguments: string; providerMetadata?: SharedV3ProviderMetadata }>;
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
    /** A rate limit or an overload that a later attempt may get through (with the wait the provider asked for, in ms). */
    readonly retry?: { afterMs: number | undefined },
  ) {
    super(message);
    this.name = 'LlmError';
  }
}

class IncompleteStream extends Error {}

/** The call was aborted by cancellation (not a failure). */
export class CallAborted extends Error {}

export interface CallOptions extends ModelCall {
  model: ResolvedModel;
  cancel: AbortSignal;
  /** Longest silence allowed from the model, in milliseconds. */
  timeoutMs: number;
  /** Retries of rate limits and overloads; none when absent. */
  retry?: RetryPolicy;
  onDelta?: (delta: ModelDelta) => void;
}

/** Seconds (or an HTTP date) of Retry-After, or OpenAI's retry-after-ms, in milliseconds. */
function retryAfterMs(headers: Record<string, string> | undefined): number | undefined {
  if (!headers) return undefined;
  const ms = Number(headers['retry-after-ms']);
  if (headers['retry-after-ms'] !== undefined && Number.isFinite(ms) && ms >= 0) return ms;
  const value = headers['retry-after'];
  if (value === undefined) return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds) && seconds >= 0) return seconds * 1000;
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - Date.now());
}

/** An error object a provider streamed (Anthropic's `error` event, the Responses API's `error` chunk, ...). */
function streamedError(error: unknown): { type: string; message: string } | undefined {
  if (!error || typeof error !== 'object' || error instanceof Error) return undefined;
  const record = error as Record<string, unknown>;
  const inner = (record.error && typeof record.error === 'object' ? record.error : record) as Record<string, unknown>;
  const type = [inner.type, inner.code, inner.status].find((value) => typeof value === 'string' && value !== 'error') as string | undefined;
  const message = typeof inner.message === 'string' ? inner.message : JSON.stringify(error).slice(0, 500);
  return { type: type ?? 'error', message };
}

function classify(error: unknown, timedOut: boolean): LlmError {
  if (timedOut) return new LlmError('LLM_TIMEOUT', 'The LLM request timed out. Please try again.');
  if (APICallError.isInstance(error)) {
    const status = error.statusCode ?? 0;
    const detail = error.responseBody?.slice(0, 2000) ?? error.message;
    const after = retryAfterMs(error.responseHeaders);
    if (status === 401 || status === 403) return new LlmError('LLM_AUTHENTICATION', `The model provider refused the credentials (HTTP ${status})`, detail);
    if (status === 429) return new LlmError('LLM_RATE_LIMIT', `The model provider is rate limiting requests (HTTP 429): ${error.message}`, detail, 'llm_api_error', { afterMs: after });
    if (status === 408 || status === 504) return new LlmError('LLM_TIMEOUT', `The model provider timed out (HTTP ${status})`, detail);
    if (status === 529 || status === 503 || /overloaded/i.test(detail)) {
      return new LlmError('LLM_ERROR', `The model provider is overloaded (HTTP ${status}): ${error.message}`, detail, 'llm_api_error', { afterMs: after });
    }
    return new LlmError('LLM_ERROR', `The model provider failed${status ? ` (HTTP ${status})` : ''}: ${error.message}`, detail);
  }
  const streamed = streamedError(error);
  if (streamed) {
    const detail = JSON.stringify(error).slice(0, 2000);
    if (/overloaded|unavailable/i.test(streamed.type)) return new LlmError('LLM_ERROR', `The model provider is overloaded: ${streamed.message}`, detail, 'llm_api_error', { afterMs: undefined });
    if (/rate_limit|resource_exhausted/i.test(streamed.type)) return new LlmError('LLM_RATE_LIMIT', `The model provider is rate limiting requests: ${streamed.message}`, detail, 'llm_api_error', { afterMs: undefined });
    if (/authentication|permission|unauthenticated/i.test(streamed.type)) return new LlmError('LLM_AUTHENTICATION', `The model provider refused the credentials: ${streamed.message}`, detail);
    return new LlmError('LLM_ERROR', `The model provider failed: ${streamed.type}: ${streamed.message}`, detail);
  }
  const message = error instanceof Error ? error.message : String(error);
  if (JSONParseError.isInstance(error) || TypeValidationError.isInstance(error) || error instanceof IncompleteStream) {
    return new LlmError('LLM_ERROR', `The model returned an invalid response: ${message}`, message, 'invalid_llm_response');
  }
  return new LlmError('LLM_ERROR', `The model call failed: ${message}`, message);
}

const abortableSleep = (ms: number, signal: AbortSignal) =>
  new Promise<void>((resolve) => {
    if (signal.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });

/**
 * Streams one model call, reporting deltas; aborts the HTTP request on cancellation or timeout.
 * A rate limit or an overload answered before anything streamed is tried again as the policy
 * allows, waiting what the provider asked for (never longer than the policy's bound).
 */
export async function callModel(options: CallOptions): Promise<ModelTurn> {
  for (let attempt = 0; ; attempt++) {
    const state = { streamed: false };
    try {
      return await streamOnce(options, state);
    } catch (error) {
      if (!(error instanceof LlmError) || !error.retry || state.streamed || !options.retry) throw error;
      const wait = retryDelay(options.retry, attempt, error.retry.afterMs);
      if (wait.kind === 'give-up') throw new LlmError(error.code, `${error.message} (${wait.reason})`, error.detail, error.stopReason);
      await abortableSleep(wait.ms, options.cancel);
      if (options.cancel.aborted) throw new CallAborted('cancelled');
    }
  }
}

async function streamOnce(options: CallOptions, state: { streamed: boolean }): Promise<ModelTurn> {
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
  const delta = (value: ModelDelta) => {
    ttftNs ??= process.hrtime.bigint() - started;
    state.streamed = true;
    options.onDelta?.(value);
  };
  const turn: ModelTurn = {
    text: '',
    reasoning: '',
    reasoningBlocks: [],
    toolCalls: [],
    finishReason: 'unknown',
    usage: { promptTokens: 0, completionTokens: 0, totalTokens: 0 },
    ttftNs: null,
  };
  const pending = new Map<string, { id: string; name: string; arguments: string }>();
  const reasoningById = new Map<string, ReasoningBlock>();
  const reasoningBlock = (id: string, metadata: SharedV3ProviderMetadata | undefined) => {
    let block = reasoningById.get(id);
    if (!block) {
      block = { text: '' };
      reasoningById.set(id, block);
      turn.reasoningBlocks.push(block);
    }
    if (metadata) block.providerMetadata = mergeMetadata(block.providerMetadata, metadata);
    return block;
  };
  let finished = false;
  try {
    const { stream } = await options.model.model.doStream({ ...options.model.callOptions(options), abortSignal: signal });
    const reader = stream.getReader();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      const part: LanguageModelV3StreamPart = value;
      armTimeout();
      switch (part.type) {
        case 'text-delta':
          if (!part.delta) break;
          turn.text += part.delta;
          delta({ kind: 'text', text: part.delta });
          break;
        case 'reasoning-start':
        case 'reasoning-end':
          reasoningBlock(part.id, part.providerMetadata);
          break;
        case 'reasoning-delta': {
          const block = reasoningBlock(part.id, part.providerMetadata);
          if (!part.delta) break;
          block.text += part.delta;
          turn.reasoning += part.delta;
          delta({ kind: 'reasoning', text: part.delta });
          break;
        }
        case 'tool-input-start':
          pending.set(part.id, { id: part.id, name: part.toolName, arguments: '' });
          delta({ kind: 'tool-call-start', toolCallId: part.id, name: part.toolName });
          break;
        case 'tool-input-delta': {
          const call = pending.get(part.id);
          if (call) call.arguments += part.delta;
          delta({ kind: 'tool-call-arguments', toolCallId: part.id, delta: part.delta });
          break;
        }
        case 'tool-call':
          ttftNs ??= process.hrtime.bigint() - started;
          state.streamed = true;
          pending.delete(part.toolCallId);
          turn.toolCalls.push({ id: part.toolCallId, name: part.toolName, arguments: part.input, ...(part.providerMetadata ? { providerMetadata: part.providerMetadata } : {}) });
          break;
        case 'finish': {
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
        }
        case 'error':
          throw part.error;
        default:
          break;
      }
    }
    if (!finished) throw new IncompleteStream('the stream ended before the model finished');
    if (turn.finishReason === 'error') throw new LlmError('LLM_ERROR', 'The model provider ended the answer with an error', JSON.stringify(turn.usage));
  } catch (error) {
    // Stop the provider's stream too: a failed call must not keep generating (and billing).
    local.abort();
    if (options.cancel.aborted) throw new CallAborted('cancelled');
    if (error instanceof LlmError) throw error;
    throw classify(error, timedOut);
  } finally {
    clearTimeout(timer);
  }
  if (options.cancel.aborted) throw new CallAborted('cancelled');
  turn.ttftNs = ttftNs;
  return turn;
}

function mergeMetadata(into: SharedV3ProviderMetadata | undefined, from: SharedV3ProviderMetadata): SharedV3ProviderMetadata {
  const merged: SharedV3ProviderMetadata = { ...into };
  for (const [key, value] of Object.entries(from)) {
    const defined = Object.fromEntries(Object.entries(value).filter(([, entry]) => entry !== undefined && entry !== null));
    merged[key] = { ...merged[key], ...defined };
  }
  return merged;
}

/** A provider's "the prompt does not fit" answer (OpenAI's context_length_exceeded, Anthropic's "prompt is too long", ...). */
export function isContextOverflow(error: LlmError): boolean {
  const text = `${error.message}\n${error.detail ?? ''}`;
  return /context_length_exceeded|context length|context window|maximum context|prompt is too long|too many tokens|input is too long/i.test(text);
}
