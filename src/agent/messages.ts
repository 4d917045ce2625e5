import type { Message as MessageRow } from '../generated/prisma/client.js';

/**
 * Persisted messages and their conversion into the client-facing LettaMessage union, as Letta
 * does it (letta/schemas/message.py `Message.to_letta_messages` and
 * `Message.to_letta_messages_from_list`, letta/schemas/letta_message.py,
 * letta/schemas/letta_message_content.py at commit 56ba9c2). Pure functions: no database.
 *
 * JSON stored in the `content`, `toolCalls`, `toolReturns` and `approvals` columns keeps Letta's
 * snake_case keys; the LettaMessage objects produced here use camelCase for GraphQL.
 */

// ---------------------------------------------------------------------------
// Constants
// ---------------------------------------------------------------------------

/** letta/constants.py DEFAULT_MESSAGE_TOOL */
export const DEFAULT_MESSAGE_TOOL = 'send_message';
/** letta/constants.py DEFAULT_MESSAGE_TOOL_KWARG */
export const DEFAULT_MESSAGE_TOOL_KWARG = 'message';

export const LETTA_MESSAGE_TYPES = [
  'system_message',
  'user_message',
  'reasoning_message',
  'hidden_reasoning_message',
  'assistant_message',
  'tool_call_message',
  'tool_return_message',
  'approval_request_message',
  'approval_response_message',
  'summary_message',
] as const;

export type LettaMessageType = (typeof LETTA_MESSAGE_TYPES)[number];

// ---------------------------------------------------------------------------
// Persisted content parts (snake_case, as stored in Message.content)
// ---------------------------------------------------------------------------

export interface TextPart {
  type: 'text';
  text: string;
  signature?: string | null;
}

export interface UrlImageSource {
  type: 'url';
  url: string;
}

export interface Base64ImageSource {
  type: 'base64';
  media_type: string;
  data: string;
  detail?: string | null;
}

export interface LettaImageSource {
  type: 'letta';
  file_id: string;
  media_type?: string | null;
  data?: string | null;
  detail?: string | null;
}

export type ImageSource = UrlImageSource | Base64ImageSource | LettaImageSource;

export interface ImagePart {
  type: 'image';
  source: ImageSource;
}

/** Tool call carried inside content (Gemini style); ignored by the LettaMessage conversion. */
export interface ToolCallPart {
  type: 'tool_call';
  id: string;
  name: string;
  input: Record<string, unknown>;
  signature?: string | null;
}

export interface ToolReturnPart {
  type: 'tool_return';
  tool_call_id: string;
  content: string;
  is_error: boolean;
}

/** Native reasoning (Anthropic extended thinking and similar). */
export interface ReasoningPart {
  type: 'reasoning';
  is_native: boolean;
  reasoning: string;
  signature?: string | null;
}

export interface RedactedReasoningPart {
  type: 'redacted_reasoning';
  data: string;
}

/** Reasoning the provider produced but did not return (o1/o3, GPT-5 on chat completions). */
export interface OmittedReasoningPart {
  type: 'omitted_reasoning';
  signature?: string | null;
}

/** OpenAI Responses API reasoning summary. */
export interface SummarizedReasoningPart {
  type: 'summarized_reasoning';
  id: string;
  summary: { index: number; text: string }[];
  encrypted_content?: string | null;
}

export type ContentPart =
  | TextPart
  | ImagePart
  | ToolCallPart
  | ToolReturnPart
  | ReasoningPart
  | RedactedReasoningPart
  | OmittedReasoningPart
  | SummarizedReasoningPart;

/** Parts allowed in user message content and in tool return values. */
export type UserContentPart = TextPart | ImagePart;
export type ToolReturnContentPart = TextPart | ImagePart;

// ---------------------------------------------------------------------------
// Tool calls, tool returns, approvals (snake_case, as stored)
// ---------------------------------------------------------------------------

export interface OpenAIToolCall {
  id: string;
  type: 'function';
  function: { name: string; arguments: string };
}

