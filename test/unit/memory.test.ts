import { describe, expect, it } from 'vitest';
import {
  CORE_MEMORY_LINE_NUMBER_WARNING,
  DEFAULT_HUMAN_BLOCK_DESCRIPTION,
  DEFAULT_PERSONA_BLOCK_DESCRIPTION,
  FILE_IS_TRUNCATED_WARNING,
  LINE_NUMBER_PREFIX_REGEX,
  codePointLength,
  compileMemory,
  compileMemoryMetadata,
  compileSystemPrompt,
  defaultBlockDescription,
  formatDatetime,
  truncateFileVisibleContent,
  usesLineNumbers,
  type MemoryBlock,
} from '../../src/agent/memory.js';
import type { ToolRule } from '../../src/agent/tool-rules.js';

const blocks: MemoryBlock[] = [
  { label: 'persona', value: 'I am Sam.\nI like tea.', limit: 5000, description: 'Who I am.', readOnly: false },
  { label: 'policies', value: 'Be kind.', limit: 200, description: 'Rules from the operator.', readOnly: true },
];

const PLAIN = `<memory_blocks>
The following memory blocks are currently engaged in your core memory unit:

<persona>
<description>
Who I am.
</description>
<metadata>
- chars_current=21
- chars_limit=5000
</metadata>
<value>
I am Sam.
I like tea.
</value>
</persona>

<policies>
<description>
Rules from the operator.
</description>
<metadata>
- read_only=true
- chars_current=8
- chars_limit=200
</metadata>
<value>
Be kind.
</value>
</policies>

</memory_blocks>`;

const NUMBERED = `<memory_blocks>
The following memory blocks are currently engaged in your core memory unit:

<persona>
<description>
Who I am.
</description>
<metadata>
- chars_current=21
- chars_limit=5000
</metadata>
<warning>
# NOTE: Line numbers shown below (with arrows like '1→') are to help during editing. Do NOT include line number prefixes in your memory edit tool calls.
</warning>
<value>
1→ I am Sam.
2→ I like tea.
</value>
</persona>

<policies>
<description>
Rules from the operator.
</description>
<metadata>
- read_only=true
- chars_current=8
- chars_limit=200
</metadata>
<warning>
# NOTE: Line numbers shown below (with arrows like '1→') are to help during editing. Do NOT include line number prefixes in your memory edit tool calls.
</warning>
<value>
1→ Be kind.
</value>
</policies>

</memory_blocks>`;

