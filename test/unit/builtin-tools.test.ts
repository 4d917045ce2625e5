import { Ajv } from 'ajv';
import { describe, expect, it } from 'vitest';
import { AGENT_TYPES } from '../../src/agent/prompts.js';
import { BUILTIN_TOOLS, FILE_TOOL_NAMES, baseToolNames, builtinTool } from '../../src/agent/tools/builtin.js';
import { CONTINUE_BASE_TOOLS, TERMINAL_BASE_TOOLS, baseToolRules, isModelExcludedFromBaseToolRules } from '../../src/agent/tools/base-tool-rules.js';
import { toolRulesSchema } from '../../src/agent/tool-rules.js';

const ajv = new Ajv({ strict: false });

function params(name: string) {
  const tool = builtinTool(name);
  if (!tool) throw new Error(`no tool ${name}`);
  return tool.jsonSchema.parameters as { properties: Record<string, Record<string, unknown>>; required: string[] };
}

describe('BUILTIN_TOOLS', () => {
  it('has the expected tools, with unique names of at most 48 characters', () => {
    const names = BUILTIN_TOOLS.map((tool) => tool.name);
    expect(names).toEqual([
      'send_message',
      'conversation_search',
      'archival_memory_insert',
      'archival_memory_search',
      'core_memory_append',
      'core_memory_replace',
      'memory_replace',
      'memory_insert',
      'memory_rethink',
      'memory_finish_edits',
      'memory',
      'memory_apply_patch',
      'open_files',
      'grep_files',
      'semantic_search_files',
    ]);
    expect(new Set(names).size).toBe(names.length);
    for (const name of names) expect(name.length).toBeLessThanOrEqual(48);
  });

  it.each(BUILTIN_TOOLS.map((tool) => [tool.name, tool] as const))('%s has a valid JSON schema', (name, tool) => {
    expect(tool.jsonSchema.name).toBe(name);
    expect(tool.jsonSchema.description).toBe(tool.description);
    expect(tool.description.length).toBeGreaterThan(20);
    const parameters = tool.jsonSchema.parameters;
    expect(parameters.type).toBe('object');
    expect(ajv.validateSchema(parameters), JSON.stringify(ajv.errors)).toBe(true);
    for (const required of parameters.required) expect(Object.keys(parameters.properties)).toContain(required);
    for (const [arg, schema] of Object.entries(parameters.properties)) {
      expect(typeof (schema as { description?: unknown }).description, `${name}.${arg}`).toBe('string');
    }
    // the args Letta injects never appear
    expect(parameters.properties).not.toHaveProperty('agent_state');
    expect(parameters.properties).not.toHaveProperty('self');
    // a compiled validator accepts a call with only the required args filled in
    const validate = ajv.compile(parameters);
    expect(typeof validate).toBe('function');
  });

  it('uses Letta tool types', () => {
    const types = Object.fromEntries(BUILTIN_TOOLS.map((tool) => [tool.name, tool.toolType]));
    expect(types).toEqual({
      send_message: 'letta_core',
      conversation_search: 'letta_core',
      archival_memory_insert: 'letta_core',
      archival_memory_search: 'letta_core',
      core_memory_append: 'letta_memory_core',
      core_memory_replace: 'letta_memory_core',
      memory: 'letta_memory_core',
      memory_apply_patch: 'letta_memory_core',
      memory_replace: 'letta_sleeptime_core',
      memory_insert: 'letta_sleeptime_core',
      memory_rethink: 'letta_sleeptime_core',
      memory_finish_edits: 'letta_sleeptime_core',
      open_files: 'letta_files_core',
      grep_files: 'letta_files_core',
      semantic_search_files: 'letta_files_core',
    });
    for (const tool of BUILTIN_TOOLS) expect(tool.returnCharLimit).toBe(50_000);
  });

  it('matches Letta argument names and required lists', () => {
    const shape = Object.fromEntries(
      BUILTIN_TOOLS.map((tool) => [tool.name, { args: Object.keys(tool.jsonSchema.parameters.properties), required: tool.jsonSchema.parameters.required }]),
    );
    expect(shape).toEqual({
      send_message: { args: ['message'], required: ['message'] },
      conversation_search: { args: ['query', 'roles', 'limit', 'start_date', 'end_date'], required: [] },
      archival_memory_insert: { args: ['content', 'tags'], required: ['content'] },
      archival_memory_search: {
        args: ['query', 'tags', 'tag_match_mode', 'top_k', 'start_datetime', 'end_datetime'],
        required: ['query'],
      },
      core_memory_append: { args: ['label', 'content'], required: ['label', 'content'] },
      core_memory_replace: { args: ['label', 'old_content', 'new_content'], required: ['label', 'old_content', 'new_content'] },
      memory_replace: { args: ['label', 'old_string', 'new_string'], required: ['label', 'old_string', 'new_string'] },
      memory_insert: { args: ['label', 'new_string', 'insert_line'], required: ['label', 'new_string'] },
      memory_rethink: { args: ['label', 'new_memory'], required: ['label', 'new_memory'] },
      memory_finish_edits: { args: [], required: [] },
      memory: {
        args: ['command', 'path', 'file_text', 'description', 'old_string', 'new_string', 'insert_line', 'insert_text', 'old_path', 'new_path'],
        required: ['command'],
      },
      memory_apply_patch: { args: ['label', 'patch'], required: ['label', 'patch'] },
      open_files: { args: ['file_requests', 'close_all_others'], required: ['file_requests'] },
      grep_files: { args: ['pattern', 'include', 'context_lines', 'offset'], required: ['pattern'] },
      semantic_search_files: { args: ['query', 'limit'], required: ['query'] },
    });
  });

  it('has Letta types, enums and defaults', () => {
    expect(params('conversation_search').properties.roles).toMatchObject({
      type: 'array',
      items: { type: 'string', enum: ['assistant', 'user', 'tool'] },
    });
    expect(params('conversation_search').properties.limit).toMatchObject({ type: 'integer', default: 5 });
    expect(params('archival_memory_search').properties.tag_match_mode).toMatchObject({ type: 'string', enum: ['any', 'all'], default: 'any' });
    expect(params('archival_memory_search').properties.tags).toMatchObject({ type: 'array', items: { type: 'string' } });
    expect(params('memory_insert').properties.insert_line).toMatchObject({ type: 'integer', default: -1 });
    expect(params('memory').properties.command).toMatchObject({ type: 'string', enum: ['create', 'str_replace', 'insert', 'delete', 'rename'] });
    expect(params('open_files').properties.file_requests).toMatchObject({
      type: 'array',
      items: { type: 'object', required: ['file_name'], properties: { file_name: { type: 'string' }, offset: { type: 'integer' }, length: { type: 'integer' } } },
    });
    expect(params('open_files').properties.close_all_others).toMatchObject({ type: 'boolean', default: false });
    expect(params('grep_files').properties.context_lines).toMatchObject({ type: 'integer', default: 1 });
    expect(params('semantic_search_files').properties.limit).toMatchObject({ type: 'integer', default: 5 });
    // defaults are also stated in the descriptions
    for (const [tool, arg] of [
      ['conversation_search', 'limit'],
      ['archival_memory_search', 'tag_match_mode'],
      ['memory_insert', 'insert_line'],
      ['open_files', 'close_all_others'],
      ['grep_files', 'context_lines'],
      ['semantic_search_files', 'limit'],
    ] as const) {
      expect(String(params(tool).properties[arg]!.description).toLowerCase(), `${tool}.${arg}`).toContain('default');
    }
  });

  it('validates calls with the schemas', () => {
    const validate = ajv.compile(builtinTool('conversation_search')!.jsonSchema.parameters);
    expect(validate({ query: 'x', roles: ['user'] })).toBe(true);
    expect(validate({ roles: ['system'] })).toBe(false);
    const insert = ajv.compile(builtinTool('memory_insert')!.jsonSchema.parameters);
    expect(insert({ label: 'human' })).toBe(false);
    expect(insert({ label: 'human', new_string: 'x' })).toBe(true);
  });

  it('lists the file tools', () => {
    expect(FILE_TOOL_NAMES).toEqual(['open_files', 'grep_files', 'semantic_search_files']);
    for (const name of FILE_TOOL_NAMES) expect(builtinTool(name)?.toolType).toBe('letta_files_core');
  });
});

