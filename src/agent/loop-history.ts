import type { PromptMessage } from './prompt-builder.js';
import type { NewMessage } from './run-types.js';
import type { EditableBlock } from './tools/memory-workspace.js';
import type { CommittedStep } from './loop.js';

/**
 * The agent loop's context between steps: a run reads its history once and extends it in memory
 * with each committed step, instead of reading it again.
 */

/** Block edits of one step: existing blocks by id, new ones by label. */
export interface BlockEdits {
  changed: Map<string, EditableBlock>;
  created: Map<string, EditableBlock>;
  deleted: Set<string>;
  /** A server tool rebuilt the system prompt (archival insert, file views). */
  contextChanged: boolean;
}

/**
 * The context after a committed step: the step's messages appended and, after a memory edit, the
 * rebuilt system prompt in place of the old one; undefined (read it again) when a server tool
 * changed the context.
 */
export function extendHistory(history: PromptMessage[] | undefined, stepMessages: NewMessage[], committed: CommittedStep, edits: BlockEdits): PromptMessage[] | undefined {
  if (!history || edits.contextChanged) return undefined;
  const memoryChanged = edits.changed.size + edits.created.size + edits.deleted.size > 0;
  if (memoryChanged) {
    if (committed.systemPrompt === undefined || history[0]?.role !== 'system') return undefined;
    history[0] = { ...history[0], content: [{ type: 'text', text: committed.systemPrompt }] };
  }
  history.push(...stepMessages.map(asPromptMessage));
  return history;
}

export function asPromptMessage(message: NewMessage): PromptMessage {
  return {
    role: message.role,
    content: message.content,
    toolCalls: message.toolCalls ?? null,
    toolCallId: message.toolCallId ?? null,
    name: message.name ?? null,
    model: message.model ?? null,
  };
}

