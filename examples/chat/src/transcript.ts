import type { ChatMessageFragment } from './gql/graphql';
import type { RunEvent } from './follow-run';

/**
 * What the conversation shows: stored messages, plus the text of the step being streamed. Deltas
 * of a step are shown live; once the step's messages arrive they replace them.
 */
export type ItemKind = 'user' | 'assistant' | 'reasoning' | 'tool-call' | 'tool-return' | 'approval';

export interface Item {
  key: string;
  kind: ItemKind;
  text: string;
  toolName?: string;
  stepId?: string | null;
  live?: boolean;
  /** Streamed text of a step that was cancelled: shown, but never stored. */
  cancelled?: boolean;
  failed?: boolean;
}

export function itemsOfMessage(message: ChatMessageFragment): Item[] {
  // One stored message can become several (reasoning + tool call share an id): key by type too.
  const base = { key: `${message.id}:${message.__typename}`, stepId: message.stepId };
  switch (message.__typename) {
    case 'UserMessage':
      return [{ ...base, key: message.otid ?? message.id, kind: 'user', text: message.content }];
    case 'AssistantMessage':
      return [{ ...base, kind: 'assistant', text: message.content }];
    case 'ReasoningMessage':
      return [{ ...base, kind: 'reasoning', text: message.reasoning }];
    case 'ToolCallMessage':
      return [{ ...base, kind: 'tool-call', text: message.toolCall.arguments, toolName: message.toolCall.name }];
    case 'ToolReturnMessage':
      return [{ ...base, kind: 'tool-return', text: message.toolReturn, failed: message.status !== 'SUCCESS' }];
    case 'ApprovalRequestMessage':
      return message.toolCalls.map((call) => ({ ...base, key: `${message.id}:${call.toolCallId}`, kind: 'approval', text: call.arguments, toolName: call.name }));
    default:
      return [];
  }
}

const DELTA_KINDS: Record<string, ItemKind> = { ASSISTANT: 'assistant', REASONING: 'reasoning', TOOL_CALL: 'tool-call' };

/** The transcript after one run event. */
export function applyRunEvent(items: Item[], event: RunEvent): Item[] {
  if (event.__typename === 'MessageDeltaEvent') {
    const key = `live:${event.stepId}:${event.kind}:${event.toolCallId ?? ''}`;
    const index = items.findIndex((item) => item.key === key);
    if (index < 0) {
      const kind = DELTA_KINDS[event.kind] ?? 'assistant';
      return [...items, { key, kind, text: event.delta, toolName: event.toolName ?? undefined, stepId: event.stepId, live: true }];
    }
    const next = items.slice();
    next[index] = { ...items[index]!, text: items[index]!.text + event.delta };
    return next;
  }
  if (event.__typename === 'MessageEvent') {
    const message = event.message;
    const arriving = itemsOfMessage(message);
    const keys = new Set(arriving.map((item) => item.key));
    const kept = items.filter((item) => !keys.has(item.key) && !(item.live && item.stepId === message.stepId));
    return [...kept, ...arriving];
  }
  return items;
}
