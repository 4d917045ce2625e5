import type {
  LettaApprovalItem,
  LettaMessage,
  LettaToolCall,
  LettaToolReturn,
  ToolCallMessage,
  ToolReturnMessage,
} from './letta-types.js';
import type { ResolvedOptions } from './options.js';
import type { ApprovalItem, ApprovalReturnItem, OpenAIToolCall, StoredMessage } from './stored.js';
import { assistantContentOf, deriveOtid, parseJsonObject, parseToolResponse, singleText, textOf, toolReturnToText } from './text.js';
import { commonOf, convertContentParts, toLettaToolCall, toolCallsOf } from './convert-parts.js';

/** Conversion of tool calls, tool returns and approvals into LettaMessages. */

/** Letta's `_convert_tool_call_messages`. */
export function convertToolCalls(
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
export function convertToolReturn(message: StoredMessage): ToolReturnMessage {
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

export function convertApproval(message: StoredMessage, opts: ResolvedOptions): LettaMessage[] {
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