/** letta/schemas/message.py ToolReturn, stored in Message.tool_returns and Message.approvals. */
export interface ToolReturn {
  tool_call_id: string | null;
  status: 'success' | 'error';
  stdout?: string[] | null;
  stderr?: string[] | null;
  /** Usually the packaged JSON string `{"status":"OK"|"Failed","message":…,"time":…}`. */
  func_response?: string | ToolReturnContentPart[] | null;
}

/** letta_message.py ApprovalReturn. */
export interface ApprovalReturnItem {
  type: 'approval';
  tool_call_id: string;
  approve: boolean;
  reason?: string | null;
}

/**
 * A tool return inside `approvals` (client-side tool results). Letta deserializes any item with a
 * `status` as a ToolReturn; clients may send the value as `tool_return` instead of `func_response`.
 */
export interface ApprovalToolReturnItem extends ToolReturn {
  type?: 'tool';
  tool_return?: string | ToolReturnContentPart[] | null;
}

export type ApprovalItem = ApprovalReturnItem | ApprovalToolReturnItem;

// ---------------------------------------------------------------------------
// Stored message (the Prisma row with typed JSON columns)
// ---------------------------------------------------------------------------

export type StoredMessageRole = 'system' | 'user' | 'assistant' | 'tool' | 'approval' | 'summary';

export interface StoredMessage {
  id: string;
  organizationId?: string;
  agentId: string;
  sequenceId: bigint;
  role: StoredMessageRole;
  content: ContentPart[] | null;
  name: string | null;
  toolCalls: OpenAIToolCall[] | null;
  toolCallId: string | null;
  toolReturns: ToolReturn[] | null;
  model: string | null;
  stepId: string | null;
  runId: string | null;
  otid: string | null;
  senderId: string | null;
  groupId: string | null;
  batchItemId?: string | null;
  isErr: boolean;
  approvalRequestId: string | null;
  approve: boolean | null;
  denialReason: string | null;
  approvals: ApprovalItem[] | null;
  createdAt: Date;
  updatedAt?: Date;
}

/** Types a Prisma `Message` row's JSON columns (no validation: the rows are written by this server). */
export function storedMessageFromRow(row: MessageRow): StoredMessage {
  return {
    ...row,
    content: (row.content ?? null) as ContentPart[] | null,
    toolCalls: (row.toolCalls ?? null) as unknown as OpenAIToolCall[] | null,
    toolReturns: (row.toolReturns ?? null) as unknown as ToolReturn[] | null,
    approvals: (row.approvals ?? null) as unknown as ApprovalItem[] | null,
  };
}

// ---------------------------------------------------------------------------
// Client-facing LettaMessage union (camelCase for GraphQL)
// ---------------------------------------------------------------------------

interface LettaMessageBase {
  /** The underlying Message id: several LettaMessages may share one. */
  id: string;
  date: Date;
  name: string | null;
  otid: string | null;
  senderId: string | null;
  stepId: string | null;
  runId: string | null;
  /** Letta serializes is_err only when true. */
  isErr: boolean;
  /** The stored Message.sequenceId; stream transports replace it with their own counter. */
  seqId: number;
}

export interface LettaToolCall {
  name: string;
  arguments: string;
  toolCallId: string;
}

export interface LettaToolReturn {
  type: 'tool';
  /** Text of the return value (Letta's `tool_return` when it is a string). */
  toolReturn: string;
  /** Set when the return value is a list of text/image parts (Letta then returns the list). */
  toolReturnParts: ToolReturnContentPart[] | null;
  status: 'success' | 'error';
  toolCallId: string;
  stdout: string[] | null;
  stderr: string[] | null;
}

export interface LettaApprovalReturn {
  type: 'approval';
  toolCallId: string;
  approve: boolean | null;
  reason: string | null;
}

export type LettaApprovalItem = LettaApprovalReturn | LettaToolReturn;

export interface SystemMessage extends LettaMessageBase {
  messageType: 'system_message';
  content: string;
}

export interface UserMessage extends LettaMessageBase {
  messageType: 'user_message';
  /** The text (for multi-part content: the text parts joined with newlines). */
  content: string;
  /** Set when Letta would return `content` as a list of text/image parts. */
  contentParts: UserContentPart[] | null;
}

