import { describe, expect, it } from 'vitest';
import {
  TOOL_RULE_TYPES,
  TOOL_USAGE_RULES_DESCRIPTION,
  renderToolRulePrompt,
  renderToolRules,
  toolRuleSchema,
  toolRulesSchema,
  type ToolRule,
} from '../../src/agent/tool-rules.js';

const valid: Record<(typeof TOOL_RULE_TYPES)[number], unknown> = {
  run_first: { type: 'run_first', tool_name: 'init', args: { mode: 'fast' } },
  exit_loop: { type: 'exit_loop', tool_name: 'send_message' },
  continue_loop: { type: 'continue_loop', tool_name: 'search' },
  constrain_child_tools: {
    type: 'constrain_child_tools',
    tool_name: 'plan',
    children: ['act', 'ask'],
    child_arg_nodes: [{ name: 'act', args: { step: 1 } }],
  },
  conditional: { type: 'conditional', tool_name: 'check', child_output_mapping: { true: 'yes_tool', '2': 'two_tool' }, default_child: 'fallback' },
  parent_last_tool: { type: 'parent_last_tool', tool_name: 'login', children: ['read', 'write'] },
  max_count_per_step: { type: 'max_count_per_step', tool_name: 'web', max_count_limit: 3 },
  required_before_exit: { type: 'required_before_exit', tool_name: 'save' },
  requires_approval: { type: 'requires_approval', tool_name: 'pay' },
};

const parse = (value: unknown): ToolRule => toolRuleSchema.parse(value);

describe('toolRuleSchema', () => {
  it('accepts every rule type', () => {
    for (const type of TOOL_RULE_TYPES) expect(parse(valid[type]).type).toBe(type);
    expect(toolRulesSchema.parse(Object.values(valid))).toHaveLength(9);
  });

  it('applies defaults and keeps Letta keys', () => {
    const rule = parse({ type: 'conditional', tool_name: 'check', child_output_mapping: { a: 'b' } });
    expect(rule).toEqual({ type: 'conditional', tool_name: 'check', child_output_mapping: { a: 'b' }, require_output_mapping: false });
    expect(parse({ type: 'exit_loop', tool_name: 'x', prompt_template: 'ignored' })).toEqual({
      type: 'exit_loop',
      tool_name: 'x',
      prompt_template: 'ignored',
    });
  });

  it.each([
    ['missing tool_name', { type: 'exit_loop' }],
    ['empty tool_name', { type: 'exit_loop', tool_name: '' }],
    ['unknown type', { type: 'sometimes', tool_name: 'x' }],
    ['missing type', { tool_name: 'x' }],
    ['max_count_limit 0', { type: 'max_count_per_step', tool_name: 'x', max_count_limit: 0 }],
    ['max_count_limit not an integer', { type: 'max_count_per_step', tool_name: 'x', max_count_limit: 1.5 }],
    ['max_count_limit missing', { type: 'max_count_per_step', tool_name: 'x' }],
    ['empty children', { type: 'constrain_child_tools', tool_name: 'x', children: [] }],
    ['parent without children', { type: 'parent_last_tool', tool_name: 'x', children: [] }],
    ['child_arg_nodes naming a non-child', { type: 'constrain_child_tools', tool_name: 'x', children: ['a'], child_arg_nodes: [{ name: 'b' }] }],
    ['empty child_output_mapping', { type: 'conditional', tool_name: 'x', child_output_mapping: {} }],
  ])('rejects %s', (_name, value) => {
    expect(toolRuleSchema.safeParse(value).success).toBe(false);
  });
});

describe('renderToolRulePrompt', () => {
  const expected: Record<(typeof TOOL_RULE_TYPES)[number], string | null> = {
    run_first: null,
    exit_loop: '<tool_rule>\nsend_message ends your response (yields control) when called\n</tool_rule>',
    continue_loop: '<tool_rule>\nsearch requires continuing your response when called\n</tool_rule>',
    constrain_child_tools: '<tool_rule>\nAfter using plan, you must use one of these tools: act, ask\n</tool_rule>',
    conditional: '<tool_rule>\ncheck will determine which tool to use next based on its output\n</tool_rule>',
    parent_last_tool: '<tool_rule>\nread, write can only be used after login\n</tool_rule>',
    max_count_per_step: '<tool_rule>\nweb: at most 3 use(s) per response\n</tool_rule>',
    required_before_exit: '<tool_rule>save must be called before ending the conversation</tool_rule>',
    requires_approval: null,
  };
  it.each(TOOL_RULE_TYPES)('%s', (type) => {
    expect(renderToolRulePrompt(parse(valid[type]))).toBe(expected[type]);
  });
});

describe('renderToolRules', () => {
  it('is empty without prompt lines', () => {
    expect(renderToolRules([])).toBe('');
    expect(renderToolRules([parse(valid.run_first), parse(valid.requires_approval), parse(valid.required_before_exit)])).toBe('');
  });

  it('groups lines in Letta order: init, continue, child-based, parent, terminal', () => {
    const rules = toolRulesSchema.parse([
      valid.exit_loop,
      valid.parent_last_tool,
      valid.max_count_per_step,
      valid.required_before_exit,
      valid.continue_loop,
      valid.constrain_child_tools,
      valid.conditional,
      valid.run_first,
    ]);
    expect(renderToolRules(rules)).toBe(`<tool_usage_rules>
${TOOL_USAGE_RULES_DESCRIPTION}

<tool_rule>
search requires continuing your response when called
</tool_rule>
<tool_rule>
web: at most 3 use(s) per response
</tool_rule>
<tool_rule>
After using plan, you must use one of these tools: act, ask
</tool_rule>
<tool_rule>
check will determine which tool to use next based on its output
</tool_rule>
<tool_rule>
read, write can only be used after login
</tool_rule>
<tool_rule>
send_message ends your response (yields control) when called
</tool_rule>
</tool_usage_rules>`);
    expect(TOOL_USAGE_RULES_DESCRIPTION).toBe(
      'The following constraints define rules for tool usage and guide desired behavior. These rules must be followed to ensure proper tool execution and workflow. A single response may contain multiple tool calls.',
    );
  });
});
