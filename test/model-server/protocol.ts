/**
 * What every wire protocol of the scripted model server shares: the scripted reply, the
 * provider-neutral view of a request that brains and assertions read, and small helpers.
 * Each protocol module (openai-chat, openai-responses, anthropic, gemini, bedrock) turns a reply
 * into its own SSE (or event-stream) frames and error bodies.
 */
import { randomBytes } from 'node:crypto';

export interface JsonSchema {
  type?: string | string[];
  description?: string;
  properties?: Record<string, JsonSchema>;
  required?: string[];
  enum?: unknown[];
  items?: JsonSchema;
  default?: unknown;
  [key: string]: unknown;
}

export interface ChatContentPart {
  type: string;
  text?: string;
  [key: string]: unknown;
}

export interface ChatToolCall {
  id: string;
  type: 'function';
  function: { name: string; arguments: string };
}

export interface ChatMessage {
  role: 'system' | 'developer' | 'user' | 'assistant' | 'tool';
  content?: string | ChatContentPart[] | null;
  name?: string;
  tool_calls?: ChatToolCall[];
  tool_call_id?: string;
  [key: string]: unknown;
}

export interface ChatTool {
  type: 'function';
  function: { name: string; description?: string; parameters?: JsonSchema; strict?: boolean };
}

/**
 * A chat-completions request body as the client sent it (parsed JSON). Requests of the other
 * protocols are shown to brains in this shape too (their system text, messages and tools), and
 * their body as sent is in `RecordedRequest.raw`.
 */
export interface ChatRequest {
  model?: string;
  messages: ChatMessage[];
  tools?: ChatTool[];
  tool_choice?: unknown;
  parallel_tool_calls?: boolean;
  stream?: boolean;
  stream_options?: { include_usage?: boolean } | null;
  [key: string]: unknown;
}

export interface Usage {
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens?: number;
}

export interface ReplyToolCall {
  name: string;
  /** A JSON string, sent as is (may be invalid JSON on purpose), or an object to stringify. */
  arguments: string | Record<string, unknown>;
  /** Default: a random id in the protocol's style (`call_…`, `toolu_…`). */
  id?: string;
}

/** One scripted model answer. */
export interface Reply {
  /** Assistant content, streamed as several deltas of about `chunkSize` characters. */
  text?: string;
  /**
   * Reasoning streamed before the text: `reasoning_content` deltas (Chat Completions), a thinking
   * block (Anthropic, Bedrock), a reasoning item's summary (Responses), thought parts (Gemini).
   */
  reasoning?: string;
  /**
   * The provider state of the reasoning: Anthropic's and Bedrock's signature, the Responses
   * item's encrypted_content, Gemini's thoughtSignature (also put on its function calls).
   * Default: a random `sig_…`.
   */
  signature?: string;
  /** Anthropic and Bedrock: a redacted thinking block with this data, before the text. */
  redactedReasoning?: string;
  /** Streamed as the protocol's tool-call events: a header then argument fragments. */
  toolCalls?: ReplyToolCall[];
  /** Sent in the final chunk; a rough estimate from lengths when absent. */
  usage?: Usage;
  /** Default: `tool_calls` when there are tool calls, else `stop` (mapped to each protocol's names). */
  finishReason?: 'stop' | 'tool_calls' | 'length';
  /** Characters per streamed delta (text, reasoning and argument fragments). Default 4. */
  chunkSize?: number;
  /** Wait before the first byte (headers included). */
  delayMs?: number;
  /** Wait between streamed chunks. */
  chunkDelayMs?: number;
  /** Answer with this HTTP error status and the protocol's error body instead. */
  status?: number;
  errorMessage?: string;
  /** Overrides the error body's `code` (e.g. `context_length_exceeded`). */
  errorCode?: string;
  /** Overrides the error body's `type`. */
  errorType?: string;
  /** The Retry-After header (seconds) of an error answer; default "0" for 429, 503 and 529. */
  retryAfter?: string;
  /** After the first frames, stream the protocol's error event (e.g. Anthropic's overloaded_error) and stop. */
  streamError?: { type: string; message: string };
  /** Emit one frame that is not valid JSON mid-stream, then continue (non-stream: a truncated body). */
  malformedChunk?: boolean;
  /** Destroy the socket after this many frames, without the end of the stream (non-stream: after half the body). */
  cutAfterChunks?: number;
  /** Accept the request and never answer (until the client aborts or `close()`). */
  hang?: boolean;
}

/** Decides a reply when the script (queue) is empty. May be async. */
export type Brain = (request: ChatRequest) => Reply | Promise<Reply>;

export type ProtocolName = 'openai-chat' | 'openai-responses' | 'anthropic' | 'gemini' | 'bedrock';

