import { ToolExecutionError } from '../../errors.js';
import { pyRepr } from '../python-str.js';

/** The blocks a memory tool edits, and the working copy that makes a tool call all-or-nothing. */

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

/** Block values drop NUL bytes (Letta's Block validator). */
function sanitizeValue(value: string): string {
  return value.includes('\x00') ? value.replaceAll('\x00', '') : value;
}

interface Entry {
  block: EditableBlock;
  /** The context's block this entry started from; null for blocks created by this call. */
  origin: EditableBlock | null;
}

/** Edits happen on a copy; the context is only updated when the whole tool call succeeds. */
export class Workspace {
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