export interface ReasoningMessage extends LettaMessageBase {
  messageType: 'reasoning_message';
  source: 'reasoner_model' | 'non_reasoner_model';
  reasoning: string;
  signature: string | null;
}

export interface HiddenReasoningMessage extends LettaMessageBase {
  messageType: 'hidden_reasoning_message';
  state: 'redacted' | 'omitted';
  hiddenReasoning: string | null;
}

export interface AssistantMessage extends LettaMessageBase {
  messageType: 'assistant_message';
  content: string;
}

export interface ToolCallMessage extends LettaMessageBase {
  messageType: 'tool_call_message';
  /** Deprecated: the first call. */
  toolCall: LettaToolCall;
  toolCalls: LettaToolCall[];
}

export interface ToolReturnMessage extends LettaMessageBase {
  messageType: 'tool_return_message';
  /** Deprecated single-return fields, taken from the first return. */
  toolReturn: string;
  status: 'success' | 'error';
  toolCallId: string;
  stdout: string[] | null;
  stderr: string[] | null;
  toolReturns: LettaToolReturn[];
}

export interface ApprovalRequestMessage extends LettaMessageBase {
  messageType: 'approval_request_message';
  /** Deprecated: the first pending call. */
  toolCall: LettaToolCall;
  toolCalls: LettaToolCall[];
}

export interface ApprovalResponseMessage extends LettaMessageBase {
  messageType: 'approval_response_message';
  approvals: LettaApprovalItem[];
  /** Deprecated, from the first approval item. */
  approve: boolean | null;
  approvalRequestId: string | null;
  reason: string | null;
}

export interface CompactionStats {
  trigger: string;
  contextTokensBefore: number | null;
  contextTokensAfter: number | null;
  contextWindow: number;
  messagesCountBefore: number;
  messagesCountAfter: number;
}

/** Only produced when `convertSummaryToUser` is false (summary rows are user_messages otherwise). */
export interface SummaryMessage extends LettaMessageBase {
  messageType: 'summary_message';
  summary: string;
  compactionStats: CompactionStats | null;
}

export type LettaMessage =
  | SystemMessage
  | UserMessage
  | ReasoningMessage
  | HiddenReasoningMessage
  | AssistantMessage
  | ToolCallMessage
  | ToolReturnMessage
  | ApprovalRequestMessage
  | ApprovalResponseMessage
  | SummaryMessage;

// ---------------------------------------------------------------------------
// Options
// ---------------------------------------------------------------------------

export interface ToLettaMessagesOptions {
  agentType: string;
  /** Turn calls of `assistantMessageToolName` into assistant_messages. Default true. */
  useAssistantMessage?: boolean;
  assistantMessageToolName?: string;
  assistantMessageToolKwarg?: string;
  /**
   * Text content parts become assistant_messages (else reasoning_messages). Default:
   * `agentType === 'letta_v1_agent'` (Letta's listing rule; its all-agents listing and
   * conversation listing always pass true).
   */
  textIsAssistantMessage?: boolean;
  /** Summary rows become user_messages (default true) instead of summary_messages. */
  convertSummaryToUser?: boolean;
  /**
   * Reverse the LettaMessages produced from each Message (Letta's `reverse`, used when listing
   * newest first). Default false.
   */
  reverse?: boolean;
}

export interface ToLettaMessageListOptions extends ToLettaMessagesOptions {
  /** null/undefined: every type. An empty list keeps nothing. */
  includeReturnMessageTypes?: readonly string[] | null;
}

interface ResolvedOptions {
  useAssistantMessage: boolean;
  toolName: string;
  toolKwarg: string;
  textIsAssistantMessage: boolean;
  convertSummaryToUser: boolean;
  reverse: boolean;
}

function resolveOptions(options: ToLettaMessagesOptions): ResolvedOptions {
  return {
    useAssistantMessage: options.useAssistantMessage ?? true,
    toolName: options.assistantMessageToolName ?? DEFAULT_MESSAGE_TOOL,
    toolKwarg: options.assistantMessageToolKwarg ?? DEFAULT_MESSAGE_TOOL_KWARG,
    textIsAssistantMessage: options.textIsAssistantMessage ?? options.agentType === 'letta_v1_agent',
    convertSummaryToUser: options.convertSummaryToUser ?? true,
    reverse: options.reverse ?? false,
  };
}