/** A scripted reply with its ids and counts decided, the same for every protocol. */
export interface Answer {
  id: string;
  model: string;
  text: string | undefined;
  reasoning: string | undefined;
  signature: string;
  redactedReasoning: string | undefined;
  toolCalls: Array<{ id: string; name: string; arguments: string }>;
  finishReason: 'stop' | 'tool_calls' | 'length';
  usage: Required<Usage>;
  usageGiven: boolean;
  chunkSize: number;
}

/** One protocol's rendering of answers and errors. */
export interface Protocol {
  name: ProtocolName;
  /** The request view for brains, or an error message for a body the protocol would refuse (400). */
  view(raw: Record<string, unknown>, model: string | undefined): ChatRequest | string;
  /** The tool call id style (`call_…`, `toolu_…`, `tooluse_…`). */
  toolCallPrefix: string;
  /** Frames of a streamed answer (each written as is), with the one malformed frame and the error event of a reply. */
  frames(answer: Answer, reply: Reply, request: ChatRequest): string[] | Buffer[];
  /** The content type of the stream. */
  streamContentType: string;
  /** An error answer: status, JSON body and headers. */
  error(status: number, reply: Reply): { body: unknown; headers?: Record<string, string> };
}

export const randomId = (prefix: string, bytes = 12): string => `${prefix}${randomBytes(bytes).toString('hex')}`;

/** Splits by code points, so surrogate pairs are never cut. */
export function splitChunks(text: string, size: number): string[] {
  const chars = Array.from(text);
  const out: string[] = [];
  for (let i = 0; i < chars.length; i += size) out.push(chars.slice(i, i + size).join(''));
  return out;
}

export const roughTokens = (chars: number): number => Math.max(1, Math.ceil(chars / 4));

/** Decides ids, finish reason and usage of a reply. */
export function answerOf(request: ChatRequest, reply: Reply, toolCallPrefix: string): Answer {
  const toolCalls = (reply.toolCalls ?? []).map((call) => ({
    id: call.id ?? randomId(toolCallPrefix),
    name: call.name,
    arguments: typeof call.arguments === 'string' ? call.arguments : JSON.stringify(call.arguments),
  }));
  const outputChars =
    (reply.text?.length ?? 0) + (reply.reasoning?.length ?? 0) + toolCalls.reduce((n, c) => n + c.name.length + c.arguments.length, 0);
  const promptTokens = reply.usage?.prompt_tokens ?? roughTokens(JSON.stringify(request.messages ?? []).length + JSON.stringify(request.tools ?? []).length);
  const completionTokens = reply.usage?.completion_tokens ?? roughTokens(outputChars);
  return {
    id: randomId(''),
    model: typeof request.model === 'string' && request.model ? request.model : 'scripted-model',
    text: reply.text,
    reasoning: reply.reasoning,
    signature: reply.signature ?? randomId('sig_'),
    redactedReasoning: reply.redactedReasoning,
    toolCalls,
    finishReason: reply.finishReason ?? (toolCalls.length > 0 ? 'tool_calls' : 'stop'),
    usage: {
      prompt_tokens: promptTokens,
      completion_tokens: completionTokens,
      total_tokens: reply.usage?.total_tokens ?? promptTokens + completionTokens,
    },
    usageGiven: reply.usage !== undefined,
    chunkSize: Math.max(1, Math.floor(reply.chunkSize ?? 4)),
  };
}

/** `event: <name>` + `data: <json>` (or raw text) SSE frame. */
export function sse(data: unknown, event?: string): string {
  return `${event ? `event: ${event}\n` : ''}data: ${typeof data === 'string' ? data : JSON.stringify(data)}\n\n`;
}

/** Ends a stream half-way with the protocol's error event (after some deltas, so the answer has started). */
export function withStreamError<T>(frames: T[], errorFrame: (error: { type: string; message: string }) => T, reply: Reply): T[] {
  if (!reply.streamError) return frames;
  return [...frames.slice(0, Math.max(1, Math.floor(frames.length / 2))), errorFrame(reply.streamError)];
}

/** Puts a malformed frame in the middle of a stream, after the first frame and before the last. */
export function withMalformed<T>(frames: T[], malformed: T, reply: Reply): T[] {
  if (!reply.malformedChunk) return frames;
  const at = Math.max(1, Math.min(frames.length - 1, Math.floor(frames.length / 2)));
  return [...frames.slice(0, at), malformed, ...frames.slice(at)];
}

/** The text of a message: string content, or its text parts joined. */
export function messageText(message: ChatMessage | undefined): string {
  const content = message?.content;
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) return '';
  return content
    .map((part) => (typeof part?.text === 'string' ? part.text : ''))
    .filter((text) => text !== '')
    .join('\n');
}

/** Default Retry-After of an error status. */
export function retryAfterOf(status: number, reply: Reply): Record<string, string> {
  const value = reply.retryAfter ?? ([429, 503, 529].includes(status) ? '0' : undefined);
  return value === undefined ? {} : { 'retry-after': value };
}
