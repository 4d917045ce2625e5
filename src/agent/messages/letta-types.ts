import type { ToolReturnContentPart, UserContentPart } from './stored.js';

/**
 * The client-facing LettaMessage union (letta/schemas/letta_message.py at commit 56ba9c2), in
 * camelCase for GraphQL. Several LettaMessages may come from one stored message.
 */

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

export interface LettaMessageBase {
  /** The underlying Message id: several LettaMessages may share one. */
  id: string;
  /**
   * This view's own id, `<message id>:<message type>:<n>` (the n-th view of that type of the stored
   * message), stable and unique: set by `toLettaMessageList`; see `viewIdOf`.
   */
  viewId?: string;
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

/** The view id of a client message: its own, or (a stream's single view) the first of its type. */
export function viewIdOf(message: Pick<LettaMessageBase, 'id' | 'viewId'> & { messageType: string }): string {
  return message.viewId ?? `${message.id}:${message.messageType}:0`;
}

/** A view id's parts, or null for anything else (e.g. a bare stored message id). */
export function parseViewId(value: string): { messageId: string; messageType: string; index: number } | null {
  const match = /^([^:]+):([a-z_]+):(\d{1,4})$/.exec(value);
  return match ? { messageId: match[1]!, messageType: match[2]!, index: Number(match[3]) } : null;
}
