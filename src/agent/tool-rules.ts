import { z } from 'zod';

/**
 * Tool rules (Letta `letta/schemas/tool_rule.py`): a discriminated union on `type`, stored and
 * imported with Letta's snake_case JSON keys. Every rule names the tool it applies to.
 */

export const TOOL_RULE_TYPES = [
  'run_first',
  'exit_loop',
  'continue_loop',
  'constrain_child_tools',
  'conditional',
  'parent_last_tool',
  'max_count_per_step',
  'required_before_exit',
  'requires_approval',
] as const;

export type ToolRuleType = (typeof TOOL_RULE_TYPES)[number];

const toolName = z.string().min(1, 'must not be empty');
const argsRecord = z.record(z.string(), z.unknown());

/** Fields every rule has. `prompt_template` is accepted for compatibility and ignored, as in Letta. */
const base = {
  tool_name: toolName,
  prompt_template: z.string().nullish(),
};

const childNames = z.array(toolName).min(1, 'must name at least one tool');

/** A typed child override: when `name` is chosen next, its `args` are prefilled. */
export const toolCallNodeSchema = z.object({
  name: toolName,
  args: argsRecord.nullish(),
});

export const initToolRuleSchema = z.object({
  type: z.literal('run_first'),
  ...base,
  args: argsRecord.nullish(),
});

export const terminalToolRuleSchema = z.object({ type: z.literal('exit_loop'), ...base });

export const continueToolRuleSchema = z.object({ type: z.literal('continue_loop'), ...base });

export const childToolRuleSchema = z
  .object({
    type: z.literal('constrain_child_tools'),
    ...base,
    children: childNames,
    child_arg_nodes: z.array(toolCallNodeSchema).nullish(),
  })
  .superRefine((rule, ctx) => {
    if (!rule.child_arg_nodes) return;
    const children = new Set(rule.children);
    rule.child_arg_nodes.forEach((node, index) => {
      if (!children.has(node.name)) {
        ctx.addIssue({
          code: 'custom',
          path: ['child_arg_nodes', index, 'name'],
          message: `'${node.name}' is not one of the rule's children (${rule.children.join(', ')})`,
        });
      }
    });
  });

export const conditionalToolRuleSchema = z.object({
  type: z.literal('conditional'),
  ...base,
  /** JSON object keys are strings; Letta matches them against the tool's output as bool, int, float or string. */
  child_output_mapping: z
    .record(z.string(), toolName)
    .refine((mapping) => Object.keys(mapping).length > 0, 'must map at least one output to a tool'),
  default_child: toolName.nullish(),
  require_output_mapping: z.boolean().default(false),
});

export const parentToolRuleSchema = z.object({
  type: z.literal('parent_last_tool'),
  ...base,
  children: childNames,
});

export const maxCountPerStepToolRuleSchema = z.object({
  type: z.literal('max_count_per_step'),
  ...base,
  max_count_limit: z.number().int('must be an integer').min(1, 'must be at least 1'),
});

export const requiredBeforeExitToolRuleSchema = z.object({ type: z.literal('required_before_exit'), ...base });

export const requiresApprovalToolRuleSchema = z.object({ type: z.literal('requires_approval'), ...base });

export const toolRuleSchema = z.discriminatedUnion('type', [
  childToolRuleSchema,
  initToolRuleSchema,
  terminalToolRuleSchema,
  conditionalToolRuleSchema,
  continueToolRuleSchema,
  requiredBeforeExitToolRuleSchema,
  maxCountPerStepToolRuleSchema,
  parentToolRuleSchema,
  requiresApprovalToolRuleSchema,
]);

export const toolRulesSchema = z.array(toolRuleSchema);

export type ToolRule = z.infer<typeof toolRuleSchema>;
/** What callers may write (defaults not yet applied). */
export type ToolRuleInput = z.input<typeof toolRuleSchema>;
export type ToolRuleOf<T extends ToolRuleType> = Extract<ToolRule, { type: T }>;

/** Letta's `COMPILED_PROMPT_DESCRIPTION`: the first paragraph of `<tool_usage_rules>`. */
export const TOOL_USAGE_RULES_DESCRIPTION =
  'The following constraints define rules for tool usage and guide desired behavior. These rules must be followed to ensure proper tool execution and workflow. A single response may contain multiple tool calls.';

/**
 * The prompt text of one rule (Letta `render_prompt`), or null for rule types without one
 * (run_first, requires_approval). Note Letta renders required_before_exit on a single line.
 */
export function renderToolRulePrompt(rule: ToolRule): string | null {
  switch (rule.type) {
    case 'exit_loop':
      return `<tool_rule>\n${rule.tool_name} ends your response (yields control) when called\n</tool_rule>`;
    case 'continue_loop':
      return `<tool_rule>\n${rule.tool_name} requires continuing your response when called\n</tool_rule>`;
    case 'constrain_child_tools':
      return `<tool_rule>\nAfter using ${rule.tool_name}, you must use one of these tools: ${rule.children.join(', ')}\n</tool_rule>`;
    case 'conditional':
      return `<tool_rule>\n${rule.tool_name} will determine which tool to use next based on its output\n</tool_rule>`;
    case 'parent_last_tool':
      return `<tool_rule>\n${rule.children.join(', ')} can only be used after ${rule.tool_name}\n</tool_rule>`;
    case 'max_count_per_step':
      return `<tool_rule>\n${rule.tool_name}: at most ${rule.max_count_limit} use(s) per response\n</tool_rule>`;
    case 'required_before_exit':
      return `<tool_rule>${rule.tool_name} must be called before ending the conversation</tool_rule>`;
    case 'run_first':
    case 'requires_approval':
      return null;
  }
}

/**
 * Letta's solver groups rules before compiling the prompt: init, continue, child-based
 * (constrain_child_tools, conditional, max_count_per_step, in input order), parent, terminal.
 * required_before_exit and requires_approval rules are not part of the compiled block.
 */
const PROMPT_GROUP: Partial<Record<ToolRuleType, number>> = {
  run_first: 0,
  continue_loop: 1,
  constrain_child_tools: 2,
  conditional: 2,
  max_count_per_step: 2,
  parent_last_tool: 3,
  exit_loop: 4,
};

/**
 * The `<tool_usage_rules>` section (without the blank line that separates it from the memory
 * blocks), or '' when no rule produces a prompt line.
 */
export function renderToolRules(rules: readonly ToolRule[]): string {
  const grouped: string[][] = [[], [], [], [], []];
  for (const rule of rules) {
    const group = PROMPT_GROUP[rule.type];
    if (group === undefined) continue;
    const line = renderToolRulePrompt(rule);
    if (line) grouped[group]!.push(line);
  }
  const lines = grouped.flat();
  if (lines.length === 0) return '';
  return `<tool_usage_rules>\n${TOOL_USAGE_RULES_DESCRIPTION}\n\n${lines.join('\n')}\n</tool_usage_rules>`;
}