describe('baseToolNames', () => {
  it('follows the per-type table', () => {
    const expected: Record<(typeof AGENT_TYPES)[number], string[]> = {
      letta_v1_agent: ['conversation_search', 'memory_replace', 'memory_insert'],
      memgpt_v2_agent: ['send_message', 'conversation_search', 'memory_replace', 'memory_insert'],
      memgpt_agent: ['send_message', 'conversation_search', 'core_memory_append', 'core_memory_replace', 'memory', 'memory_apply_patch'],
      react_agent: [],
      workflow_agent: [],
      sleeptime_agent: ['memory_replace', 'memory_insert', 'memory_rethink', 'memory_finish_edits'],
    };
    for (const agentType of AGENT_TYPES) expect(baseToolNames(agentType), agentType).toEqual(expected[agentType]);
  });

  it('enable_sleeptime overrides every type except sleeptime_agent', () => {
    const chat = ['send_message', 'conversation_search', 'archival_memory_search'];
    for (const agentType of AGENT_TYPES) {
      const expected = agentType === 'sleeptime_agent' ? baseToolNames('sleeptime_agent') : chat;
      expect(baseToolNames(agentType, { enableSleeptime: true }), agentType).toEqual(expected);
    }
  });

  it('names only built-in tools', () => {
    for (const agentType of AGENT_TYPES) {
      for (const name of [...baseToolNames(agentType), ...baseToolNames(agentType, { enableSleeptime: true })]) {
        expect(builtinTool(name), name).toBeDefined();
      }
    }
  });
});

