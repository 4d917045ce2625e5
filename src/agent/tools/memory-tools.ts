import { ToolExecutionError } from '../../errors.js';
import { pyReplaceAll } from '../python-str.js';
import {
  checkNotReadOnly,
  createBlock,
  deleteBlock,
  insertLines,
  pathLabel,
  pathLabelFlat,
  rejectPrefix,
  rejectWarning,
  renameBlock,
  replaceOnce,
  updateDescription,
} from './memory-edits.js';
import { applyPatch } from './memory-patch.js';
import { CORE_MEMORY_BLOCK_CHAR_LIMIT, Workspace, type MemoryToolContext, type MemoryToolOutcome } from './memory-workspace.js';
import { bindArguments, type ParamSpec } from './tool-arguments.js';

/**
 * Server-side memory tools, executed on an in-memory view of the agent's blocks, with Letta's
 * behaviour, return values and error texts (letta/services/tool_executor/core_tool_executor.py,
 * snapshot 56ba9c2). Pure: no database. The caller persists what the outcome reports and rebuilds
 * the system prompt.
 *
 * Notes on fidelity:
 * - Errors carry the text Letta puts in the failed tool return (`str(exception)`), including the
 *   quoted KeyError text for an unknown label and Python's TypeError texts for missing or unexpected
 *   arguments. Ill-typed arguments (which Letta does not check) get a Python-style TypeError text.
 * - Block limits are not enforced (Letta stopped enforcing them).
 * - Where Letta's source has a defect, this module does what the tool is meant to do; see the
 *   comments marked "Letta:".
 */

export const MEMORY_TOOL_NAMES: readonly string[] = [
  'core_memory_append',
  'core_memory_replace',
  'memory_replace',
  'memory_insert',
  'memory_rethink',
  'memory_finish_edits',
  'memory',
  'memory_apply_patch',
];

const str = (name: string, optional = false): ParamSpec => ({ name, kind: 'str', optional });
const int = (name: string, optional = false): ParamSpec => ({ name, kind: 'int', optional });

/** Parameters in the order of Letta's executor signatures (the order of "missing" texts). */
export const MEMORY_TOOL_PARAMS: Record<string, readonly ParamSpec[]> = {
  core_memory_append: [str('label'), str('content')],
  core_memory_replace: [str('label'), str('old_content'), str('new_content')],
  memory_replace: [str('label'), str('old_string'), str('new_string')],
  memory_insert: [str('label'), str('new_string'), int('insert_line', true)],
  memory_apply_patch: [str('label'), str('patch')],
  memory_rethink: [str('label'), str('new_memory')],
  memory_finish_edits: [],
  memory: [
    str('command'),
    str('file_text', true),
    str('description', true),
    str('path', true),
    str('old_string', true),
    str('new_string', true),
    int('insert_line', true),
    str('insert_text', true),
    str('old_path', true),
    str('new_path', true),
  ],
};

