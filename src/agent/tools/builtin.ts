import type { AgentType } from '../prompts.js';

/**
 * Letta's built-in tools: name, type and the OpenAI-style function schema the model sees.
 * Argument names, types, enums and required lists follow Letta's function sets
 * (letta/functions/function_sets/{base,files}.py); the descriptions are our own wording.
 * Executors live elsewhere; nothing here runs a tool.
 */

/** Letta's ToolType enum. */
export const TOOL_TYPES = [
  'custom',
  'letta_core',
  'letta_memory_core',
  'letta_multi_agent_core',
  'letta_sleeptime_core',
  'letta_voice_sleeptime_core',
  'letta_builtin',
  'letta_files_core',
  'external_mcp',
] as const;

export type ToolType = (typeof TOOL_TYPES)[number];

export interface ToolJsonSchema {
  name: string;
  description: string;
  parameters: { type: 'object'; properties: Record<string, unknown>; required: string[] };
}

export interface BuiltinToolDefinition {
  name: string;
  description: string;
  toolType: ToolType;
  jsonSchema: ToolJsonSchema;
  returnCharLimit?: number;
  defaultRequiresApproval?: boolean;
  /** Letta's LETTA_PARALLEL_SAFE_TOOLS: may run concurrently with sibling calls. */
  enableParallelExecution?: boolean;
}

/** Letta's BASE_FUNCTION_RETURN_CHAR_LIMIT. */
export const BASE_FUNCTION_RETURN_CHAR_LIMIT = 50_000;
/** Letta's RETRIEVAL_QUERY_DEFAULT_PAGE_SIZE: default result count of the search tools. */
export const RETRIEVAL_QUERY_DEFAULT_PAGE_SIZE = 5;

type Properties = Record<string, Record<string, unknown>>;

function tool(
  name: string,
  toolType: ToolType,
  description: string,
  properties: Properties,
  required: string[],
  extra: Partial<Pick<BuiltinToolDefinition, 'enableParallelExecution' | 'defaultRequiresApproval'>> = {},
): BuiltinToolDefinition {
  return {
    name,
    description,
    toolType,
    jsonSchema: { name, description, parameters: { type: 'object', properties, required } },
    returnCharLimit: BASE_FUNCTION_RETURN_CHAR_LIMIT,
    ...extra,
  };
}

const str = (description: string, more: Record<string, unknown> = {}) => ({ type: 'string', description, ...more });
const int = (description: string, more: Record<string, unknown> = {}) => ({ type: 'integer', description, ...more });
const strList = (description: string) => ({ type: 'array', items: { type: 'string' }, description });

const LABEL = 'Label of the memory block to edit (for example "human" or "persona").';
const NO_LINE_NUMBERS = 'Give plain text only: never include the "N→ " line-number prefixes or the line-number warning shown in the memory view.';

// --- letta_core: BASE_TOOLS ---------------------------------------------------------------

const sendMessage = tool(
  'send_message',
  'letta_core',
  'Send a message to the human user. This is the only way your words reach the user; anything else you write stays private.',
  { message: str('The text of the message. Any unicode, emojis included, is allowed.') },
  ['message'],
);