describe('compileMemory', () => {
  it('renders blocks exactly as Letta does', () => {
    expect(compileMemory({ agentType: 'memgpt_agent', blocks })).toBe(PLAIN);
    expect(compileMemory({ agentType: 'letta_v1_agent', blocks, lineNumbers: false })).toBe(PLAIN);
  });

  it('renders the line-numbered variant for the newer agent types', () => {
    for (const agentType of ['letta_v1_agent', 'memgpt_v2_agent', 'sleeptime_agent'] as const) {
      expect(compileMemory({ agentType, blocks, lineNumbers: true })).toBe(NUMBERED);
    }
    // memgpt_agent never numbers lines, even on Anthropic
    expect(compileMemory({ agentType: 'memgpt_agent', blocks, lineNumbers: true })).toBe(PLAIN);
    expect(NUMBERED).toContain(CORE_MEMORY_LINE_NUMBER_WARNING);
  });

  it('renders empty values and missing descriptions', () => {
    const memory = compileMemory({
      agentType: 'memgpt_agent',
      blocks: [{ label: 'notes', value: '', limit: 10, description: null, readOnly: false }],
    });
    expect(memory).toContain('<notes>\n<description>\n\n</description>\n<metadata>\n- chars_current=0\n- chars_limit=10\n</metadata>\n<value>\n\n</value>\n</notes>\n');
    const numbered = compileMemory({
      agentType: 'letta_v1_agent',
      lineNumbers: true,
      blocks: [{ label: 'notes', value: '', limit: 10, description: null, readOnly: false }],
    });
    expect(numbered).toContain('</warning>\n<value>\n</value>\n</notes>');
  });

  it('counts characters like Python (code points)', () => {
    const memory = compileMemory({
      agentType: 'memgpt_agent',
      blocks: [{ label: 'human', value: 'likes 🍵', limit: 100, description: null, readOnly: false }],
    });
    expect(memory).toContain('- chars_current=7\n');
    expect(codePointLength('a😀b')).toBe(3);
  });

  it('writes nothing for no blocks (plain) but keeps the wrapper when numbered', () => {
    expect(compileMemory({ agentType: 'memgpt_agent', blocks: [] })).toBe('');
    expect(compileMemory({ agentType: 'letta_v1_agent', blocks: [], lineNumbers: true })).toBe(
      '<memory_blocks>\nThe following memory blocks are currently engaged in your core memory unit:\n\n\n</memory_blocks>',
    );
  });

  it('react and workflow agents skip the blocks', () => {
    expect(compileMemory({ agentType: 'react_agent', blocks })).toBe('');
    expect(compileMemory({ agentType: 'workflow_agent', blocks })).toBe('');
  });

  it('appends tool usage rules after a blank line', () => {
    const toolRules: ToolRule[] = [
      { type: 'exit_loop', tool_name: 'send_message' },
      { type: 'continue_loop', tool_name: 'conversation_search' },
      { type: 'requires_approval', tool_name: 'delete_everything' },
    ];
    expect(compileMemory({ agentType: 'memgpt_agent', blocks, toolRules })).toBe(
      `${PLAIN}

<tool_usage_rules>
The following constraints define rules for tool usage and guide desired behavior. These rules must be followed to ensure proper tool execution and workflow. A single response may contain multiple tool calls.

<tool_rule>
conversation_search requires continuing your response when called
</tool_rule>
<tool_rule>
send_message ends your response (yields control) when called
</tool_rule>
</tool_usage_rules>`,
    );
    // rules without a prompt line add nothing
    expect(compileMemory({ agentType: 'memgpt_agent', blocks, toolRules: [{ type: 'requires_approval', tool_name: 'x' }] })).toBe(PLAIN);
  });

  it('renders <directories> only when folders are attached', () => {
    expect(compileMemory({ agentType: 'memgpt_agent', blocks, files: [], maxFilesOpen: 5 })).toBe(PLAIN);
    const memory = compileMemory({
      agentType: 'memgpt_agent',
      blocks,
      maxFilesOpen: 5,
      folders: [
        { name: 'docs', description: 'Product docs', instructions: 'Cite the file name.' },
        { name: 'empty', description: null, instructions: null },
      ],
      files: [
        { folderName: 'docs', fileName: 'docs/a.md', isOpen: true, visibleContent: '[Viewing file start (out of 1 lines)]\n1: Hello', limit: 1000 },
        { folderName: 'docs', fileName: 'docs/b.md', isOpen: false, visibleContent: 'stale', limit: 1000, description: 'Second file' },
      ],
    });
    expect(memory).toBe(
      `${PLAIN}

<directories>
<file_limits>
- current_files_open=1
- max_files_open=5
</file_limits>
<directory name="docs">
<description>Product docs</description>
<instructions>Cite the file name.</instructions>
<file status="open" name="docs/a.md">
<metadata>
- read_only=true
- chars_current=46
- chars_limit=1000
</metadata>
<value>
[Viewing file start (out of 1 lines)]
1: Hello
</value>
</file>
<file status="closed" name="docs/b.md">
<description>
Second file
</description>
<metadata>
- read_only=true
- chars_current=0
- chars_limit=1000
</metadata>
</file>
</directory>
<directory name="empty">
</directory>
</directories>`,
    );
  });

  it('derives folders from files and matches by folder id when given', () => {
    const memory = compileMemory({
      agentType: 'memgpt_agent',
      blocks: [],
      files: [{ folderId: 'source-1', folderName: 'data', folderInstructions: 'Read me', fileName: 'data/x.csv', isOpen: false }],
    });
    expect(memory).toBe(
      '\n\n<directories>\n<directory name="data">\n<instructions>Read me</instructions>\n<file status="closed" name="data/x.csv">\n<metadata>\n- read_only=true\n- chars_current=0\n- chars_limit=50000\n</metadata>\n</file>\n</directory>\n</directories>',
    );
  });

  it('react agents get the react directory layout', () => {
    const memory = compileMemory({
      agentType: 'react_agent',
      blocks,
      folders: [{ name: 'f' }],
      files: [{ folderName: 'f', fileName: 'f/a.txt', isOpen: true, visibleContent: 'x', limit: 9 }],
    });
    expect(memory).toBe(
      '\n\n<directories>\n<directory name="f">\n<file status="open">\n<f/a.txt>\n<description>\n\n</description>\n<metadata>\n- read_only=true\n- chars_current=1\n- chars_limit=9\n</metadata>\n<value>\nx\n</value>\n</f/a.txt>\n</file>\n</directory>\n</directories>',
    );
  });

  it('truncates file views to the window', () => {
    const warning = `...[TRUNCATED]\n${FILE_IS_TRUNCATED_WARNING}`;
    const limit = warning.length + 3;
    expect(truncateFileVisibleContent('abcdefg'.repeat(20), true, limit)).toBe(`abc${warning}`);
    expect(truncateFileVisibleContent('abc', true, limit)).toBe('abc');
    expect(truncateFileVisibleContent('abc', false, limit)).toBe('');
  });
});

describe('line numbers', () => {
  it('apply only to anthropic endpoints of the newer types', () => {
    expect(usesLineNumbers('letta_v1_agent', 'anthropic')).toBe(true);
    expect(usesLineNumbers('memgpt_v2_agent', 'anthropic')).toBe(true);
    expect(usesLineNumbers('sleeptime_agent', 'anthropic')).toBe(true);
    expect(usesLineNumbers('memgpt_agent', 'anthropic')).toBe(false);
    expect(usesLineNumbers('letta_v1_agent', 'openai')).toBe(false);
  });

  it('the prefix regex spots pasted line numbers', () => {
    expect(LINE_NUMBER_PREFIX_REGEX.test('1→ hello')).toBe(true);
    expect(LINE_NUMBER_PREFIX_REGEX.test('foo\n  12→bar')).toBe(true);
    expect(LINE_NUMBER_PREFIX_REGEX.test('a → b')).toBe(false);
  });
});