function memoryOmni(ws: Workspace, a: Record<string, unknown>): string {
  const command = a.command as string;
  const path = a.path as string | undefined;
  const description = a.description as string | undefined;
  switch (command) {
    case 'create':
      if (path === undefined) throw new ToolExecutionError('Error: path is required for create command');
      if (description === undefined) throw new ToolExecutionError('Error: description is required for create command');
      return createBlock(ws, path, description, a.file_text as string | undefined);
    case 'str_replace': {
      if (path === undefined) throw new ToolExecutionError('Error: path is required for str_replace command');
      if (a.old_string === undefined) throw new ToolExecutionError('Error: old_string is required for str_replace command');
      if (a.new_string === undefined) throw new ToolExecutionError('Error: new_string is required for str_replace command');
      return replaceOnce(ws, pathLabel(path), a.old_string as string, a.new_string as string);
    }
    case 'insert': {
      if (path === undefined) throw new ToolExecutionError('Error: path is required for insert command');
      if (a.insert_text === undefined) throw new ToolExecutionError('Error: insert_text is required for insert command');
      // Letta passes insert_line=None through and then fails comparing None with 0; an omitted
      // insert_line appends here, as the -1 default of memory_str_insert intends.
      const insertLine = (a.insert_line as number | undefined) ?? -1;
      return insertLines(ws, pathLabelFlat(path), 'insert_text', a.insert_text as string, insertLine);
    }
    case 'delete':
      if (path === undefined) throw new ToolExecutionError('Error: path is required for delete command');
      return deleteBlock(ws, path);
    case 'rename': {
      const oldPath = a.old_path as string | undefined;
      const newPath = a.new_path as string | undefined;
      if (path && description) return updateDescription(ws, path, description);
      if (oldPath && newPath) return renameBlock(ws, oldPath, newPath);
      throw new ToolExecutionError(
        'Error: path and description are required for update_description command, or old_path and new_path are required for rename command',
      );
    }
    default:
      throw new ToolExecutionError(`Error: Unknown command '${command}'. Supported commands: create, str_replace, insert, delete, rename`);
  }
}

function run(name: string, a: Record<string, unknown>, ws: Workspace): string {
  switch (name) {
    case 'core_memory_append': {
      const label = a.label as string;
      const block = ws.get(label);
      checkNotReadOnly(block);
      const newValue = `${block.value}\n${a.content as string}`;
      ws.setValue(label, newValue);
      return newValue;
    }
    case 'core_memory_replace': {
      const label = a.label as string;
      const oldContent = a.old_content as string;
      const block = ws.get(label);
      checkNotReadOnly(block);
      if (!block.value.includes(oldContent)) {
        throw new ToolExecutionError(`Old content '${oldContent}' not found in memory block '${label}'`);
      }
      const newValue = pyReplaceAll(block.value, oldContent, a.new_content as string);
      ws.setValue(label, newValue);
      return newValue;
    }
    case 'memory_replace':
      return replaceOnce(ws, a.label as string, a.old_string as string, a.new_string as string);
    case 'memory_insert':
      return insertLines(ws, a.label as string, 'new_string', a.new_string as string, (a.insert_line as number | undefined) ?? -1);
    case 'memory_rethink': {
      const label = a.label as string;
      const newMemory = a.new_memory as string;
      const existing = ws.find(label);
      if (existing) checkNotReadOnly(existing);
      rejectPrefix('new_memory', newMemory);
      rejectWarning('new_memory', newMemory);
      // Letta's executor reads `get_block(label).read_only` first, so for a missing label it
      // actually fails with the KeyError text; the creation it then codes for is done here.
      if (existing) ws.setValue(label, newMemory);
      else ws.create({ label, value: newMemory, limit: CORE_MEMORY_BLOCK_CHAR_LIMIT, description: null, readOnly: false });
      return newMemory;
    }
    case 'memory_finish_edits':
      return 'None'; // Letta returns None, which the loop turns into "None"
    case 'memory':
      return memoryOmni(ws, a);
    case 'memory_apply_patch':
      return applyPatch(ws, a.label as string, a.patch as string);
    default:
      throw new ToolExecutionError(`Error executing function ${name}: ValueError: Unknown function: ${name}`);
  }
}

/**
 * Runs a server-side memory tool. On success the context's blocks are updated in place and the
 * outcome lists what to persist; on failure a ToolExecutionError carries the text for the model
 * and the context is left unchanged.
 */
export function executeMemoryTool(name: string, args: unknown, ctx: MemoryToolContext): MemoryToolOutcome {
  const params = MEMORY_TOOL_PARAMS[name];
  if (!params) throw new ToolExecutionError(`Error executing function ${name}: ValueError: Unknown function: ${name}`);
  const bound = bindArguments(name, args, params);
  const ws = new Workspace(ctx);
  const returnValue = run(name, bound, ws);
  return ws.commit(returnValue);
}