// ---------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------

/**
 * Letta's `Message.generate_otid_from_id`: the message UUID with its low 7 bits replaced by
 * `index` (0–127), formatted as a bare UUID. Index -1 returns the message id unchanged.
 */
export function deriveOtid(messageId: string, index: number): string {
  if (index === -1) return messageId;
  if (!Number.isInteger(index) || index < 0 || index >= 128) {
    throw new RangeError('Index must be between 0 and 127');
  }
  const hex = messageId.replaceAll('message-', '').replaceAll('-', '');
  if (!/^[0-9a-fA-F]{1,32}$/.test(hex)) throw new TypeError(`Not a message UUID: ${messageId}`);
  const value = (BigInt(`0x${hex}`) & ~0x7fn) | BigInt(index);
  const s = value.toString(16).padStart(32, '0');
  return `${s.slice(0, 8)}-${s.slice(8, 12)}-${s.slice(12, 16)}-${s.slice(16, 20)}-${s.slice(20)}`;
}

/** The text parts of a content list joined with `separator` (a string passes through). */
export function textOf(content: string | readonly ContentPart[] | null | undefined, separator = '\n'): string {
  if (content == null) return '';
  if (typeof content === 'string') return content;
  return content
    .filter((part): part is TextPart => part.type === 'text')
    .map((part) => part.text)
    .join(separator);
}

/** The text of a message whose content is exactly one text part, else null. */
export function singleText(content: readonly ContentPart[] | null | undefined): string | null {
  if (content && content.length === 1 && content[0]?.type === 'text') return content[0].text;
  return null;
}

/** letta/schemas/message.py `tool_return_to_text`: text parts joined by newlines, images as placeholders. */
export function toolReturnToText(value: string | readonly ContentPart[] | null | undefined): string | null {
  if (value == null) return null;
  if (typeof value === 'string') return value;
  const texts = value.filter((p): p is TextPart => p.type === 'text' && p.text !== '').map((p) => p.text);
  const images = value.filter((p) => p.type === 'image').length;
  let result = texts.join('\n');
  if (images > 0) {
    const placeholder = images === 1 ? '[Image omitted]' : `[${images} images omitted]`;
    result = result ? `${result} ${placeholder}` : placeholder;
  }
  return result || null;
}

/**
 * letta/system.py `unpack_message`: a packed `{"type":"user_message","message":…}` JSON yields its
 * message; anything else (heartbeats, system alerts, plain text) is returned unchanged.
 */
