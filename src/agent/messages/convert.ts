import { convertContentParts, commonOf, toolCallsOf } from './convert-parts.js';
import { convertApproval, convertToolCalls, convertToolReturn } from './convert-tools.js';
import type { CompactionStats, LettaMessage, SummaryMessage, SystemMessage, UserMessage } from './letta-types.js';
import { resolveOptions, type ToLettaMessageListOptions, type ToLettaMessagesOptions } from './options.js';
import type { StoredMessage, UserContentPart } from './stored.js';
import { isPlainObject, parseJsonObject, singleText, textOf, unpackMessage } from './text.js';

/**
 * Conversion of persisted messages into the client-facing LettaMessage union, as Letta
 * does it (letta/schemas/message.py `Message.to_letta_messages` and
 * `Message.to_letta_messages_from_list`, letta/schemas/letta_message.py,
 * letta/schemas/letta_message_content.py at commit 56ba9c2). Pure functions: no database.
 *
 * JSON stored in the `content`, `toolCalls`, `toolReturns` and `approvals` columns keeps Letta's
 * snake_case keys; the LettaMessage objects produced here use camelCase for GraphQL.
 */

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
  // View ids are given before filtering, so that a view has the same id whatever the filter.
  const out = kept.flatMap((m) => {
    const counts = new Map<string, number>();
    return toLettaMessages(m, options).map((view) => {
      const n = counts.get(view.messageType) ?? 0;
      counts.set(view.messageType, n + 1);
      return { ...view, viewId: `${view.id}:${view.messageType}:${n}` };
    });
  });
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