describe('compileMemoryMetadata', () => {
  const recompiledAt = new Date('2025-01-01T12:00:00Z');

  it('renders the required lines only', () => {
    expect(
      compileMemoryMetadata({ agentId: 'agent-1', timezone: 'UTC', recompiledAt, previousMessageCount: 0, archivalMemoryCount: 0, archivalTags: [] }),
    ).toBe(
      `<memory_metadata>
- AGENT_ID: agent-1
- CONVERSATION_ID: default
- System prompt last recompiled: 2025-01-01 12:00:00 PM UTC+0000
- 0 previous messages between you and the user are stored in recall memory
</memory_metadata>`,
    );
  });

  it('adds the archival lines when applicable', () => {
    expect(
      compileMemoryMetadata({
        agentId: 'agent-1',
        timezone: 'America/Los_Angeles',
        recompiledAt,
        previousMessageCount: 42,
        archivalMemoryCount: 3,
        archivalTags: ['work', 'family'],
        conversationId: 'conv-9',
      }),
    ).toBe(
      `<memory_metadata>
- AGENT_ID: agent-1
- CONVERSATION_ID: conv-9
- System prompt last recompiled: 2025-01-01 04:00:00 AM PST-0800
- 42 previous messages between you and the user are stored in recall memory
- 3 total memories you created are stored in archival memory (use tools to access them)
- Available archival memory tags: work, family
</memory_metadata>`,
    );
  });
});

describe('formatDatetime', () => {
  const cases: Array<[string, string, string]> = [
    ['2025-01-01T12:00:00Z', 'UTC', '2025-01-01 12:00:00 PM UTC+0000'],
    ['2025-01-01T00:30:05Z', 'UTC', '2025-01-01 12:30:05 AM UTC+0000'],
    ['2025-07-15T12:00:00Z', 'America/Los_Angeles', '2025-07-15 05:00:00 AM PDT-0700'],
    ['2025-01-15T12:00:00Z', 'Europe/Berlin', '2025-01-15 01:00:00 PM CET+0100'],
    ['2025-07-15T12:00:00Z', 'Europe/London', '2025-07-15 01:00:00 PM BST+0100'],
    ['2025-01-15T12:00:00Z', 'Asia/Kolkata', '2025-01-15 05:30:00 PM IST+0530'],
    ['2025-01-15T12:00:00Z', 'America/Sao_Paulo', '2025-01-15 09:00:00 AM -03-0300'],
    ['2025-01-15T12:00:00Z', 'Asia/Tehran', '2025-01-15 03:30:00 PM +0330+0330'],
    ['2025-01-15T12:00:00Z', 'Australia/Sydney', '2025-01-15 11:00:00 PM AEDT+1100'],
    ['2025-01-15T12:00:00Z', 'Pacific/Auckland', '2025-01-16 01:00:00 AM NZDT+1300'],
    ['2025-01-15T12:00:00Z', 'Not/AZone', '2025-01-15 12:00:00 PM UTC+0000'],
  ];
  it.each(cases)('%s in %s', (iso, zone, expected) => {
    expect(formatDatetime(new Date(iso), zone)).toBe(expected);
  });
});

describe('compileSystemPrompt', () => {
  it('replaces {CORE_MEMORY} with memory, a blank line and the metadata', () => {
    expect(compileSystemPrompt('You are helpful.\n\n{CORE_MEMORY}\n\nBye.', 'MEM', 'META')).toBe('You are helpful.\n\nMEM\n\nMETA\n\nBye.');
  });

  it('appends after a blank line when the placeholder is absent', () => {
    expect(compileSystemPrompt('You are helpful.', 'MEM', 'META')).toBe('You are helpful.\n\nMEM\n\nMETA');
  });

  it('does not interpret $ patterns in the memory', () => {
    expect(compileSystemPrompt('{CORE_MEMORY}', "costs $& and $'", 'M')).toBe("costs $& and $'\n\nM");
  });
});

describe('defaultBlockDescription', () => {
  it('knows human and persona only', () => {
    expect(defaultBlockDescription('human')).toBe(DEFAULT_HUMAN_BLOCK_DESCRIPTION);
    expect(defaultBlockDescription('persona')).toBe(DEFAULT_PERSONA_BLOCK_DESCRIPTION);
    expect(DEFAULT_HUMAN_BLOCK_DESCRIPTION).toMatch(/^The human block: /);
    expect(DEFAULT_PERSONA_BLOCK_DESCRIPTION).toMatch(/^The persona block: /);
    expect(defaultBlockDescription('notes')).toBeNull();
  });
});
