import type { AgentType } from '../prompts.js';
import type { ToolRule } from '../tool-rules.js';
import { BASE_MEMORY_TOOLS, BASE_MEMORY_TOOLS_V2, BASE_MEMORY_TOOLS_V3, BASE_SLEEPTIME_TOOLS, BASE_TOOLS } from './builtin.js';

/** Letta's base tool rules: which built-in tools end the loop or continue it, and for which agents and models. */

/** Tools that get an `exit_loop` base rule. */
export const TERMINAL_BASE_TOOLS: readonly string[] = ['send_message', 'send_message_to_agent_async', 'memory_finish_edits'];

/** Tools that get a `continue_loop` base rule: the base and memory tools that are not terminal. */
export const CONTINUE_BASE_TOOLS: readonly string[] = [
  ...new Set<string>([...BASE_TOOLS, ...BASE_MEMORY_TOOLS, ...BASE_MEMORY_TOOLS_V2, ...BASE_MEMORY_TOOLS_V3, ...BASE_SLEEPTIME_TOOLS]),
].filter((name) => !TERMINAL_BASE_TOOLS.includes(name));

/** Letta skips base tool rules for these models unless the name also contains an include keyword. */
export const EXCLUDE_MODEL_KEYWORDS_FROM_BASE_TOOL_RULES: readonly string[] = ['claude-4-sonnet', 'claude-3-5-sonnet', 'gpt-5', 'gemini-2.5-pro'];
export const INCLUDE_MODEL_KEYWORDS_BASE_TOOL_RULES: readonly string[] = ['mini'];

export function isModelExcludedFromBaseToolRules(modelName: string): boolean {
  if (INCLUDE_MODEL_KEYWORDS_BASE_TOOL_RULES.some((keyword) => modelName.includes(keyword))) return false;
  return EXCLUDE_MODEL_KEYWORDS_FROM_BASE_TOOL_RULES.some((keyword) => modelName.includes(keyword));
}

export interface BaseToolRuleOptions {
  /** The request's `include_base_tool_rules`; undefined/null means "not given". `false` is normally handled by the caller. */
  includeBaseToolRules?: boolean | null;
  /** Whether the request supplied its own tool_rules (lifts letta_v1_agent's default of no base rules). */
  hasUserToolRules?: boolean;
  /** `enable_sleeptime` (letta_v1_agent's default of no base rules only applies without it). */
  enableSleeptime?: boolean;
}

/**
 * Whether Letta adds base tool rules at create: never when include_base_tool_rules is false;
 * letta_v1_agent (without enable_sleeptime or its own rules) defaults to none; otherwise the
 * model-name exclusion applies when the flag is not given, except for sleeptime agents.
 */
export function shouldAddBaseToolRules(agentType: AgentType, modelName: string, options: BaseToolRuleOptions = {}): boolean {
  let include = options.includeBaseToolRules ?? null;
  if (agentType === 'letta_v1_agent' && !options.enableSleeptime && !options.hasUserToolRules && include === null) include = false;
  if (include === false) return false;
  if (include === null && agentType !== 'sleeptime_agent' && isModelExcludedFromBaseToolRules(modelName)) return false;
  return true;
}

/**
 * The base tool rules for an agent's tools: exit_loop for the terminal tools, continue_loop for
 * the other base/memory tools, none for other tools. Empty when {@link shouldAddBaseToolRules}
 * says so (e.g. letta_v1_agent, or a model name such as "gpt-5"). requires_approval rules for
 * tools with default_requires_approval are added by the caller, whatever this returns.
 */
export function baseToolRules(
  agentType: AgentType,
  modelName: string,
  toolNames: readonly string[],
  options: BaseToolRuleOptions = {},
): ToolRule[] {
  if (!shouldAddBaseToolRules(agentType, modelName, options)) return [];
  const rules: ToolRule[] = [];
  for (const name of new Set(toolNames)) {
    if (TERMINAL_BASE_TOOLS.includes(name)) rules.push({ type: 'exit_loop', tool_name: name });
    else if (CONTINUE_BASE_TOOLS.includes(name)) rules.push({ type: 'continue_loop', tool_name: name });
  }
  return rules;
}
