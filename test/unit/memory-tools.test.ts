import { describe, expect, it } from 'vitest';
import { CORE_MEMORY_LINE_NUMBER_WARNING } from '../../src/agent/memory.js';
import { expandTabs, pyRepr } from '../../src/agent/python-str.js';
import { MEMORY_TOOL_NAMES, executeMemoryTool } from '../../src/agent/tools/memory-tools.js';
import { CORE_MEMORY_BLOCK_CHAR_LIMIT, READ_ONLY_BLOCK_EDIT_ERROR, type EditableBlock, type MemoryToolContext } from '../../src/agent/tools/memory-workspace.js';
import { ToolExecutionError } from '../../src/errors.js';

function block(label: string, value: string, extra: Partial<EditableBlock> = {}): EditableBlock {
  return { id: `block-${label}`, label, value, limit: 5000, description: null, readOnly: false, ...extra };
}

function context(...blocks: EditableBlock[]): MemoryToolContext {
  return { blocks: new Map(blocks.map((b) => [b.label, b])), lineNumbers: false };
}

function standard(): MemoryToolContext {
  return context(
    block('human', 'Name: Ann\nLikes cats\nLikes dogs'),
    block('persona', 'I am a helpful assistant.', { readOnly: true, description: 'The persona' }),
  );
}

/** The error text the model would see, or fails when the call succeeds. */
function errorOf(name: string, args: unknown, ctx: MemoryToolContext = standard()): string {
  try {
    executeMemoryTool(name, args, ctx);
  } catch (error) {
    expect(error).toBeInstanceOf(ToolExecutionError);
    return (error as Error).message;
  }
  throw new Error(`${name} unexpectedly succeeded`);
}

const UNKNOWN_HUMANX = "'Block field nobody does not exist (available sections = human, persona)'";
const PREFIX_TEXT =
  'contains a line number prefix, which is not allowed. Do not include line numbers when calling memory tools (line numbers are for display purposes only).';
const WARNING_TEXT =
  'contains a line number warning, which is not allowed. Do not include line number information when calling memory tools (line numbers are for display purposes only).';

describe('MEMORY_TOOL_NAMES', () => {
  it('lists the server-side memory tools', () => {
    expect([...MEMORY_TOOL_NAMES].sort()).toEqual(
      [
        'core_memory_append',
        'core_memory_replace',
        'memory',
        'memory_apply_patch',
        'memory_finish_edits',
        'memory_insert',
        'memory_replace',
        'memory_rethink',
      ].sort(),
    );
  });

  it('rejects an unknown tool with Letta’s text', () => {
    expect(errorOf('memory_view', {})).toBe('Error executing function memory_view: ValueError: Unknown function: memory_view');
  });
});

describe('argument binding', () => {
  it('names missing arguments like Python does', () => {
    expect(errorOf('memory_replace', { label: 'human', old_string: 'x' })).toBe(
      "LettaCoreToolExecutor.memory_replace() missing 1 required positional argument: 'new_string'",
    );
    expect(errorOf('memory_replace', { label: 'human' })).toBe(
      "LettaCoreToolExecutor.memory_replace() missing 2 required positional arguments: 'old_string' and 'new_string'",
    );
    expect(errorOf('core_memory_replace', {})).toBe(
      "LettaCoreToolExecutor.core_memory_replace() missing 3 required positional arguments: 'label', 'old_content', and 'new_content'",
    );
    expect(errorOf('memory', {})).toBe("LettaCoreToolExecutor.memory() missing 1 required positional argument: 'command'");
  });

  it('rejects unexpected arguments but ignores request_heartbeat', () => {
    expect(errorOf('core_memory_append', { label: 'human', content: 'x', mood: 'happy' })).toBe(
      "LettaCoreToolExecutor.core_memory_append() got an unexpected keyword argument 'mood'",
    );
    expect(errorOf('memory_finish_edits', { foo: 1 })).toBe(
      "LettaCoreToolExecutor.memory_finish_edits() got an unexpected keyword argument 'foo'",
    );
    const ctx = standard();
    executeMemoryTool('core_memory_append', { label: 'human', content: 'x', request_heartbeat: true }, ctx);
    expect(ctx.blocks.get('human')!.value.endsWith('\nx')).toBe(true);
  });

  it('names ill-typed arguments', () => {
    expect(errorOf('memory_replace', { label: 'human', old_string: 5, new_string: 'x' })).toBe(
      "LettaCoreToolExecutor.memory_replace() argument 'old_string' must be str, not int",
    );
    expect(errorOf('memory_replace', { label: 'human', old_string: 'x', new_string: null })).toBe(
      "LettaCoreToolExecutor.memory_replace() argument 'new_string' must be str, not NoneType",
    );
    expect(errorOf('memory_insert', { label: 'human', new_string: 'x', insert_line: '2' })).toBe(
      "LettaCoreToolExecutor.memory_insert() argument 'insert_line' must be int, not str",
    );
    expect(errorOf('memory_insert', { label: 'human', new_string: 'x', insert_line: 1.5 })).toBe(
      "LettaCoreToolExecutor.memory_insert() argument 'insert_line' must be int, not float",
    );
    expect(errorOf('memory', { command: 'create', path: ['a'], description: 'd' })).toBe(
      "LettaCoreToolExecutor.memory() argument 'path' must be str, not list",
    );
    expect(errorOf('core_memory_append', [1, 2])).toBe(
      'LettaCoreToolExecutor.core_memory_append() argument after ** must be a mapping, not list',
    );
  });
});

