import { CORE_MEMORY_LINE_NUMBER_WARNING } from '../memory.js';
import { ToolExecutionError } from '../../errors.js';

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

export interface EditableBlock {
  id?: string;
  label: string;
  value: string;
  limit: number;
  description: string | null;
  readOnly: boolean;
}

export interface MemoryToolContext {
  /** The agent's blocks keyed by label, in the agent's order. Updated in place on success. */
  blocks: Map<string, EditableBlock>;
  /**
   * Whether memory is shown to the model with "N→ " prefixes (Anthropic endpoints). Informational:
   * as in Letta, the edit tools reject line-number prefixes and the warning whatever its value.
   */
  lineNumbers: boolean;
}

export interface MemoryToolOutcome {
  /** The text returned to the model as the (successful) tool result. */
  returnValue: string;
  /** Existing blocks whose value, description or label changed (renames keep their `id`). */
  changed: EditableBlock[];
  /** Blocks that did not exist before (no `id`). */
  created: EditableBlock[];
  /** Blocks to detach from the agent. */
  deleted: EditableBlock[];
  /** Label changes, in order. The renamed blocks are also in `changed` (or `created`). */
  renamed: Array<{ from: string; to: string }>;
}

/** Letta's CORE_MEMORY_BLOCK_CHAR_LIMIT: the limit of blocks created by the memory tools. */
export const CORE_MEMORY_BLOCK_CHAR_LIMIT = 100_000;

/** Letta's READ_ONLY_BLOCK_EDIT_ERROR. */
export const READ_ONLY_BLOCK_EDIT_ERROR = 'Error This block is read-only and cannot be edited.';

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

export function isMemoryToolName(name: string): boolean {
  return MEMORY_TOOL_NAMES.includes(name);
}

// --- Python string semantics -------------------------------------------------------------------

/**
 * Letta's MEMORY_TOOLS_LINE_NUMBER_PREFIX_REGEX (`^[ \t]*\d+→[ \t]*`, MULTILINE) with Python's
 * semantics: `^` only at the start or after "\n", and `\d` matches any Unicode decimal digit.
 */
const LINE_NUMBER_PREFIX = /(?:^|(?<=\n))[ \t]*\p{Nd}+→/u;

function hasLineNumberPrefix(text: string): boolean {
  return LINE_NUMBER_PREFIX.test(text);
}

/** Python's str.expandtabs() (tab size 8; columns count code points and restart at \n and \r). */
export function expandTabs(text: string, tabSize = 8): string {
  if (!text.includes('\t')) return text;
  let out = '';
  let column = 0;
  for (const char of text) {
    if (char === '\t') {
      if (tabSize > 0) {
        const spaces = tabSize - (column % tabSize);
        out += ' '.repeat(spaces);
        column += spaces;
      }
    } else {
      out += char;
      column = char === '\n' || char === '\r' ? 0 : column + 1;
    }
  }
  return out;
}

function codePoints(text: string): number {
  let n = 0;
  for (const _ of text) n++;
  return n;
}

/** Python's str.count (non-overlapping; an empty needle counts len + 1). */
function pyCount(haystack: string, needle: string): number {
  if (needle === '') return codePoints(haystack) + 1;
  return haystack.split(needle).length - 1;
}

/** Python's str.replace (all occurrences; an empty needle inserts between code points). */
function pyReplaceAll(haystack: string, needle: string, replacement: string): string {
  if (needle === '') return replacement + [...haystack].map((char) => char + replacement).join('');
  return haystack.split(needle).join(replacement);
}