export function unpackMessage(packed: string): string {
  let parsed: unknown;
  try {
    parsed = JSON.parse(packed);
  } catch {
    return packed;
  }
  if (!isPlainObject(parsed) || !('message' in parsed) || parsed.type !== 'user_message') return packed;
  const message = parsed.message;
  return typeof message === 'string' ? message : pyStr(message);
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Python `repr` of a string. */
function pyReprString(s: string): string {
  const quote = s.includes("'") && !s.includes('"') ? '"' : "'";
  let out = quote;
  for (const ch of s) {
    const code = ch.codePointAt(0) ?? 0;
    if (ch === '\\') out += '\\\\';
    else if (ch === quote) out += `\\${quote}`;
    else if (ch === '\n') out += '\\n';
    else if (ch === '\r') out += '\\r';
    else if (ch === '\t') out += '\\t';
    else if (code < 0x20 || code === 0x7f) out += `\\x${code.toString(16).padStart(2, '0')}`;
    else out += ch;
  }
  return out + quote;
}

function pyRepr(value: unknown): string {
  if (typeof value === 'string') return pyReprString(value);
  return pyStr(value);
}

/**
 * Python `str()` of a JSON value, which is what Letta shows for a non-string `message` in a
 * packaged tool response (e.g. `{'a': 1}`).
 */
export function pyStr(value: unknown): string {
  if (typeof value === 'string') return value;
  if (value === null || value === undefined) return 'None';
  if (value === true) return 'True';
  if (value === false) return 'False';
  if (typeof value === 'number') {
    if (Number.isNaN(value)) return 'nan';
    if (!Number.isFinite(value)) return value > 0 ? 'inf' : '-inf';
    return String(value);
  }
  if (Array.isArray(value)) return `[${value.map(pyRepr).join(', ')}]`;
  if (isPlainObject(value)) {
    return `{${Object.entries(value)
      .map(([k, v]) => `${pyReprString(k)}: ${pyRepr(v)}`)
      .join(', ')}}`;
  }
  return String(value);
}

function parseJsonObject(text: string): Record<string, unknown> | null {
  try {
    const parsed: unknown = JSON.parse(text);
    return isPlainObject(parsed) ? parsed : null;
  } catch {
    return null;
  }
}

/**
 * letta/utils.py `validate_function_response(value, 0, truncate=False)` as used for the
 * send_message argument, followed by `json_dumps` when the result is a dict.
 */
function assistantContentOf(value: unknown): string {
  if (typeof value === 'string') return value;
  if (isPlainObject(value)) return JSON.stringify(value, null, 2);
  return pyStr(value);
}

/** Letta's `_parse_tool_status`. */
function parseToolStatus(status: unknown): 'success' | 'error' | null {
  if (status === 'OK') return 'success';
  if (status === 'Failed') return 'error';
  return null;
}

/**
 * Letta's `Message._parse_tool_response`: the packaged `{"status","message","time"}` JSON gives
 * the text (`message`, else the whole string) and the status (`OK` → success, `Failed` → error,
 * missing → success). Letta raises on a string that is not a JSON object or on an unknown
 * status; here the raw text and `fallbackStatus` are used instead.
 */
export function parseToolResponse(
  response: string | readonly ContentPart[] | null | undefined,
  fallbackStatus: 'success' | 'error' = 'success',
): { message: string; status: 'success' | 'error' } {
  if (Array.isArray(response)) {
    return { message: toolReturnToText(response) ?? '[Multi-modal content]', status: 'success' };
  }
  if (typeof response !== 'string') return { message: '', status: fallbackStatus };
  const parsed = parseJsonObject(response);
  if (parsed === null) return { message: response, status: fallbackStatus };
  const message = 'message' in parsed ? pyStr(parsed.message) : response;
  const status = 'status' in parsed ? (parseToolStatus(parsed.status) ?? fallbackStatus) : 'success';
  return { message, status };
}

function toLettaToolCall(call: OpenAIToolCall): LettaToolCall {
  return { name: call.function.name, arguments: call.function.arguments, toolCallId: call.id };
}

function toolCallsOf(message: StoredMessage): OpenAIToolCall[] | null {
  // Letta's ORM turns an empty tool_calls list into None.
  return message.toolCalls && message.toolCalls.length > 0 ? message.toolCalls : null;
}

function compactionStatsOf(text: string): CompactionStats | null {
  const parsed = parseJsonObject(text);
  const stats = parsed?.compaction_stats;
  if (!isPlainObject(stats)) return null;
  const num = (v: unknown): number | null => (typeof v === 'number' ? v : null);
  const trigger = stats.trigger;
  const contextWindow = num(stats.context_window);
  const before = num(stats.messages_count_before);
  const after = num(stats.messages_count_after);
  if (typeof trigger !== 'string' || contextWindow === null || before === null || after === null) return null;
  return {
    trigger,
    contextTokensBefore: num(stats.context_tokens_before),
    contextTokensAfter: num(stats.context_tokens_after),
    contextWindow,
    messagesCountBefore: before,
    messagesCountAfter: after,
  };
}

// ---------------------------------------------------------------------------
// Conversion of one Message
// ---------------------------------------------------------------------------

type Common = Omit<LettaMessageBase, 'otid'>;

function commonOf(message: StoredMessage): Common {
  return {
    id: message.id,
    date: message.createdAt,
    name: message.name,
    senderId: message.senderId,
    stepId: message.stepId,
    runId: message.runId,
    isErr: message.isErr,
    seqId: Number(message.sequenceId),
  };
}

/** Letta's `_convert_reasoning_messages`: content parts of an assistant (or approval) message. */
function convertContentParts(message: StoredMessage, textIsAssistantMessage: boolean): LettaMessage[] {
  const out: LettaMessage[] = [];
  const common = commonOf(message);
  for (const part of message.content ?? []) {
    const otid = deriveOtid(message.id, out.length);
    const last = out.at(-1);
    switch (part.type) {
      case 'text':
        if (textIsAssistantMessage) {
          // consecutive text parts form one assistant message
          if (last?.messageType === 'assistant_message') last.content += part.text;
          else out.push({ ...common, messageType: 'assistant_message', otid, content: part.text });
        } else {
          out.push({
            ...common,
            messageType: 'reasoning_message',
            otid,
            source: 'non_reasoner_model',
            reasoning: part.text,
            signature: null,
          });
        }
        break;
      case 'reasoning':
        // native reasoning continues a preceding reasoning message (whatever its source)
        if (last?.messageType === 'reasoning_message') last.reasoning += part.reasoning;
        else {
          out.push({
            ...common,
            senderId: null,
            messageType: 'reasoning_message',
            otid,
            source: 'reasoner_model',
            reasoning: part.reasoning,
            signature: part.signature ?? null,
          });
        }
        break;
      case 'summarized_reasoning': {
        const texts = part.summary.map((s) => s.text).filter((t) => t !== '');
        if (texts.length > 0) {
          out.push({
            ...common,
            senderId: null,
            messageType: 'reasoning_message',
            otid,
            source: 'reasoner_model',
            reasoning: texts.join('\n\n'),
            signature: part.encrypted_content ?? null,
          });
        }
        break;
      }
      case 'redacted_reasoning':
        out.push({ ...common, messageType: 'hidden_reasoning_message', otid, state: 'redacted', hiddenReasoning: part.data });
        break;
      case 'omitted_reasoning':
        out.push({
          ...common,
          senderId: null,
          messageType: 'hidden_reasoning_message',
          otid,
          state: 'omitted',
          hiddenReasoning: null,
        });
        break;
      default:
        // tool_call parts (Gemini), images, tool_return parts: not shown
        break;
    }
  }
  return out;
}

/** Letta's `_convert_tool_call_messages`. */
function convertToolCalls(
  message: StoredMessage,
  calls: OpenAIToolCall[],
  startIndex: number,
  opts: ResolvedOptions,
): LettaMessage[] {
  const out: LettaMessage[] = [];
  const common = commonOf(message);
  const toolCallMessage = (collected: LettaToolCall[]): ToolCallMessage => ({
    ...common,
    messageType: 'tool_call_message',
    otid: deriveOtid(message.id, startIndex + out.length),
    toolCall: collected[0]!,
    toolCalls: collected,
  });

  if (!opts.useAssistantMessage) {
    out.push(toolCallMessage(calls.map(toLettaToolCall)));
    return out;
  }

  let collected: LettaToolCall[] = [];
  for (const call of calls) {
    if (call.function.name !== opts.toolName) {
      collected.push(toLettaToolCall(call));
      continue;
    }
    if (collected.length > 0) {
      out.push(toolCallMessage(collected));
      collected = [];
    }
    const args = parseJsonObject(call.function.arguments);
    // Letta skips a call without the kwarg (and raises on unparseable arguments; skipped here too)
    if (args === null || !(opts.toolKwarg in args)) continue;
    out.push({
      ...common,
      messageType: 'assistant_message',
      otid: deriveOtid(message.id, startIndex + out.length),
      content: assistantContentOf(args[opts.toolKwarg]),
    });
  }
  if (collected.length > 0) out.push(toolCallMessage(collected));
  return out;
}

/** Letta's `_convert_tool_return_message`. */
function convertToolReturn(message: StoredMessage): ToolReturnMessage {
  const common = commonOf(message);
  const otid = deriveOtid(message.id, 0);
  let returns = message.toolReturns ?? [];
  if (returns.length === 1) {
    const only = returns[0]!;
    const text = singleText(message.content);
    let patched = only;
    // legacy rows: the single return's text lives in content (Letta's ORM to_pydantic)
    if (text !== null) patched = { ...patched, func_response: text };
    // agent files exported mid-migration: the id is only on the message
    if (message.toolCallId && !patched.tool_call_id) patched = { ...patched, tool_call_id: message.toolCallId };
    returns = [patched];
  }

  if (returns.length > 0) {
    const toolReturns: LettaToolReturn[] = returns.map((r) => {
      const parsed = parseToolResponse(r.func_response, r.status);
      const parts = Array.isArray(r.func_response) ? r.func_response : null;
      return {
        type: 'tool',
        toolReturn: parsed.message,
        toolReturnParts: parts,
        // the status comes from the packaged response, as in Letta
        status: parsed.status,
        toolCallId: r.tool_call_id ?? '',
        stdout: r.stdout ?? null,
        stderr: r.stderr ?? null,
      };
    });
    const first = toolReturns[0]!;
    return {
      ...common,
      messageType: 'tool_return_message',
      otid,
      toolReturn: first.toolReturnParts ? (toolReturnToText(first.toolReturnParts) ?? first.toolReturn) : first.toolReturn,
      status: first.status,
      toolCallId: first.toolCallId,
      stdout: first.stdout,
      stderr: first.stderr,
      toolReturns,
    };
  }

  // legacy: a single text part with the packaged response
  const parsed = parseToolResponse(singleText(message.content) ?? textOf(message.content));
  const toolCallId = message.toolCallId ?? '';
  return {
    ...common,
    messageType: 'tool_return_message',
    otid,
    toolReturn: parsed.message,
    status: parsed.status,
    toolCallId,
    stdout: null,
    stderr: null,
    toolReturns: [
      {
        type: 'tool',
        toolReturn: parsed.message,
        toolReturnParts: null,
        status: parsed.status,
        toolCallId,
        stdout: null,
        stderr: null,
      },
    ],
  };
}

function convertApprovalItem(item: ApprovalItem): LettaApprovalItem {
  if (item.type === 'approval') {
    return { type: 'approval', toolCallId: item.tool_call_id, approve: item.approve ?? null, reason: item.reason ?? null };
  }
  const value = item.func_response ?? item.tool_return ?? null;
  const parsed = parseToolResponse(value, item.status);
  return {
    type: 'tool',
    toolReturn: parsed.message,
    toolReturnParts: null,
    // here Letta keeps the stored status
    status: item.status,
    toolCallId: item.tool_call_id ?? '',
    stdout: item.stdout ?? null,
    stderr: item.stderr ?? null,
  };
}

function convertApproval(message: StoredMessage, opts: ResolvedOptions): LettaMessage[] {
  const out: LettaMessage[] = message.content?.length ? convertContentParts(message, opts.textIsAssistantMessage) : [];
  const calls = toolCallsOf(message);
  const base = {
    id: message.id,
    date: message.createdAt,
    otid: message.otid,
    runId: message.runId,
    isErr: false,
    seqId: Number(message.sequenceId),
  };
  if (calls) {
    const toolCalls = calls.map(toLettaToolCall);
    out.push({
      ...base,
      name: message.name,
      senderId: message.senderId,
      stepId: message.stepId,
      messageType: 'approval_request_message',
      toolCall: toolCalls[0]!,
      toolCalls,
    });
    return out;
  }
  const common = { ...base, name: null, senderId: null, stepId: null, messageType: 'approval_response_message' as const };
  if (message.approvals && message.approvals.length > 0) {
    const first = message.approvals.find((a): a is ApprovalReturnItem => a.type === 'approval');
    out.push({
      ...common,
      approvals: message.approvals.map(convertApprovalItem),
      approve: first ? first.approve : null,
      approvalRequestId: first ? first.tool_call_id : null,
      reason: first ? (first.reason ?? null) : null,
    });
  } else {
    out.push({
      ...common,
      approve: message.approve,
      approvalRequestId: message.approvalRequestId,
      reason: message.denialReason,
      approvals: [
        {
          type: 'approval',
          toolCallId: message.approvalRequestId ?? '',
          approve: message.approve,
          reason: message.denialReason,
        },
      ],
    });
  }
  return out;
}

function convertUser(message: StoredMessage): UserMessage {
  const text = singleText(message.content);
  const parts = text === null && message.content?.length ? (message.content as UserContentPart[]) : null;
  return {
    ...commonOf(message),
    messageType: 'user_message',
    otid: message.otid,
    content: text !== null ? unpackMessage(text) : textOf(parts),
    contentParts: parts,
  };
}

function convertSystem(message: StoredMessage): SystemMessage {
  return {
    ...commonOf(message),
    isErr: false,
    messageType: 'system_message',
    otid: message.otid,
    content: singleText(message.content) ?? textOf(message.content),
  };
}

function convertSummary(message: StoredMessage, asUser: boolean): UserMessage | SummaryMessage {
  const text = singleText(message.content) ?? textOf(message.content);
  const summary = unpackMessage(text);
  if (asUser) {
    return { ...commonOf(message), messageType: 'user_message', otid: message.otid, content: summary, contentParts: null };
  }
  return {
    ...commonOf(message),
    name: null,
    senderId: null,
    isErr: false,
    messageType: 'summary_message',
    otid: message.otid,
    summary,
    compactionStats: compactionStatsOf(text),
  };
}

/**
 * One persisted Message → its LettaMessages, in Letta's order (content parts, then tool calls).
 * Cross-message rules (dropping send_message returns, type filtering) live in `toLettaMessageList`.
 */
export function toLettaMessages(message: StoredMessage, options: ToLettaMessagesOptions): LettaMessage[] {
  const opts = resolveOptions(options);
  let out: LettaMessage[];
  switch (message.role) {
    case 'assistant': {
      out = message.content?.length ? convertContentParts(message, opts.textIsAssistantMessage) : [];
      const calls = toolCallsOf(message);
      if (calls) out.push(...convertToolCalls(message, calls, out.length, opts));
      break;
    }
    case 'tool':
      out = [convertToolReturn(message)];
      break;
    case 'user':
      out = [convertUser(message)];
      break;
    case 'system':
      out = [convertSystem(message)];
      break;
    case 'summary':
      out = [convertSummary(message, opts.convertSummaryToUser)];
      break;
    case 'approval':
      out = convertApproval(message, opts);
      break;
    default:
      throw new Error(`Unknown role: ${String((message as { role: unknown }).role)}`);
  }
  return opts.reverse ? out.reverse() : out;
}

// ---------------------------------------------------------------------------
// Lists
// ---------------------------------------------------------------------------

/**
 * Letta's `to_letta_messages_from_list`. With useAssistantMessage, a tool message is dropped when
 * its `toolCallId` names a call of an assistant message *in the same list* that calls the
 * assistant message tool (Letta checks the whole assistant message, so a parallel call's return
 * next to send_message is dropped too). Then each message is converted and the result filtered
 * by `includeReturnMessageTypes`.
 */
export function toLettaMessageList(messages: readonly StoredMessage[], options: ToLettaMessageListOptions): LettaMessage[] {
  const opts = resolveOptions(options);
  let kept: readonly StoredMessage[] = messages;
  if (opts.useAssistantMessage) {
    const callsAssistantTool = new Map<string, boolean>();
    for (const m of messages) {
      const calls = m.role === 'assistant' ? toolCallsOf(m) : null;
      if (!calls) continue;
      const sends = calls.some((c) => c.function.name === opts.toolName);
      for (const c of calls) callsAssistantTool.set(c.id, sends);
    }
    const drop = new Set(
      messages
        .filter((m) => m.role === 'tool' && m.toolCallId != null && callsAssistantTool.get(m.toolCallId) === true)
        .map((m) => m.id),
    );
    kept = messages.filter((m) => !drop.has(m.id));
  }
  const out = kept.flatMap((m) => toLettaMessages(m, options));
  return filterByTypes(out, options.includeReturnMessageTypes);
}

/**
 * `include_return_message_types`: keep only the listed message types. null/undefined keeps all.
 * Only LettaMessages are filtered; callers never pass stop_reason/usage/ping/error through here.
 */
export function filterByTypes<T extends { messageType: string }>(
  list: readonly T[],
  includeReturnMessageTypes?: readonly string[] | null,
): T[] {
  if (includeReturnMessageTypes == null) return [...list];
  const allowed = new Set(includeReturnMessageTypes);
  return list.filter((m) => allowed.has(m.messageType));
}