const conversationSearch = tool(
  'conversation_search',
  'letta_core',
  [
    'Search your past conversation history (recall memory), combining keyword and semantic matching. Results come newest first, with their timestamps.',
    '',
    'Every argument is optional: leave out `query` to list messages by role or time range only.',
    `At most \`limit\` results are returned (default ${RETRIEVAL_QUERY_DEFAULT_PAGE_SIZE}).`,
    'Dates are inclusive and read in your timezone: a bare date such as "2024-05-02" covers that whole day, and "2024-05-02T09:30" gives a precise time.',
    '',
    'Examples:',
    '  conversation_search(query="birthday plans")',
    '  conversation_search(query="release checklist", roles=["user"], limit=10)',
    '  conversation_search(start_date="2024-05-01", end_date="2024-05-03")',
  ].join('\n'),
  {
    query: str('Text to look for, matched both literally and by meaning. Omit it to filter only by role and date.'),
    roles: {
      type: 'array',
      items: { type: 'string', enum: ['assistant', 'user', 'tool'] },
      description: 'Only return messages with one of these roles.',
    },
    limit: int(`How many results to return at most. Defaults to ${RETRIEVAL_QUERY_DEFAULT_PAGE_SIZE}.`, {
      default: RETRIEVAL_QUERY_DEFAULT_PAGE_SIZE,
    }),
    start_date: str(
      'Earliest creation time to include (inclusive), as "YYYY-MM-DD" (from the start of that day) or "YYYY-MM-DDTHH:MM".',
    ),
    end_date: str(
      'Latest creation time to include (inclusive), as "YYYY-MM-DD" (up to the end of that day) or "YYYY-MM-DDTHH:MM".',
    ),
  },
  [],
  { enableParallelExecution: true },
);

const archivalMemoryInsert = tool(
  'archival_memory_insert',
  'letta_core',
  [
    'Save a piece of information to your archival memory, a permanent long-term store outside your context that you can later search by meaning.',
    '',
    'Write self-contained facts or summaries rather than fragments of dialogue, and add tags to make them easier to find. Good candidates: notes from meetings, project status, summaries of past conversations, events.',
    '',
    'Example:',
    '  archival_memory_insert(content="2024-06-10: the user moved to Lisbon and now works remotely for a design studio.", tags=["user-life", "work"])',
  ].join('\n'),
  {
    content: str('The information to store, written so it makes sense on its own.'),
    tags: strList('Optional category tags for the memory, e.g. ["meetings", "project-x"].'),
  },
  ['content'],
);

const archivalMemorySearch = tool(
  'archival_memory_search',
  'letta_core',
  [
    'Search your archival (long-term) memory by meaning rather than exact wording, and return the most relevant memories with their timestamps and tags, best match first.',
    '',
    'Describe what you are looking for in natural language, and narrow the search with tags or a time window when you know them.',
    `Returns at most \`top_k\` results (default ${RETRIEVAL_QUERY_DEFAULT_PAGE_SIZE}).`,
    '',
    'Examples:',
    '  archival_memory_search(query="what the user said about their sister")',
    '  archival_memory_search(query="budget decisions", tags=["finance", "q3"], tag_match_mode="all", start_datetime="2024-07-01")',
  ].join('\n'),
  {
    query: str('What you want to find, described in plain language.'),
    tags: strList('Only consider memories carrying these tags; see tag_match_mode.'),
    tag_match_mode: str('"any" (default) keeps memories with at least one of the tags; "all" keeps only memories with every tag.', {
      enum: ['any', 'all'],
      default: 'any',
    }),
    top_k: int(`How many results to return at most. Defaults to ${RETRIEVAL_QUERY_DEFAULT_PAGE_SIZE}.`, {
      default: RETRIEVAL_QUERY_DEFAULT_PAGE_SIZE,
    }),
    start_datetime: str('Only memories created at or after this time (ISO 8601, e.g. "2024-01-15" or "2024-01-15T14:30").'),
    end_datetime: str('Only memories created at or before this time (ISO 8601).'),
  },
  ['query'],
  { enableParallelExecution: true },
);

// --- letta_memory_core: BASE_MEMORY_TOOLS -------------------------------------------------

const coreMemoryAppend = tool(
  'core_memory_append',
  'letta_memory_core',
  'Add text to the end of a core memory block, on a new line. Returns the block\'s new value.',
  {
    label: str(LABEL),
    content: str('The text to append. Any unicode, emojis included, is allowed.'),
  },
  ['label', 'content'],
);

const coreMemoryReplace = tool(
  'core_memory_replace',
  'letta_memory_core',
  'Replace text in a core memory block. Every occurrence of `old_content` is replaced; it must appear in the block exactly as written. Pass an empty `new_content` to delete text. Returns the block\'s new value.',
  {
    label: str(LABEL),
    old_content: str('The exact text to replace.'),
    new_content: str('The replacement text; an empty string deletes old_content.'),
  },
  ['label', 'old_content', 'new_content'],
);