describe('unknown labels and read-only blocks', () => {
  const edits: Array<[string, Record<string, unknown>]> = [
    ['core_memory_append', { content: 'x' }],
    ['core_memory_replace', { old_content: 'x', new_content: 'y' }],
    ['memory_replace', { old_string: 'x', new_string: 'y' }],
    ['memory_insert', { new_string: 'x' }],
  ];

  it.each(edits)('%s reports an unknown label with the quoted KeyError text', (name, args) => {
    expect(errorOf(name, { label: 'nobody', ...args })).toBe(UNKNOWN_HUMANX);
  });

  it.each([...edits, ['memory_rethink', { new_memory: 'x' }] as [string, Record<string, unknown>]])(
    '%s refuses a read-only block',
    (name, args) => {
      const ctx = standard();
      expect(errorOf(name, { label: 'persona', ...args }, ctx)).toBe(READ_ONLY_BLOCK_EDIT_ERROR);
      expect(ctx.blocks.get('persona')!.value).toBe('I am a helpful assistant.');
    },
  );

  it('uses Letta’s exact read-only text', () => {
    expect(READ_ONLY_BLOCK_EDIT_ERROR).toBe('Error This block is read-only and cannot be edited.');
  });

  it('quotes like Python repr', () => {
    expect(pyRepr("it's")).toBe('"it\'s"');
    expect(pyRepr('a\tb\n\x00')).toBe("'a\\tb\\n\\x00'");
    expect(errorOf('core_memory_append', { label: "o'neil", content: 'x' }, context())).toBe(
      `"Block field o'neil does not exist (available sections = )"`,
    );
  });
});

describe('core_memory_append', () => {
  it('appends on a new line and returns the new value', () => {
    const ctx = standard();
    const original = ctx.blocks.get('human')!;
    const persona = ctx.blocks.get('persona')!;
    const outcome = executeMemoryTool('core_memory_append', { label: 'human', content: 'Has a sister' }, ctx);
    expect(outcome.returnValue).toBe('Name: Ann\nLikes cats\nLikes dogs\nHas a sister');
    expect(outcome.changed).toHaveLength(1);
    expect(outcome.changed[0]).toMatchObject({ id: 'block-human', label: 'human', value: outcome.returnValue });
    expect(outcome.created).toEqual([]);
    expect(ctx.blocks.get('human')!.value).toBe(outcome.returnValue);
    // The caller's block objects are not mutated; the map holds the new one.
    expect(original.value).toBe('Name: Ann\nLikes cats\nLikes dogs');
    expect(ctx.blocks.get('persona')).toBe(persona);
  });

  it('does not enforce the block limit', () => {
    const ctx = context(block('tiny', 'abc', { limit: 5 }));
    const outcome = executeMemoryTool('core_memory_append', { label: 'tiny', content: 'more than five characters' }, ctx);
    expect(outcome.returnValue).toBe('abc\nmore than five characters');
  });
});