describe('baseToolRules', () => {
  it('marks terminal and continue tools and ignores others', () => {
    const rules = baseToolRules('memgpt_agent', 'openai/gpt-4o', [...baseToolNames('memgpt_agent'), 'my_tool']);
    expect(rules).toEqual([
      { type: 'exit_loop', tool_name: 'send_message' },
      { type: 'continue_loop', tool_name: 'conversation_search' },
      { type: 'continue_loop', tool_name: 'core_memory_append' },
      { type: 'continue_loop', tool_name: 'core_memory_replace' },
      { type: 'continue_loop', tool_name: 'memory' },
      { type: 'continue_loop', tool_name: 'memory_apply_patch' },
    ]);
    expect(toolRulesSchema.parse(rules)).toEqual(rules);
  });

  it('sleeptime agents end on memory_finish_edits', () => {
    expect(baseToolRules('sleeptime_agent', 'openai/gpt-4o', baseToolNames('sleeptime_agent'))).toEqual([
      { type: 'continue_loop', tool_name: 'memory_replace' },
      { type: 'continue_loop', tool_name: 'memory_insert' },
      { type: 'continue_loop', tool_name: 'memory_rethink' },
      { type: 'exit_loop', tool_name: 'memory_finish_edits' },
    ]);
  });

  it('letta_v1_agent gets none by default', () => {
    expect(baseToolRules('letta_v1_agent', 'openai/gpt-4o', baseToolNames('letta_v1_agent'))).toEqual([]);
    // Letta only applies that default without enable_sleeptime, user rules or an explicit flag
    expect(baseToolRules('letta_v1_agent', 'openai/gpt-4o', ['send_message'], { enableSleeptime: true })).toHaveLength(1);
    expect(baseToolRules('letta_v1_agent', 'openai/gpt-4o', ['send_message'], { includeBaseToolRules: true })).toHaveLength(1);
  });

  it('skips excluded models unless the name contains "mini" or the flag is explicit', () => {
    for (const model of ['anthropic/claude-3-5-sonnet-20241022', 'openai/gpt-5', 'anthropic/claude-4-sonnet']) {
      expect(isModelExcludedFromBaseToolRules(model), model).toBe(true);
      expect(baseToolRules('memgpt_agent', model, ['send_message']), model).toEqual([]);
    }
    expect(isModelExcludedFromBaseToolRules('openai/gpt-5-mini')).toBe(false);
    // as in Letta, "gemini" itself contains "mini", so gemini-2.5-pro is never actually excluded
    expect(isModelExcludedFromBaseToolRules('google_ai/gemini-2.5-pro')).toBe(false);
    expect(baseToolRules('memgpt_agent', 'openai/gpt-5-mini', ['send_message'])).toHaveLength(1);
    expect(baseToolRules('memgpt_agent', 'openai/gpt-5', ['send_message'], { includeBaseToolRules: true })).toHaveLength(1);
    // sleeptime agents ignore the model exclusion
    expect(baseToolRules('sleeptime_agent', 'openai/gpt-5', ['memory_finish_edits'])).toHaveLength(1);
    expect(baseToolRules('memgpt_agent', 'openai/gpt-4o', ['send_message'], { includeBaseToolRules: false })).toEqual([]);
  });

  it('terminal and continue sets are disjoint', () => {
    expect(TERMINAL_BASE_TOOLS).toEqual(['send_message', 'send_message_to_agent_async', 'memory_finish_edits']);
    for (const name of TERMINAL_BASE_TOOLS) expect(CONTINUE_BASE_TOOLS).not.toContain(name);
    expect(CONTINUE_BASE_TOOLS).toContain('archival_memory_insert');
    expect(CONTINUE_BASE_TOOLS).toContain('memory_rethink');
  });
});