const memoryOmni = tool(
  'memory',
  'letta_memory_core',
  [
    'Manage your memory blocks with one tool. `command` selects the operation; a block is addressed by a path such as "/memories/notes", whose last part is the block label.',
    '',
    '- create: make a new block at `path` with a `description` and optional starting text `file_text`.',
    '- str_replace: in the block at `path`, replace `old_string` (must appear exactly once) with `new_string`.',
    '- insert: put `insert_text` after line `insert_line` of the block at `path` (0 = at the top).',
    '- delete: remove the block at `path`.',
    '- rename: move a block from `old_path` to `new_path`, or, given `path` and `description`, change its description.',
    '',
    NO_LINE_NUMBERS,
    '',
    'Examples:',
    '  memory(command="create", path="/memories/travel", description="Trips the user is planning", file_text="Japan in April")',
    '  memory(command="str_replace", path="/memories/human", old_string="lives in Oslo", new_string="lives in Bergen")',
    '  memory(command="insert", path="/memories/travel", insert_line=0, insert_text="Budget: moderate")',
    '  memory(command="rename", old_path="/memories/travel", new_path="/memories/trips")',
    '  memory(command="delete", path="/memories/trips")',
  ].join('\n'),
  {
    command: str('The operation to perform.', { enum: ['create', 'str_replace', 'insert', 'delete', 'rename'] }),
    path: str('Path of the memory block (create, str_replace, insert, delete, and rename when changing a description).'),
    file_text: str('Initial contents of the new block (create).'),
    description: str('Description of the block (create; rename when updating the description).'),
    old_string: str('The text to replace, exactly as it appears (str_replace).'),
    new_string: str('The replacement text (str_replace).'),
    insert_line: int('Line after which to insert; 0 inserts at the top (insert).'),
    insert_text: str('The text to insert (insert).'),
    old_path: str('Current path of the block to rename (rename).'),
    new_path: str('New path for the block (rename).'),
  },
  ['command'],
);

const memoryApplyPatch = tool(
  'memory_apply_patch',
  'letta_memory_core',
  [
    'Edit memory blocks with a simplified unified-diff patch.',
    '',
    'Single block: when the patch has no "***" headers it applies to the block named by `label`. Body lines start with " " (context to keep), "-" (remove) or "+" (add); "@@" lines may separate hunks.',
    '',
    'Several blocks: set `label` to "" and use headers:',
    '- "*** Add Block: <label>", optionally followed by "Description: <text>", then the content as "+" lines;',
    '- "*** Delete Block: <label>";',
    '- "*** Update Block: <label>" followed by a diff body as above;',
    '- "*** Move to: <new label>" renames the block named by the preceding header.',
    '',
    'Tabs are expanded to spaces before matching. ' + NO_LINE_NUMBERS,
    'Returns a success message, or an error if the patch does not apply cleanly.',
  ].join('\n'),
  {
    label: str('The block to patch in single-block mode; use "" when the patch contains "***" headers.'),
    patch: str('The patch: a plain diff body (single block) or a multi-block patch with "***" headers.'),
  },
  ['label', 'patch'],
);

// --- letta_sleeptime_core: BASE_SLEEPTIME_TOOLS (Letta types memory_replace/memory_insert this way too) ---

const memoryReplace = tool(
  'memory_replace',
  'letta_sleeptime_core',
  [
    'Make a precise edit to a memory block by replacing one string with another. `old_string` must appear exactly once in the block, matching whitespace and indentation; otherwise nothing is changed and the error says why (for several matches, on which lines). Use it for small, targeted changes, not to rewrite a whole block. An empty `new_string` deletes the text.',
    '',
    NO_LINE_NUMBERS,
    '',
    'Examples:',
    '  memory_replace(label="human", old_string="Favourite colour: blue", new_string="Favourite colour: green")',
    '  memory_replace(label="tasks", old_string="- [ ] book flights", new_string="- [x] book flights")',
    '  memory_replace(label="human", old_string="Has a cat named Tom.", new_string="")',
  ].join('\n'),
  {
    label: str(LABEL),
    old_string: str('The exact text to replace; it must occur exactly once in the block.'),
    new_string: str('The text to put in its place (no line-number prefixes).'),
  },
  ['label', 'old_string', 'new_string'],
);