describe('core_memory_replace', () => {
  it('replaces every occurrence', () => {
    const ctx = standard();
    const outcome = executeMemoryTool('core_memory_replace', { label: 'human', old_content: 'Likes', new_content: 'Loves' }, ctx);
    expect(outcome.returnValue).toBe('Name: Ann\nLoves cats\nLoves dogs');
    expect(ctx.blocks.get('human')!.value).toBe('Name: Ann\nLoves cats\nLoves dogs');
  });

  it('deletes with an empty new_content', () => {
    const outcome = executeMemoryTool('core_memory_replace', { label: 'human', old_content: '\nLikes dogs', new_content: '' }, standard());
    expect(outcome.returnValue).toBe('Name: Ann\nLikes cats');
  });

  it('errors when the old content is absent', () => {
    expect(errorOf('core_memory_replace', { label: 'human', old_content: 'Likes birds', new_content: 'x' })).toBe(
      "Old content 'Likes birds' not found in memory block 'human'",
    );
  });
});

describe('memory_replace', () => {
  it('replaces a unique string and returns the new value', () => {
    const ctx = standard();
    const outcome = executeMemoryTool('memory_replace', { label: 'human', old_string: 'Likes cats', new_string: 'Loves cats' }, ctx);
    expect(outcome.returnValue).toBe('Name: Ann\nLoves cats\nLikes dogs');
    expect(outcome.changed.map((b) => b.label)).toEqual(['human']);
  });

  it('reports no match', () => {
    expect(errorOf('memory_replace', { label: 'human', old_string: 'Likes birds', new_string: 'x' })).toBe(
      'No replacement was performed, old_string `Likes birds` did not appear verbatim in memory block with label `human`.',
    );
  });

  it('reports several matches with their line numbers', () => {
    expect(errorOf('memory_replace', { label: 'human', old_string: 'Likes', new_string: 'x' })).toBe(
      'No replacement was performed. Multiple occurrences of old_string `Likes` in lines [2, 3]. Please ensure it is unique.',
    );
    const ctx = context(block('notes', 'a a\nb'));
    expect(errorOf('memory_replace', { label: 'notes', old_string: 'a', new_string: 'x' }, ctx)).toBe(
      'No replacement was performed. Multiple occurrences of old_string `a` in lines [1]. Please ensure it is unique.',
    );
  });

  it('expands tabs in the block and the arguments', () => {
    const ctx = context(block('notes', 'key:\tvalue\nother'));
    const outcome = executeMemoryTool('memory_replace', { label: 'notes', old_string: 'key:\tvalue', new_string: 'k:\tv' }, ctx);
    expect(outcome.returnValue).toBe('k:      v\nother');
    expect(expandTabs('ab\tc\r\td')).toBe('ab      c\r        d');
  });

  it('rejects line-number prefixes and the warning', () => {
    expect(errorOf('memory_replace', { label: 'human', old_string: '2→ Likes cats', new_string: 'x' })).toBe(`old_string ${PREFIX_TEXT}`);
    expect(errorOf('memory_replace', { label: 'human', old_string: 'Name: Ann\n  3→ Likes', new_string: 'x' })).toBe(
      `old_string ${PREFIX_TEXT}`,
    );
    expect(errorOf('memory_replace', { label: 'human', old_string: `${CORE_MEMORY_LINE_NUMBER_WARNING}\nLikes cats`, new_string: 'x' })).toBe(
      `old_string ${WARNING_TEXT}`,
    );
    expect(errorOf('memory_replace', { label: 'human', old_string: 'Likes cats', new_string: '2→ Loves cats' })).toBe(
      `new_string ${PREFIX_TEXT}`,
    );
  });

  it('accepts arrows that are not line-number prefixes', () => {
    const outcome = executeMemoryTool('memory_replace', { label: 'human', old_string: 'Likes cats', new_string: 'cats → dogs (2→3)' }, standard());
    expect(outcome.returnValue).toContain('cats → dogs (2→3)');
  });
});

