import { resolveOptions } from './options.js';
import type { ContentPart, OpenAIToolCall, StoredMessage } from './stored.js';
import { parseJsonObject } from './text.js';

/**
 * Editing a stored message through one of its client views (Letta's modify_message,
 * `update_message_by_letta_message`): the text of a user or system message, an assistant message
 * (a text part, or the `message` argument of a send_message call) or a reasoning message. Pure:
 * returns the stored fields to write, or a reason the view cannot be edited.
 */

export type EditableType = 'user_message' | 'system_message' | 'assistant_message' | 'reasoning_message';

export type MessageEdit =
  | { ok: true; content?: ContentPart[]; toolCalls?: OpenAIToolCall[] }
  | { ok: false; reason: string };

/** Which client view each content part belongs to, following convertContentParts' merging rules. */
function partViews(content: readonly ContentPart[], textIsAssistant: boolean): Array<{ type: string; n: number } | null> {
  const counts = new Map<string, number>();
  let last: { type: string; n: number } | null = null;
  const open = (type: string) => {
    const n = counts.get(type) ?? 0;
    counts.set(type, n + 1);
    last = { type, n };
    return last;
  };
  return content.map((part) => {
    switch (part.type) {
      case 'text':
        if (textIsAssistant) return last?.type === 'assistant_message' ? last : open('assistant_message');
        return open('reasoning_message');
      case 'reasoning':
        return last?.type === 'reasoning_message' ? last : open('reasoning_message');
      case 'summarized_reasoning':
        return part.summary.some((s) => s.text !== '') ? open('reasoning_message') : null;
      case 'redacted_reasoning':
      case 'omitted_reasoning':
        return open('hidden_reasoning_message');
      default:
        return null;
    }
  });
}

/**
 * Replaces the parts of view (type, n) by one part holding `text`: a text part, or native reasoning
 * without its signature (a provider would refuse the old signature with new text).
 */
function replaceParts(content: readonly ContentPart[], views: ReturnType<typeof partViews>, type: string, n: number, text: string): ContentPart[] | null {
  const first = views.findIndex((view) => view?.type === type && view.n === n);
  if (first < 0) return null;
  const kind = content[first]!.type;
  const replacement: ContentPart = kind === 'text' ? { type: 'text', text } : { type: 'reasoning', is_native: true, reasoning: text, signature: null };
  return content.flatMap((part, index) => {
    const view = views[index];
    if (!(view?.type === type && view.n === n)) return [part];
    return index === first ? [replacement] : [];
  });
}

export function editMessage(message: StoredMessage, agentType: string, type: EditableType, n: number, text: string): MessageEdit {
  const opts = resolveOptions({ agentType });
  const content = message.content ?? [];
  switch (type) {
    case 'user_message':
    case 'system_message': {
      const role = type === 'user_message' ? 'user' : 'system';
      if (message.role !== role) return { ok: false, reason: `message ${message.id} is a ${message.role} message, not a ${role} message` };
      return { ok: true, content: [{ type: 'text', text }] };
    }
    case 'reasoning_message': {
      if (message.role !== 'assistant') return { ok: false, reason: `message ${message.id} is a ${message.role} message and has no reasoning` };
      const next = replaceParts(content, partViews(content, opts.textIsAssistantMessage), type, n, text);
      return next ? { ok: true, content: next } : { ok: false, reason: `message ${message.id} has no reasoning message ${n}` };
    }
    case 'assistant_message': {
      if (message.role !== 'assistant') return { ok: false, reason: `message ${message.id} is a ${message.role} message, not an assistant message` };
      const views = partViews(content, opts.textIsAssistantMessage);
      const fromText = new Set(views.filter((view) => view?.type === 'assistant_message').map((view) => view!.n)).size;
      if (n < fromText) return { ok: true, content: replaceParts(content, views, type, n, text)! };
      // Then the calls of the assistant message tool that carry its argument, as the views show them.
      let k = n - fromText;
      const calls = (message.toolCalls ?? []).map((call) => ({ ...call, function: { ...call.function } }));
      for (const call of calls) {
        if (call.function.name !== opts.toolName) continue;
        const args = parseJsonObject(call.function.arguments);
        if (args === null || !(opts.toolKwarg in args)) continue;
        if (k-- > 0) continue;
        call.function.arguments = JSON.stringify({ ...args, [opts.toolKwarg]: text });
        return { ok: true, toolCalls: calls };
      }
      return { ok: false, reason: `message ${message.id} has no assistant message ${n}` };
    }
  }
}