const memoryInsert = tool(
  'memory_insert',
  'letta_sleeptime_core',
  [
    'Insert text into a memory block at a given line. `insert_line` is the line after which the text goes: 0 puts it at the top, and the default -1 appends it at the end. Valid values are -1 and 0 up to the number of lines in the block.',
    '',
    NO_LINE_NUMBERS,
    '',
    'Examples:',
    '  memory_insert(label="human", new_string="Works night shifts on weekends.")',
    '  memory_insert(label="tasks", new_string="- [ ] renew passport", insert_line=0)',
  ].join('\n'),
  {
    label: str(LABEL),
    new_string: str('The text to insert (no line-number prefixes).'),
    insert_line: int('Line number after which to insert; 0 for the top of the block. Defaults to -1 (end of the block).', {
      default: -1,
    }),
  },
  ['label', 'new_string'],
);

const memoryRethink = tool(
  'memory_rethink',
  'letta_sleeptime_core',
  'Rewrite a memory block completely, replacing its whole value with `new_memory`. Meant for large reorganisations (condensing, restructuring, merging in new information); use memory_replace or memory_insert for small edits. Creates the block if no block has this label.',
  {
    label: str('Label of the memory block to rewrite.'),
    new_memory: str(
      'The complete new contents of the block, integrating what is still valid with the new information. ' + NO_LINE_NUMBERS,
    ),
  },
  ['label', 'new_memory'],
);

const memoryFinishEdits = tool(
  'memory_finish_edits',
  'letta_sleeptime_core',
  'Call this once you have finished editing your memory blocks and integrated all new information. It changes nothing and ends the editing pass.',
  {},
  [],
);

// --- letta_files_core: FILES_TOOLS --------------------------------------------------------

const openFiles = tool(
  'open_files',
  'letta_files_core',
  [
    'Open one or more attached files so their contents appear in the files section of your core memory. You can open a whole file or a range of lines.',
    '',
    'Use it to read or reference a file while reasoning, to look at part of a large file (a function, a section), or, with close_all_others=true, to swap the open set for a new one.',
    'Only a limited number of files can be open at once (see max_files_open in your memory); opening more closes the least recently used ones.',
    '',
    'Examples:',
    '  open_files(file_requests=[{"file_name": "docs/guide.md"}])',
    '  open_files(file_requests=[{"file_name": "src/app.py", "offset": 0, "length": 50}, {"file_name": "src/db.py", "offset": 100, "length": 100}])',
    '  open_files(file_requests=[{"file_name": "notes/todo.txt"}], close_all_others=true)',
  ].join('\n'),
  {
    file_requests: {
      type: 'array',
      description: 'The files to open, each with an optional line range.',
      items: {
        type: 'object',
        properties: {
          file_name: str('Name of the file to open, including its folder (e.g. "docs/guide.md").'),
          offset: int('First line to show, counted from 0. Omit to start at the beginning of the file.'),
          length: int('How many lines to show from offset. Omit to show the rest of the file.'),
        },
        required: ['file_name'],
      },
    },
    close_all_others: {
      type: 'boolean',
      description: 'If true, close every other open file first. Defaults to false.',
      default: false,
    },
  },
  ['file_requests'],
);