describe('memory_insert', () => {
  const value = 'one\ntwo\nthree';

  it.each([
    [0, 'new\none\ntwo\nthree'],
    [1, 'one\nnew\ntwo\nthree'],
    [3, 'one\ntwo\nthree\nnew'],
    [-1, 'one\ntwo\nthree\nnew'],
  ])('insert_line=%i', (insertLine, expected) => {
    const ctx = context(block('notes', value));
    const outcome = executeMemoryTool('memory_insert', { label: 'notes', new_string: 'new', insert_line: insertLine }, ctx);
    expect(outcome.returnValue).toBe(expected);
    expect(ctx.blocks.get('notes')!.value).toBe(expected);
  });

  it('appends by default and inserts several lines', () => {
    const outcome = executeMemoryTool('memory_insert', { label: 'notes', new_string: 'a\nb' }, context(block('notes', value)));
    expect(outcome.returnValue).toBe('one\ntwo\nthree\na\nb');
  });

  it('treats an empty block as one empty line', () => {
    const outcome = executeMemoryTool('memory_insert', { label: 'notes', new_string: 'x' }, context(block('notes', '')));
    expect(outcome.returnValue).toBe('\nx');
  });

  it.each([4, -2])('rejects insert_line=%i', (insertLine) => {
    expect(errorOf('memory_insert', { label: 'notes', new_string: 'x', insert_line: insertLine }, context(block('notes', value)))).toBe(
      `Invalid \`insert_line\` parameter: ${insertLine}. It should be within the range of lines of the memory block: [0, 3], or -1 to append to the end of the memory block.`,
    );
  });

  it('rejects line-number prefixes and the warning', () => {
    expect(errorOf('memory_insert', { label: 'human', new_string: '4→ Has a sister' })).toBe(`new_string ${PREFIX_TEXT}`);
    expect(errorOf('memory_insert', { label: 'human', new_string: CORE_MEMORY_LINE_NUMBER_WARNING })).toBe(`new_string ${WARNING_TEXT}`);
  });
});

describe('memory_rethink', () => {
  it('replaces the whole value', () => {
    const ctx = standard();
    const outcome = executeMemoryTool('memory_rethink', { label: 'human', new_memory: 'Ann likes animals.' }, ctx);
    expect(outcome.returnValue).toBe('Ann likes animals.');
    expect(outcome.changed.map((b) => [b.id, b.value])).toEqual([['block-human', 'Ann likes animals.']]);
    expect(outcome.created).toEqual([]);
  });

  it('creates a missing block with the default limit', () => {
    const ctx = standard();
    const outcome = executeMemoryTool('memory_rethink', { label: 'plans', new_memory: 'Trip to Japan' }, ctx);
    expect(outcome.returnValue).toBe('Trip to Japan');
    expect(outcome.changed).toEqual([]);
    expect(outcome.created).toEqual([
      { label: 'plans', value: 'Trip to Japan', limit: CORE_MEMORY_BLOCK_CHAR_LIMIT, description: null, readOnly: false },
    ]);
    expect(CORE_MEMORY_BLOCK_CHAR_LIMIT).toBe(100000);
    expect([...ctx.blocks.keys()]).toEqual(['human', 'persona', 'plans']);
  });

  it('rejects line-number prefixes and the warning', () => {
    expect(errorOf('memory_rethink', { label: 'human', new_memory: '1→ Name: Ann' })).toBe(`new_memory ${PREFIX_TEXT}`);
    expect(errorOf('memory_rethink', { label: 'human', new_memory: `x ${CORE_MEMORY_LINE_NUMBER_WARNING}` })).toBe(`new_memory ${WARNING_TEXT}`);
  });

  it('strips NUL bytes from the stored value', () => {
    const ctx = standard();
    executeMemoryTool('memory_rethink', { label: 'human', new_memory: 'a\x00b' }, ctx);
    expect(ctx.blocks.get('human')!.value).toBe('ab');
  });
});

describe('memory_finish_edits', () => {
  it('changes nothing and returns "None"', () => {
    const ctx = standard();
    const before = [...ctx.blocks.values()];
    const outcome = executeMemoryTool('memory_finish_edits', {}, ctx);
    expect(outcome).toEqual({ returnValue: 'None', changed: [], created: [], deleted: [], renamed: [] });
    expect([...ctx.blocks.values()]).toEqual(before);
    expect(executeMemoryTool('memory_finish_edits', undefined, ctx).returnValue).toBe('None');
  });
});