/** Python's str.splitlines(). */
function pySplitLines(text: string): string[] {
  const lines = text.split(/\r\n|[\n\r\v\f\x1c\x1d\x1e\x85\u2028\u2029]/);
  if (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
  return lines;
}

const NON_PRINTABLE = /[\p{Cc}\p{Cf}\p{Cs}\p{Co}\p{Cn}\p{Zl}\p{Zp}\p{Zs}]/u;

/** Python's repr() of a str. */
export function pyRepr(text: string): string {
  const quote = text.includes("'") && !text.includes('"') ? '"' : "'";
  let out = quote;
  for (const char of text) {
    const code = char.codePointAt(0)!;
    if (char === '\\') out += '\\\\';
    else if (char === quote) out += `\\${quote}`;
    else if (char === '\n') out += '\\n';
    else if (char === '\r') out += '\\r';
    else if (char === '\t') out += '\\t';
    else if (char !== ' ' && NON_PRINTABLE.test(char)) {
      if (code <= 0xff) out += `\\x${code.toString(16).padStart(2, '0')}`;
      else if (code <= 0xffff) out += `\\u${code.toString(16).padStart(4, '0')}`;
      else out += `\\U${code.toString(16).padStart(8, '0')}`;
    } else out += char;
  }
  return out + quote;
}

/** Python's type name of a JSON value, for TypeError texts. */
function pyTypeName(value: unknown): string {
  if (value === null || value === undefined) return 'NoneType';
  if (typeof value === 'boolean') return 'bool';
  if (typeof value === 'number') return Number.isInteger(value) ? 'int' : 'float';
  if (typeof value === 'string') return 'str';
  if (Array.isArray(value)) return 'list';
  return 'dict';
}

/** Block values drop NUL bytes (Letta's Block validator). */
function sanitizeValue(value: string): string {
  return value.includes('\x00') ? value.replaceAll('\x00', '') : value;
}

// --- arguments ---------------------------------------------------------------------------------

type ArgKind = 'str' | 'int' | 'list';

export interface ParamSpec {
  name: string;
  kind: ArgKind;
  /** Present when the parameter has a default (it may then also be null). */
  optional?: boolean;
}

/** Keys the agent loop may leave in the arguments; Letta strips them before execution. */
const IGNORED_ARGS = new Set(['request_heartbeat']);

const QUALIFIER = 'LettaCoreToolExecutor';

function formatMissing(names: string[]): string {
  const quoted = names.map((name) => `'${name}'`);
  if (quoted.length === 1) return quoted[0]!;
  if (quoted.length === 2) return `${quoted[0]} and ${quoted[1]}`;
  return `${quoted.slice(0, -1).join(', ')}, and ${quoted[quoted.length - 1]}`;
}

/**
 * Binds JSON arguments to a tool's parameters as Python would call
 * `LettaCoreToolExecutor.<tool>(agent_state, actor, **args)`, then checks their types.
 * Absent optional parameters and JSON nulls for optional parameters come back as undefined.
 */
export function bindArguments(tool: string, args: unknown, params: readonly ParamSpec[], qualifier = QUALIFIER): Record<string, unknown> {
  const fn = `${qualifier}.${tool}()`;
  if (args === undefined || args === null) args = {};
  if (typeof args !== 'object' || Array.isArray(args)) {
    throw new ToolExecutionError(`${fn} argument after ** must be a mapping, not ${pyTypeName(args)}`);
  }
  const given = args as Record<string, unknown>;
  const known = new Set(params.map((param) => param.name));
  for (const key of Object.keys(given)) {
    if (!known.has(key) && !IGNORED_ARGS.has(key)) {
      throw new ToolExecutionError(`${fn} got an unexpected keyword argument '${key}'`);
    }
  }
  const missing = params.filter((param) => !param.optional && !Object.hasOwn(given, param.name)).map((param) => param.name);
  if (missing.length > 0) {
    const noun = missing.length === 1 ? 'argument' : 'arguments';
    throw new ToolExecutionError(`${fn} missing ${missing.length} required positional ${noun}: ${formatMissing(missing)}`);
  }
  const bound: Record<string, unknown> = {};
  for (const param of params) {
    const value = given[param.name];
    if (value === undefined || (value === null && param.optional)) continue;
    const ok =
      param.kind === 'str'
        ? typeof value === 'string'
        : param.kind === 'int'
          ? typeof value === 'number' && Number.isInteger(value)
          : Array.isArray(value);
    if (!ok) throw new ToolExecutionError(`${fn} argument '${param.name}' must be ${param.kind}, not ${pyTypeName(value)}`);
    bound[param.name] = value;
  }
  return bound;
}

const str = (name: string, optional = false): ParamSpec => ({ name, kind: 'str', optional });
const int = (name: string, optional = false): ParamSpec => ({ name, kind: 'int', optional });

/** Parameters in the order of Letta's executor signatures (the order of "missing" texts). */
const PARAMS: Record<string, readonly ParamSpec[]> = {
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

// --- working copy of the blocks ----------------------------------------------------------------

interface Entry {
  block: EditableBlock;
  /** The context's block this entry started from; null for blocks created by this call. */
  origin: EditableBlock | null;
}

/** Edits happen on a copy; the context is only updated when the whole tool call succeeds. */
class Workspace {
  private readonly entries = new Map<string, Entry>();
  private readonly removed: EditableBlock[] = [];
  readonly renamed: Array<{ from: string; to: string }> = [];

  constructor(private readonly ctx: MemoryToolContext) {
    for (const [label, block] of ctx.blocks) this.entries.set(label, { block: { ...block }, origin: block });
  }

  find(label: string): EditableBlock | undefined {
    return this.entries.get(label)?.block;
  }

  /** Letta's Memory.get_block: raises KeyError, whose str() the model sees (quoted). */
  get(label: string): EditableBlock {
    const block = this.find(label);
    if (block) return block;
    const available = [...this.entries.keys()].join(', ');
    throw new ToolExecutionError(pyRepr(`Block field ${label} does not exist (available sections = ${available})`));
  }

  setValue(label: string, value: string): void {
    this.get(label).value = sanitizeValue(value);
  }

  create(block: EditableBlock): void {
    this.entries.set(block.label, { block: { ...block, value: sanitizeValue(block.value) }, origin: null });
  }

  delete(label: string): void {
    const entry = this.entries.get(label);
    if (!entry) return;
    this.entries.delete(label);
    if (entry.origin) this.removed.push(entry.origin);
  }

  rename(from: string, to: string): void {
    if (from === to) return;
    const rebuilt = new Map<string, Entry>();
    for (const [label, entry] of this.entries) {
      if (label === from) {
        entry.block.label = to;
        rebuilt.set(to, entry);
      } else rebuilt.set(label, entry);
    }
    this.entries.clear();
    for (const [label, entry] of rebuilt) this.entries.set(label, entry);
    this.renamed.push({ from, to });
  }

  commit(returnValue: string): MemoryToolOutcome {
    const changed: EditableBlock[] = [];
    const created: EditableBlock[] = [];
    for (const { block, origin } of this.entries.values()) {
      if (!origin) created.push(block);
      else if (
        block.value !== origin.value ||
        block.label !== origin.label ||
        block.description !== origin.description ||
        block.limit !== origin.limit ||
        block.readOnly !== origin.readOnly
      ) {
        changed.push(block);
      }
    }
    this.ctx.blocks.clear();
    for (const [label, { block, origin }] of this.entries) {
      // Untouched blocks keep their original object.
      this.ctx.blocks.set(label, origin && !changed.includes(block) ? origin : block);
    }
    return { returnValue, changed, created, deleted: [...this.removed], renamed: [...this.renamed] };
  }
}

// --- the tools ---------------------------------------------------------------------------------

function checkNotReadOnly(block: EditableBlock): void {
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

function rejectPrefix(argument: string, text: string): void {
  if (hasLineNumberPrefix(text)) throw prefixError(argument);
}

function rejectWarning(argument: string, text: string): void {
  if (text.includes(CORE_MEMORY_LINE_NUMBER_WARNING)) throw warningError(argument);
}

/** Shared by memory_replace and memory(command="str_replace"): exactly one occurrence. */
function replaceOnce(ws: Workspace, label: string, oldString: string, newString: string): string {
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
function insertLines(ws: Workspace, label: string, argument: string, text: string, insertLine: number): string {
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
function pathLabel(path: string): string {
  return removePrefix(removePrefix(path, '/memories/'), '/');
}

/** Label of a `memory` path for insert, delete and rename: also turns "/" into "_". */
function pathLabelFlat(path: string): string {
  return pathLabel(path).replaceAll('/', '_');
}

function removePrefix(text: string, prefix: string): string {
  return text.startsWith(prefix) ? text.slice(prefix.length) : text;
}

function createBlock(ws: Workspace, path: string, description: string, fileText: string | undefined): string {
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
function deleteBlock(ws: Workspace, path: string): string {
  const label = pathLabelFlat(path);
  try {
    ws.get(label);
  } catch (error) {
    return `Error performing delete: ${(error as Error).message}`;
  }
  ws.delete(label);
  return `Successfully deleted memory block '${label}'. Your system prompt has been recompiled without this memory block and is now active in your context.`;
}

function updateDescription(ws: Workspace, path: string, description: string): string {
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

function renameBlock(ws: Workspace, oldPath: string, newPath: string): string {
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

// --- memory_apply_patch ------------------------------------------------------------------------

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
function applyPatch(ws: Workspace, label: string, patch: string): string {
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

// --- entry point -------------------------------------------------------------------------------

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
  const params = PARAMS[name];
  if (!params) throw new ToolExecutionError(`Error executing function ${name}: ValueError: Unknown function: ${name}`);
  const bound = bindArguments(name, args, params);
  const ws = new Workspace(ctx);
  const returnValue = run(name, bound, ws);
  return ws.commit(returnValue);
}