const grepFiles = tool(
  'grep_files',
  'letta_files_core',
  [
    'Search the contents of attached files for a keyword or regular expression (case-insensitive) and show each match with surrounding lines.',
    '',
    'Results come 20 matches at a time. Each response starts with a summary of the total matches and how many each file has, then the current page of matches, and tells you which offset to pass for the next page.',
    '',
    'Examples:',
    '  grep_files(pattern="TODO")',
    '  grep_files(pattern="TODO", offset=20)',
    '  grep_files(pattern="timeout|retry", include="*.py", context_lines=3)',
  ].join('\n'),
  {
    pattern: str('Keyword or regular expression to look for in file contents.'),
    include: str('Optional keyword, regular expression or glob (e.g. "*.md") restricting which file names are searched.'),
    context_lines: int('Lines of context to show before and after each match, like grep -C. Defaults to 1.', { default: 1 }),
    offset: int(
      'How many matches to skip, for paging: omit or use 0 for the first page, 20 for the second, 40 for the third. The previous response tells you the next offset.',
    ),
  },
  ['pattern'],
  { enableParallelExecution: true },
);

const semanticSearchFiles = tool(
  'semantic_search_files',
  'letta_files_core',
  'Search the contents of attached files by meaning rather than exact wording. Useful to find related passages when you do not know the exact keywords, or to discover which files cover a topic. Returns the best matching passages with their file names and scores.',
  {
    query: str('What to look for, described in plain language.'),
    limit: int('How many results to return at most. Defaults to 5.', { default: 5 }),
  },
  ['query'],
  { enableParallelExecution: true },
);

export const BUILTIN_TOOLS: readonly BuiltinToolDefinition[] = [
  sendMessage,
  conversationSearch,
  archivalMemoryInsert,
  archivalMemorySearch,
  coreMemoryAppend,
  coreMemoryReplace,
  memoryReplace,
  memoryInsert,
  memoryRethink,
  memoryFinishEdits,
  memoryOmni,
  memoryApplyPatch,
  openFiles,
  grepFiles,
  semanticSearchFiles,
];

const BY_NAME = new Map(BUILTIN_TOOLS.map((definition) => [definition.name, definition]));

export function builtinTool(name: string): BuiltinToolDefinition | undefined {
  return BY_NAME.get(name);
}

// --- tool sets (letta/constants.py) -------------------------------------------------------

export const BASE_TOOLS = ['send_message', 'conversation_search', 'archival_memory_insert', 'archival_memory_search'] as const;
export const BASE_MEMORY_TOOLS = ['core_memory_append', 'core_memory_replace', 'memory', 'memory_apply_patch'] as const;
export const BASE_MEMORY_TOOLS_V2 = ['memory_replace', 'memory_insert'] as const;
export const BASE_MEMORY_TOOLS_V3 = ['memory'] as const;
export const BASE_SLEEPTIME_CHAT_TOOLS = ['send_message', 'conversation_search', 'archival_memory_search'] as const;
export const BASE_SLEEPTIME_TOOLS = ['memory_replace', 'memory_insert', 'memory_rethink', 'memory_finish_edits'] as const;
export const FILE_TOOL_NAMES: readonly string[] = ['open_files', 'grep_files', 'semantic_search_files'];

/**
 * The tools added when `include_base_tools` is true (Letta `create_agent_async`). The checks run
 * in Letta's order: sleeptime_agent first, then `enable_sleeptime` (which overrides every other
 * type, letta_v1_agent, react and workflow included), then the per-type sets.
 */
export function baseToolNames(agentType: AgentType, options: { enableSleeptime?: boolean } = {}): string[] {
  if (agentType === 'sleeptime_agent') return [...BASE_SLEEPTIME_TOOLS];
  if (options.enableSleeptime) return [...BASE_SLEEPTIME_CHAT_TOOLS];
  switch (agentType) {
    case 'memgpt_v2_agent':
      return ['send_message', 'conversation_search', ...BASE_MEMORY_TOOLS_V2];
    case 'letta_v1_agent':
      return ['conversation_search', ...BASE_MEMORY_TOOLS_V2];
    case 'react_agent':
    case 'workflow_agent':
      return [];
    default:
      return ['send_message', 'conversation_search', ...BASE_MEMORY_TOOLS];
  }
}