describe('memory (omni tool)', () => {
  it('create: makes a block from the last part of the path', () => {
    const ctx = standard();
    const outcome = executeMemoryTool(
      'memory',
      { command: 'create', path: '/memories/travel', description: 'Trips', file_text: 'Japan in April' },
      ctx,
    );
    expect(outcome.returnValue).toBe(
      "Successfully created memory block 'travel'. Your system prompt has been recompiled with the new memory block and is now active in your context.",
    );
    expect(outcome.created).toEqual([
      { label: 'travel', value: 'Japan in April', limit: 100000, description: 'Trips', readOnly: false },
    ]);
    expect(ctx.blocks.has('travel')).toBe(true);
  });

  it('create: empty value without file_text; keeps inner slashes in the label', () => {
    const outcome = executeMemoryTool('memory', { command: 'create', path: 'projects/x', description: '' }, standard());
    expect(outcome.created[0]).toMatchObject({ label: 'projects/x', value: '', description: '' });
  });

  it('create: requires path and description and refuses an existing label', () => {
    expect(errorOf('memory', { command: 'create', description: 'd' })).toBe('Error: path is required for create command');
    expect(errorOf('memory', { command: 'create', path: '/memories/x' })).toBe('Error: description is required for create command');
    expect(errorOf('memory', { command: 'create', path: '/memories/human', description: 'd' })).toBe(
      "Error: Memory block 'human' already exists",
    );
  });

  it('str_replace: exactly-once replacement on the block at path', () => {
    const ctx = standard();
    const outcome = executeMemoryTool(
      'memory',
      { command: 'str_replace', path: '/memories/human', old_string: 'Likes dogs', new_string: 'Likes birds' },
      ctx,
    );
    expect(outcome.returnValue).toBe('Name: Ann\nLikes cats\nLikes birds');
    expect(errorOf('memory', { command: 'str_replace', path: '/memories/human', old_string: 'Likes', new_string: 'x' })).toBe(
      'No replacement was performed. Multiple occurrences of old_string `Likes` in lines [2, 3]. Please ensure it is unique.',
    );
    expect(errorOf('memory', { command: 'str_replace', path: '/memories/persona', old_string: 'I', new_string: 'x' })).toBe(
      READ_ONLY_BLOCK_EDIT_ERROR,
    );
    expect(errorOf('memory', { command: 'str_replace', path: '/memories/nobody', old_string: 'I', new_string: 'x' })).toBe(UNKNOWN_HUMANX);
  });

  it('str_replace: argument checks', () => {
    expect(errorOf('memory', { command: 'str_replace', old_string: 'a', new_string: 'b' })).toBe('Error: path is required for str_replace command');
    expect(errorOf('memory', { command: 'str_replace', path: '/memories/human', new_string: 'b' })).toBe(
      'Error: old_string is required for str_replace command',
    );
    expect(errorOf('memory', { command: 'str_replace', path: '/memories/human', old_string: 'a', new_string: null })).toBe(
      'Error: new_string is required for str_replace command',
    );
    expect(errorOf('memory', { command: 'str_replace', path: '/memories/human', old_string: '1→ Name', new_string: 'b' })).toBe(
      `old_string ${PREFIX_TEXT}`,
    );
  });

  it('insert: at a line, at the top, and appending when insert_line is omitted', () => {
    const top = executeMemoryTool('memory', { command: 'insert', path: '/memories/human', insert_line: 0, insert_text: 'Age: 30' }, standard());
    expect(top.returnValue).toBe('Age: 30\nName: Ann\nLikes cats\nLikes dogs');
    const end = executeMemoryTool('memory', { command: 'insert', path: '/memories/human', insert_text: 'Age: 30' }, standard());
    expect(end.returnValue).toBe('Name: Ann\nLikes cats\nLikes dogs\nAge: 30');
    expect(errorOf('memory', { command: 'insert', path: '/memories/human', insert_line: 7, insert_text: 'x' })).toBe(
      'Invalid `insert_line` parameter: 7. It should be within the range of lines of the memory block: [0, 3], or -1 to append to the end of the memory block.',
    );
    expect(errorOf('memory', { command: 'insert', path: '/memories/human', insert_text: '9→ x' })).toBe(`insert_text ${PREFIX_TEXT}`);
    expect(errorOf('memory', { command: 'insert', path: '/memories/human', insert_text: CORE_MEMORY_LINE_NUMBER_WARNING })).toBe(
      `insert_text ${WARNING_TEXT}`,
    );
    expect(errorOf('memory', { command: 'insert', insert_text: 'x' })).toBe('Error: path is required for insert command');
    expect(errorOf('memory', { command: 'insert', path: '/memories/human' })).toBe('Error: insert_text is required for insert command');
  });

  it('insert: maps "/" inside the path to "_"', () => {
    const ctx = context(block('a_b', 'x'));
    const outcome = executeMemoryTool('memory', { command: 'insert', path: '/memories/a/b', insert_text: 'y' }, ctx);
    expect(outcome.returnValue).toBe('x\ny');
  });

  it('delete: detaches the block', () => {
    const ctx = standard();
    const outcome = executeMemoryTool('memory', { command: 'delete', path: '/memories/human' }, ctx);
    expect(outcome.returnValue).toBe(
      "Successfully deleted memory block 'human'. Your system prompt has been recompiled without this memory block and is now active in your context.",
    );
    expect(outcome.deleted.map((b) => b.id)).toEqual(['block-human']);
    expect([...ctx.blocks.keys()]).toEqual(['persona']);
  });

  it('delete: a missing block is reported in a successful result, as Letta does', () => {
    const outcome = executeMemoryTool('memory', { command: 'delete', path: '/memories/nobody' }, standard());
    expect(outcome.returnValue).toBe(`Error performing delete: ${UNKNOWN_HUMANX}`);
    expect(outcome.deleted).toEqual([]);
    expect(errorOf('memory', { command: 'delete' })).toBe('Error: path is required for delete command');
  });

  it('rename: changes the label and keeps the id', () => {
    const ctx = standard();
    const outcome = executeMemoryTool('memory', { command: 'rename', old_path: '/memories/human', new_path: '/memories/user' }, ctx);
    expect(outcome.returnValue).toBe(
      "Successfully renamed memory block 'human' to 'user'. Your system prompt has been recompiled with the renamed memory block and is now active in your context.",
    );
    expect(outcome.changed).toEqual([expect.objectContaining({ id: 'block-human', label: 'user' })]);
    expect(outcome.renamed).toEqual([{ from: 'human', to: 'user' }]);
    expect([...ctx.blocks.keys()]).toEqual(['user', 'persona']);
  });

  it('rename: errors', () => {
    expect(errorOf('memory', { command: 'rename', old_path: '/memories/nobody', new_path: '/memories/x' })).toBe(
      `Error performing rename: ${UNKNOWN_HUMANX}`,
    );
    expect(errorOf('memory', { command: 'rename', old_path: '/memories/human', new_path: '/memories/persona' })).toBe(
      "Error performing rename: Memory block 'persona' already exists",
    );
    expect(errorOf('memory', { command: 'rename', old_path: '/memories/human' })).toBe(
      'Error: path and description are required for update_description command, or old_path and new_path are required for rename command',
    );
  });

  it('rename with path and description: updates the description', () => {
    const ctx = standard();
    const outcome = executeMemoryTool('memory', { command: 'rename', path: '/memories/human', description: 'About the user' }, ctx);
    expect(outcome.returnValue).toBe(
      "Successfully updated description of memory block 'human'. Your system prompt has been recompiled with the updated description and is now active in your context.",
    );
    expect(outcome.changed).toEqual([expect.objectContaining({ label: 'human', description: 'About the user' })]);
    expect(errorOf('memory', { command: 'rename', path: '/memories/nobody', description: 'x' })).toBe(
      `Error performing update_description: ${UNKNOWN_HUMANX}`,
    );
  });

  it('rejects an unknown command', () => {
    expect(errorOf('memory', { command: 'view', path: '/memories/human' })).toBe(
      "Error: Unknown command 'view'. Supported commands: create, str_replace, insert, delete, rename",
    );
  });
});

