import { ToolExecutionError } from '../../errors.js';
import { CORE_MEMORY_LINE_NUMBER_WARNING } from '../memory.js';
import { expandTabs, pyCount, pyReplaceAll } from '../python-str.js';
import { CORE_MEMORY_BLOCK_CHAR_LIMIT, READ_ONLY_BLOCK_EDIT_ERROR, type EditableBlock, type Workspace } from './memory-workspace.js';

/** Block edits shared by the memory tools (Letta's core_tool_executor.py helpers). */

/**
 * Letta's MEMORY_TOOLS_LINE_NUMBER_PREFIX_REGEX (`^[ \t]*\d+→[ \t]*`, MULTILINE) with Python's
 * semantics: `^` only at the start or after "\n", and `\d` matches any Unicode decimal digit.
 */
const LINE_NUMBER_PREFIX = /(?:^|(?<=\n))[ \t]*\p{Nd}+→/u;

export function hasLineNumberPrefix(text: string): boolean {
  return LINE_NUMBER_PREFIX.test(text);
}

export function checkNotReadOnly(block: EditableBlock): void {
  if (block.readOnly) throw new ToolExecutionError(READ_ONLY_BLOCK_EDIT_ERROR);
}

function prefixError(argument: string): ToolExecutionError {
  return new ToolExecutionError(
    `${argument} contains a line number prefix, which is not allowed. Do not include line numbers when calling memory tools (line numbers are for display purposes only).`,
  );
}

function warningError(argument: string): ToolExecutionError {
  return new ToolExecutionError(
    `${argument} contains a line number warning, which is not allowed. Do not include line number information when calling memory tools (line numbers are for display purposes only).`,
  );
}

export function rejectPrefix(argument: string, text: string): void {
  if (hasLineNumberPrefix(text)) throw prefixError(argument);
}

export function rejectWarning(argument: string, text: string): void {
  if (text.includes(CORE_MEMORY_LINE_NUMBER_WARNING)) throw warningError(argument);
}

/** Shared by memory_replace and memory(command="str_replace"): exactly one occurrence. */
export function replaceOnce(ws: Workspace, label: string, oldString: string, newString: string): string {
  const block = ws.get(label);
  checkNotReadOnly(block);
  // Letta checks old_string for prefixes and the warning, new_string only for prefixes.
  rejectPrefix('old_string', oldString);
  rejectWarning('old_string', oldString);
  rejectPrefix('new_string', newString);

  const oldText = expandTabs(oldString);
  const newText = expandTabs(newString);
  const current = expandTabs(block.value);
  const occurrences = pyCount(current, oldText);
  if (occurrences === 0) {
    throw new ToolExecutionError(
      `No replacement was performed, old_string \`${oldText}\` did not appear verbatim in memory block with label \`${label}\`.`,
    );
  }
  if (occurrences > 1) {
    const lines = current
      .split('\n')
      .flatMap((line, index) => (line.includes(oldText) ? [index + 1] : []));
    throw new ToolExecutionError(
      `No replacement was performed. Multiple occurrences of old_string \`${oldText}\` in lines [${lines.join(', ')}]. Please ensure it is unique.`,
    );
  }
  const newValue = pyReplaceAll(current, oldText, newText);
  ws.setValue(label, newValue);
  return newValue;
}

/** Shared by memory_insert and memory(command="insert"). */
export function insertLines(ws: Workspace, label: string, argument: string, text: string, insertLine: number): string {
  const block = ws.get(label);
  checkNotReadOnly(block);
  rejectPrefix(argument, text);
  rejectWarning(argument, text);

  const currentLines = expandTabs(block.value).split('\n');
  const nLines = currentLines.length;
  let at = insertLine;
  if (at === -1) at = nLines;
  else if (at < 0 || at > nLines) {
    throw new ToolExecutionError(
      `Invalid \`insert_line\` parameter: ${insertLine}. It should be within the range of lines of the memory block: [0, ${nLines}], or -1 to append to the end of the memory block.`,
    );
  }
  const newValue = [...currentLines.slice(0, at), ...expandTabs(text).split('\n'), ...currentLines.slice(at)].join('\n');
  ws.setValue(label, newValue);
  return newValue;
}

/** Label of a `memory` path for create and str_replace: "/memories/notes" → "notes". */
export function pathLabel(path: string): string {
  return removePrefix(removePrefix(path, '/memories/'), '/');
}

/** Label of a `memory` path for insert, delete and rename: also turns "/" into "_". */
export function pathLabelFlat(path: string): string {
  return pathLabel(path).replaceAll('/', '_');
}

function removePrefix(text: string, prefix: string): string {
  return text.startsWith(prefix) ? text.slice(prefix.length) : text;
}

export function createBlock(ws: Workspace, path: string, description: string, fileText: string | undefined): string {
  const label = pathLabel(path);
  // Letta: no check here; a duplicate label then fails on the unique (agent, label) constraint.
  if (label === '') throw new ToolExecutionError('Error: path is required for create command');
  if (ws.find(label)) throw new ToolExecutionError(`Error: Memory block '${label}' already exists`);
  ws.create({ label, value: fileText ? fileText : '', limit: CORE_MEMORY_BLOCK_CHAR_LIMIT, description, readOnly: false });
  return `Successfully created memory block '${label}'. Your system prompt has been recompiled with the new memory block and is now active in your context.`;
}

/**
 * memory(command="delete"). Letta reports a missing block as a *successful* result whose text
 * starts with "Error performing delete:", and does not check read_only (it only detaches).
 */
export function deleteBlock(ws: Workspace, path: string): string {
  const label = pathLabelFlat(path);
  try {
    ws.get(label);
  } catch (error) {
    return `Error performing delete: ${(error as Error).message}`;
  }
  ws.delete(label);
  return `Successfully deleted memory block '${label}'. Your system prompt has been recompiled without this memory block and is now active in your context.`;
}

export function updateDescription(ws: Workspace, path: string, description: string): string {
  const label = pathLabelFlat(path);
  let block: EditableBlock;
  try {
    block = ws.get(label);
  } catch (error) {
    throw new ToolExecutionError(`Error performing update_description: ${(error as Error).message}`);
  }
  block.description = description;
  return `Successfully updated description of memory block '${label}'. Your system prompt has been recompiled with the updated description and is now active in your context.`;
}

export function renameBlock(ws: Workspace, oldPath: string, newPath: string): string {
  const oldLabel = pathLabelFlat(oldPath);
  const newLabel = pathLabelFlat(newPath);
  try {
    ws.get(oldLabel);
  } catch (error) {
    throw new ToolExecutionError(`Error performing rename: ${(error as Error).message}`);
  }
  // Letta: these two surface as database errors; the texts here are ours.
  if (newLabel === '') throw new ToolExecutionError('Error performing rename: the new label must not be empty');
  if (newLabel !== oldLabel && ws.find(newLabel)) {
    throw new ToolExecutionError(`Error performing rename: Memory block '${newLabel}' already exists`);
  }
  ws.rename(oldLabel, newLabel);
  return `Successfully renamed memory block '${oldLabel}' to '${newLabel}'. Your system prompt has been recompiled with the renamed memory block and is now active in your context.`;
}
