import { ToolExecutionError } from '../../errors.js';
import { CORE_MEMORY_LINE_NUMBER_WARNING } from '../memory.js';
import { expandTabs, pySplitLines } from '../python-str.js';
import { checkNotReadOnly, createBlock, deleteBlock, hasLineNumberPrefix, renameBlock } from './memory-edits.js';
import type { Workspace } from './memory-workspace.js';

/** memory_apply_patch: unified diffs on one block, or Add/Delete/Update/Move operations on several. */

function findAllSubsequences(haystack: readonly string[], needle: readonly string[]): number[] {
  const out: number[] = [];
  const n = needle.length;
  if (n === 0) return out;
  for (let i = 0; i + n <= haystack.length; i++) {
    let match = true;
    for (let j = 0; j < n; j++) {
      if (haystack[i + j] !== needle[j]) {
        match = false;
        break;
      }
    }
    if (match) out.push(i);
  }
  return out;
}

/** Applies a simplified unified diff (hunks of " ", "-", "+" lines, "@@" separators) to a value. */
function applyUnifiedPatch(currentValue: string, patchText: string): string {
  let currentLines = expandTabs(currentValue).split('\n');
  const patchLines = pySplitLines(expandTabs(patchText)).filter(
    (line) => !line.startsWith('*** ') && !line.startsWith('---') && !line.startsWith('+++'),
  );

  const hunks: string[][] = [];
  let hunk: string[] = [];
  for (const line of patchLines) {
    if (line.startsWith('@@')) {
      if (hunk.length > 0) hunks.push(hunk);
      hunk = [];
      continue;
    }
    if (line.startsWith(' ') || line.startsWith('-') || line.startsWith('+')) hunk.push(line);
    else if (line.trim() === '') hunk.push(' '); // a blank line is context for an empty line
    // other lines are metadata and are skipped
  }
  if (hunk.length > 0) hunks.push(hunk);
  if (hunks.length === 0) {
    throw new ToolExecutionError("No applicable hunks found in patch. Ensure lines start with ' ', '-', or '+'.");
  }

  for (const lines of hunks) {
    const expected: string[] = [];
    const replacement: string[] = [];
    for (const line of lines) {
      const body = line.slice(1);
      if (line.startsWith(' ')) {
        expected.push(body);
        replacement.push(body);
      } else if (line.startsWith('-')) expected.push(body);
      else replacement.push(body);
    }
    if (expected.length === 0 && replacement.length > 0) {
      // Pure insertion without context: append at the end.
      currentLines = [...currentLines, ...replacement];
      continue;
    }
    const matches = findAllSubsequences(currentLines, expected);
    if (matches.length === 0) {
      throw new ToolExecutionError(
        'Failed to apply patch: expected hunk context not found in the memory block. ' +
          `Verify the target lines exist and try providing more context. Expected start:\n${expected.slice(0, 4).join('\n')}`,
      );
    }
    if (matches.length > 1) {
      throw new ToolExecutionError(
        'Failed to apply patch: hunk context matched multiple places in the memory block. ' +
          'Please add more unique surrounding context to disambiguate.',
      );
    }
    const start = matches[0]!;
    currentLines = [...currentLines.slice(0, start), ...replacement, ...currentLines.slice(start + expected.length)];
  }
  return currentLines.join('\n');
}

const PATCH_HEADERS = ['*** Add Block:', '*** Delete Block:', '*** Update Block:', '*** Move to:'];

type PatchAction =
  | { kind: 'add'; label: string; description: string; contentLines: string[] }
  | { kind: 'delete'; label: string }
  | { kind: 'update'; label: string; patchLines: string[] }
  | { kind: 'rename'; oldLabel: string; newLabel: string };

type OpenAction = Extract<PatchAction, { kind: 'add' | 'update' }> & { moves: PatchAction[] };

function headerValue(line: string): string {
  return line.slice(line.indexOf(':') + 1).trim();
}