describe('memory_apply_patch', () => {
  it('applies a single-block diff', () => {
    const ctx = standard();
    const outcome = executeMemoryTool('memory_apply_patch', { label: 'human', patch: '@@\n Name: Ann\n-Likes cats\n+Loves cats\n' }, ctx);
    expect(outcome.returnValue).toBe('Name: Ann\nLoves cats\nLikes dogs');
    expect(outcome.changed.map((b) => b.label)).toEqual(['human']);
  });

  it('appends a hunk without context', () => {
    const outcome = executeMemoryTool('memory_apply_patch', { label: 'human', patch: '+Age: 30' }, standard());
    expect(outcome.returnValue).toBe('Name: Ann\nLikes cats\nLikes dogs\nAge: 30');
  });

  it('reports patch errors', () => {
    expect(errorOf('memory_apply_patch', { label: 'human', patch: 'hello' })).toBe(
      "No applicable hunks found in patch. Ensure lines start with ' ', '-', or '+'.",
    );
    expect(errorOf('memory_apply_patch', { label: 'human', patch: '-Likes birds\n+x' })).toBe(
      'Failed to apply patch: expected hunk context not found in the memory block. Verify the target lines exist and try providing more context. Expected start:\nLikes birds',
    );
    const ctx = context(block('notes', 'a\nb\na'));
    expect(errorOf('memory_apply_patch', { label: 'notes', patch: '-a\n+c' }, ctx)).toBe(
      'Failed to apply patch: hunk context matched multiple places in the memory block. Please add more unique surrounding context to disambiguate.',
    );
    expect(errorOf('memory_apply_patch', { label: 'nobody', patch: '+x' })).toBe("Error: Memory block 'nobody' does not exist");
    expect(errorOf('memory_apply_patch', { label: 'persona', patch: '+x' })).toBe(READ_ONLY_BLOCK_EDIT_ERROR);
    expect(errorOf('memory_apply_patch', { label: 'human', patch: ' 2→ Likes cats\n+x' })).toBe(
      'Patch contains a line number prefix, which is not allowed. Do not include line numbers (they are for display only).',
    );
    expect(errorOf('memory_apply_patch', { label: 'human', patch: `+${CORE_MEMORY_LINE_NUMBER_WARNING}` })).toBe(
      'Patch contains the line number warning banner, which is not allowed. Provide only the text to edit.',
    );
  });

  it('runs multi-block operations', () => {
    const ctx = standard();
    const patch = [
      '*** Add Block: travel',
      'Description: Trips',
      '+Japan in April',
      '+',
      '*** Update Block: human',
      '*** Move to: user',
      '@@',
      '-Likes dogs',
      '+Likes birds',
    ].join('\n');
    const outcome = executeMemoryTool('memory_apply_patch', { label: '', patch }, ctx);
    expect(outcome.returnValue).toBe(
      'Successfully applied memory patch operations. Your system prompt has been recompiled with the updated memory contents and is now active in your context.\n\n' +
        "Operations completed:\n- Created memory block 'travel'\n- Updated memory block 'human'\n- Renamed memory block 'human' to 'user'",
    );
    expect(outcome.created).toEqual([{ label: 'travel', value: 'Japan in April', limit: 100000, description: 'Trips', readOnly: false }]);
    expect(outcome.changed).toEqual([expect.objectContaining({ id: 'block-human', label: 'user', value: 'Name: Ann\nLikes cats\nLikes birds' })]);
    expect([...ctx.blocks.keys()]).toEqual(['user', 'persona', 'travel']);
  });

  it('deletes blocks and is all-or-nothing', () => {
    const ctx = standard();
    const ok = executeMemoryTool('memory_apply_patch', { label: '', patch: '*** Delete Block: human' }, ctx);
    expect(ok.deleted.map((b) => b.label)).toEqual(['human']);

    const ctx2 = standard();
    expect(errorOf('memory_apply_patch', { label: '', patch: '*** Delete Block: human\n*** Update Block: nobody\n+x' }, ctx2)).toBe(
      "Error: Memory block 'nobody' does not exist",
    );
    expect([...ctx2.blocks.keys()]).toEqual(['human', 'persona']);
    expect(errorOf('memory_apply_patch', { label: '', patch: '*** Add Block: human\n+x' })).toBe("Error: Memory block 'human' already exists");
    expect(errorOf('memory_apply_patch', { label: '', patch: '*** Add Block:  \n+x' })).toBe('*** Add Block: must specify a non-empty label');
  });
});

describe('context updates', () => {
  it('leaves the context untouched when a call fails', () => {
    const ctx = standard();
    const before = new Map(ctx.blocks);
    errorOf('memory_replace', { label: 'human', old_string: 'Likes', new_string: 'x' }, ctx);
    expect(ctx.blocks).toEqual(before);
  });

  it('does not report unchanged blocks', () => {
    const ctx = standard();
    const outcome = executeMemoryTool('memory_replace', { label: 'human', old_string: 'Likes cats', new_string: 'Likes cats' }, ctx);
    expect(outcome.changed).toEqual([]);
  });

  it('sees the edits of an earlier call', () => {
    const ctx = standard();
    executeMemoryTool('memory_rethink', { label: 'plans', new_memory: 'a' }, ctx);
    const outcome = executeMemoryTool('core_memory_append', { label: 'plans', content: 'b' }, ctx);
    expect(outcome.returnValue).toBe('a\nb');
  });
});
