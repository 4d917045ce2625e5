import type { Message as MessageRow } from '../../generated/prisma/client.js';

/**
 * Messages as persisted, with Letta's snake_case keys in the JSON columns (`content`,
 * `toolCalls`, `toolReturns`, `approvals`), from letta/schemas/message.py and
 * letta/schemas/letta_message_content.py at commit 56ba9c2.
 */

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