function parseExtendedPatch(patch: string): PatchAction[] {
  const lines = pySplitLines(patch);
  const actions: PatchAction[] = [];
  let current: OpenAction | null = null;
  let lastLabel: string | null = null;
  const flush = () => {
    if (current) {
      const { moves, ...action } = current;
      actions.push(action as PatchAction, ...moves);
    }
    current = null;
  };

  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    if (line.startsWith('*** Add Block:')) {
      flush();
      const label = headerValue(line);
      if (!label) throw new ToolExecutionError('*** Add Block: must specify a non-empty label');
      const action: OpenAction = { kind: 'add', label, description: '', contentLines: [], moves: [] };
      const next = lines[i + 1];
      if (next !== undefined && next.startsWith('Description:')) {
        action.description = headerValue(next);
        i++;
      }
      current = action;
      lastLabel = label;
    } else if (line.startsWith('*** Delete Block:')) {
      flush();
      const label = headerValue(line);
      if (!label) throw new ToolExecutionError('*** Delete Block: must specify a non-empty label');
      actions.push({ kind: 'delete', label });
      lastLabel = label;
    } else if (line.startsWith('*** Update Block:')) {
      flush();
      const label = headerValue(line);
      if (!label) throw new ToolExecutionError('*** Update Block: must specify a non-empty label');
      current = { kind: 'update', label, patchLines: [], moves: [] };
      lastLabel = label;
    } else if (line.startsWith('*** Move to:')) {
      const newLabel = headerValue(line);
      if (!newLabel) throw new ToolExecutionError('*** Move to: must specify a non-empty new label');
      if (lastLabel === null) throw new ToolExecutionError('*** Move to: must follow an Add/Update/Delete header');
      const rename: PatchAction = { kind: 'rename', oldLabel: lastLabel, newLabel };
      // Letta queues the rename *before* the still-open Add/Update action, so that action then
      // targets a label that no longer exists; here it runs after the action it follows
      // (body lines after "*** Move to:" still belong to the open action, as in codex patches).
      const open = current as OpenAction | null;
      if (open) open.moves.push(rename);
      else actions.push(rename);
      lastLabel = newLabel;
    } else if (current) {
      const action = current as OpenAction;
      if (action.kind === 'add') {
        if (line.startsWith('+')) action.contentLines.push(line.slice(1));
        else if (line.trim() === '') action.contentLines.push('');
      } else action.patchLines.push(line);
    }
  }
  flush();
  return actions;
}

/**
 * memory_apply_patch. Letta applies multi-block operations one by one and persists each, so a
 * failure part-way leaves the earlier ones applied; here the call is all-or-nothing.
 */
export function applyPatch(ws: Workspace, label: string, patch: string): string {
  if (hasLineNumberPrefix(patch)) {
    throw new ToolExecutionError(
      'Patch contains a line number prefix, which is not allowed. Do not include line numbers (they are for display only).',
    );
  }
  if (patch.includes(CORE_MEMORY_LINE_NUMBER_WARNING)) {
    throw new ToolExecutionError('Patch contains the line number warning banner, which is not allowed. Provide only the text to edit.');
  }
  const expanded = expandTabs(patch);
  const extended = pySplitLines(expanded).some((line) => PATCH_HEADERS.some((header) => line.startsWith(header)));

  if (!extended) {
    const block = ws.find(label);
    if (!block) throw new ToolExecutionError(`Error: Memory block '${label}' does not exist`);
    checkNotReadOnly(block);
    const newValue = applyUnifiedPatch(block.value, expanded);
    ws.setValue(label, newValue);
    return newValue;
  }

  const actions = parseExtendedPatch(expanded);
  if (actions.length === 0) {
    throw new ToolExecutionError('No operations found. Provide at least one of: *** Add Block, *** Delete Block, *** Update Block.');
  }
  const toPath = (lbl: string) => `/memories/${lbl.trim()}`;
  const results: string[] = [];
  for (const action of actions) {
    switch (action.kind) {
      case 'add': {
        if (ws.find(action.label)) throw new ToolExecutionError(`Error: Memory block '${action.label}' already exists`);
        const content = action.contentLines.join('\n').replace(/\n+$/, '');
        createBlock(ws, toPath(action.label), action.description, content);
        results.push(`Created memory block '${action.label}'`);
        break;
      }
      case 'delete':
        // Letta ignores the "Error performing delete" text of a missing block and reports success.
        deleteBlock(ws, toPath(action.label));
        results.push(`Deleted memory block '${action.label}'`);
        break;
      case 'rename':
        renameBlock(ws, toPath(action.oldLabel), toPath(action.newLabel));
        results.push(`Renamed memory block '${action.oldLabel}' to '${action.newLabel}'`);
        break;
      case 'update': {
        const block = ws.find(action.label);
        if (!block) throw new ToolExecutionError(`Error: Memory block '${action.label}' does not exist`);
        checkNotReadOnly(block);
        ws.setValue(action.label, applyUnifiedPatch(block.value, action.patchLines.join('\n')));
        results.push(`Updated memory block '${action.label}'`);
        break;
      }
    }
  }
  return (
    'Successfully applied memory patch operations. ' +
    'Your system prompt has been recompiled with the updated memory contents and is now active in your context.\n\n' +
    'Operations completed:\n- ' +
    results.join('\n- ')
  );
}
