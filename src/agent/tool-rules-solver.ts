import { formatDatetime } from './memory.js';
import { renderToolRulePrompt, type ToolRule, type ToolRuleOf } from './tool-rules.js';
import { pyRepr, pyStr } from './python-str.js';

/**
 * Per-request tool-rule state (Letta `letta/helpers/tool_rule_solver.py` plus the rule classes'
 * `get_valid_tools` in `letta/schemas/tool_rule.py`), and the texts the agent loops
 * (`letta_agent_v2.py`, `letta_agent_v3.py`) derive from it.
 *
 * One solver lives for one request: the call history (and so max_count_per_step, init and
 * required_before_exit) starts empty on every request.
 */

/** Letta's `NON_USER_MSG_PREFIX`. */
export const NON_USER_MSG_PREFIX = '[This is an automated system message hidden from the user] ';

/** Letta's `REQ_HEARTBEAT_MESSAGE` / `FUNC_FAILED_HEARTBEAT_MESSAGE` (both carry the prefix). */
export const HEARTBEAT_MESSAGES = {
  requested: `${NON_USER_MSG_PREFIX}Function called using request_heartbeat=true, returning control`,
  failed: `${NON_USER_MSG_PREFIX}Function call failed, returning control`,
} as const;

/** The heartbeat reasons the v2/v3 loops write when they keep stepping (`_decide_continuation`). */
export const CONTINUATION_REASONS = {
  toolRuleViolation: `${NON_USER_MSG_PREFIX}Continuing: tool rule violation.`,
  childToolRule: `${NON_USER_MSG_PREFIX}Continuing: child tool rule.`,
  continueToolRule: `${NON_USER_MSG_PREFIX}Continuing: continue tool rule.`,
  /** v2, after an approval was denied. */
  userDenied: `${NON_USER_MSG_PREFIX}Continuing: user denied request to call tool.`,
  /** After a tool call while required_before_exit tools are still uncalled. */
  requiredToolsPending: (uncalled: readonly string[]) =>
    `${NON_USER_MSG_PREFIX}Continuing, user expects these tools: [${uncalled.join(', ')}] to be called still.`,
  /** v3, after a reply without a tool call while required_before_exit tools are still uncalled. */
  requiredToolsViolated: (uncalled: readonly string[]) =>
    `${NON_USER_MSG_PREFIX}ToolRuleViolated: You must call ${uncalled.join(', ')} at least once to exit the loop.`,
} as const;

type ChildBasedRule = ToolRuleOf<'constrain_child_tools'> | ToolRuleOf<'conditional'> | ToolRuleOf<'max_count_per_step'>;

interface RegisteredCall {
  toolName: string;
  result: string | undefined;
}

export interface ContinuationReasonOptions {
  /**
   * The agent's tool names. When given, uncalled required_before_exit tools (among them) add
   * Letta's "user expects these tools" reason. Call `registerCall` for the tool first, as Letta does.
   */
  available?: readonly string[];
  /** Which loop's rules to apply to required_before_exit tools. Default 'v3'. */
  loop?: 'v2' | 'v3';
  /**
   * v2 only: the model set request_heartbeat=true. Then the loop continues anyway, the reason is
   * only a rule's (child/continue), and required tools do not add one (the caller falls back to
   * HEARTBEAT_MESSAGES).
   */
  heartbeatRequested?: boolean;
}

export class ToolRulesSolver {
  readonly rules: readonly ToolRule[];
  private readonly initRules: ToolRuleOf<'run_first'>[] = [];
  private readonly continueRules: ToolRuleOf<'continue_loop'>[] = [];
  /** child, conditional and max-count rules in input order (Letta's `child_based_tool_rules`). */
  private readonly childBasedRules: ChildBasedRule[] = [];
  private readonly parentRules: ToolRuleOf<'parent_last_tool'>[] = [];
  private readonly terminalRules: ToolRuleOf<'exit_loop'>[] = [];
  private readonly requiredBeforeExitRules: ToolRuleOf<'required_before_exit'>[] = [];
  private readonly requiresApprovalRules: ToolRuleOf<'requires_approval'>[] = [];
  private readonly history: RegisteredCall[] = [];
  /** Letta's `last_prefilled_args_by_tool`: refreshed by every allowedTools()/constrainedTools() call. */
  private prefilledCache: Map<string, Record<string, unknown>> | undefined;

  constructor(rules: readonly ToolRule[] = []) {
    this.rules = [...rules];
    for (const rule of rules) {
      switch (rule.type) {
        case 'run_first':
          this.initRules.push(rule);
          break;
        case 'continue_loop':
          this.continueRules.push(rule);
          break;
        case 'constrain_child_tools':
        case 'conditional':
        case 'max_count_per_step':
          this.childBasedRules.push(rule);
          break;
        case 'parent_last_tool':
          this.parentRules.push(rule);
          break;
        case 'exit_loop':
          this.terminalRules.push(rule);
          break;
        case 'required_before_exit':
          this.requiredBeforeExitRules.push(rule);
          break;
        case 'requires_approval':
          this.requiresApprovalRules.push(rule);
          break;
      }
    }
  }

  /**
   * Record a successful (rule-abiding) tool call of this request. `result` is the tool's
   * response: the plain text, or the packaged `{"status","message","time"}` JSON (its `message`
   * is then used). Conditional rules match against the latest registered result.
   */
  registerCall(toolName: string, result?: string): void {
    this.history.push({ toolName, result });
  }

  /** Forget this request's calls (Letta's `clear_tool_history`). */
  clearHistory(): void {
    this.history.length = 0;
  }

  /** Tool names called so far in this request, in order. */
  get callHistory(): string[] {
    return this.history.map((call) => call.toolName);
  }

  /** The most recently registered tool, if any. */
  get lastTool(): string | undefined {
    return this.history.at(-1)?.toolName;
  }

  /**
   * The solver's own answer (Letta's `get_allowed_tool_names`), which can be empty: with no calls
   * yet and init rules, the init tools; otherwise the intersection of the child, conditional,
   * max-count and parent rules' sets, restricted to `available`. Ordered as `available`.
   */
  constrainedTools(available: readonly string[]): string[] {
    const availableSet = new Set(available);
    let allowed: string[];
    if (this.history.length === 0 && this.initRules.length > 0) {
      const init = new Set(this.initRules.map((rule) => rule.tool_name));
      allowed = available.filter((name) => init.has(name));
    } else {
      let current = availableSet;
      for (const rule of [...this.childBasedRules, ...this.parentRules]) {
        const valid = this.validToolsFor(rule, availableSet);
        current = new Set([...current].filter((name) => valid.has(name)));
      }
      allowed = dedupe(available).filter((name) => current.has(name));
    }
    this.prefilledCache = this.computePrefilledArgs(new Set(allowed));
    return allowed;
  }

  /**
   * Tool names the model may call now. As both Letta loops do (`get_allowed_tool_names(...) or
   * all tools`), an empty rule result — including no rules at all — means every available tool.
   */
  allowedTools(available: readonly string[]): string[] {
    const constrained = this.constrainedTools(available);
    // Letta keeps the prefilled-args cache of the (empty) rule result here.
    return constrained.length > 0 ? constrained : dedupe(available);
  }

  /**
   * Whether the next LLM call must produce a tool call (Letta's `should_force_tool_call`, used by
   * v3): init rules before any call, or the last call was the parent of a child, conditional or
   * parent_last_tool rule. max_count_per_step never forces.
   */
  mustCallTool(available: readonly string[]): boolean {
    if (available.length === 0) return false;
    if (this.history.length === 0) return this.initRules.length > 0;
    const last = this.lastTool;
    return (
      this.childBasedRules.some((rule) => rule.type !== 'max_count_per_step' && rule.tool_name === last) ||
      this.parentRules.some((rule) => rule.tool_name === last)
    );
  }

  /**
   * An exit_loop tool. Note both Letta loops still continue after a terminal call while
   * required_before_exit tools are uncalled (see `continuationReason`).
   */
  isTerminal(toolName: string): boolean {
    return this.terminalRules.some((rule) => rule.tool_name === toolName);
  }

  /** A tool that names a child-based rule (Letta's `has_children_tools`). */
  hasChildRules(toolName: string): boolean {
    return this.childBasedRules.some((rule) => rule.tool_name === toolName);
  }

  /** A continue_loop tool. */
  isContinueTool(toolName: string): boolean {
    return this.continueRules.some((rule) => rule.tool_name === toolName);
  }

  /**
   * Whether a rule forces the loop on after this (non-terminal) tool: continue_loop, or any
   * child-based rule on it. As in Letta, "child-based" includes max_count_per_step.
   */
  requiresContinuation(toolName: string): boolean {
    if (this.isTerminal(toolName)) return false;
    return this.hasChildRules(toolName) || this.isContinueTool(toolName);
  }

  /** required_before_exit tools that are among `available` and not called yet, in rule order. */
  uncalledRequiredBeforeExit(available: readonly string[]): string[] {
    const availableSet = new Set(available);
    const called = new Set(this.callHistory);
    return dedupe(this.requiredBeforeExitRules.map((rule) => rule.tool_name)).filter(
      (name) => availableSet.has(name) && !called.has(name),
    );
  }

  /** A requires_approval tool (human in the loop). */
  requiresApproval(toolName: string): boolean {
    return this.requiresApprovalRules.some((rule) => rule.tool_name === toolName);
  }

  /** Names of all requires_approval tools, in rule order. */
  approvalTools(): string[] {
    return dedupe(this.requiresApprovalRules.map((rule) => rule.tool_name));
  }

  /** Letta enables parallel tool calls only when every rule (if any) is requires_approval. */
  allowsParallelToolCalls(): boolean {
    return this.rules.every((rule) => rule.type === 'requires_approval');
  }

  /**
   * Arguments the rules prefill for `toolName` in the coming call (they override the model's
   * same-name arguments): a run_first rule's `args` before any call, and a child rule's
   * `child_arg_nodes[].args` right after its parent; merged last-write-wins. As Letta's cache,
   * this reflects the last `allowedTools()` evaluation (the step's start) and only tools allowed
   * then; before any evaluation it is computed from the current state.
   */
  prefilledArgs(toolName: string): Record<string, unknown> | undefined {
    const cache = this.prefilledCache ?? this.computePrefilledArgs(undefined);
    const args = cache.get(toolName);
    return args ? { ...args } : undefined;
  }

  /**
   * The heartbeat reason Letta writes when a rule keeps the loop going after `toolName`
   * (`_decide_continuation`); undefined when no rule does (the v2 caller then uses
   * HEARTBEAT_MESSAGES). Register the call first.
   */
  continuationReason(toolName: string, options: ContinuationReasonOptions = {}): string | undefined {
    const loop = options.loop ?? 'v3';
    let reason: string | undefined;
    let continuing = loop === 'v2' ? options.heartbeatRequested === true : true;
    if (this.isTerminal(toolName)) {
      continuing = false;
    } else if (this.hasChildRules(toolName)) {
      continuing = true;
      reason = CONTINUATION_REASONS.childToolRule;
    } else if (this.isContinueTool(toolName)) {
      continuing = true;
      reason = CONTINUATION_REASONS.continueToolRule;
    }
    if (options.available) {
      const uncalled = this.uncalledRequiredBeforeExit(options.available);
      // v3 always overrides the reason; v2 only when nothing else keeps the loop going.
      if (uncalled.length > 0 && (loop === 'v3' || !continuing)) {
        reason = CONTINUATION_REASONS.requiredToolsPending(uncalled);
      }
    }
    return reason;
  }

  /**
   * The rendered prompt lines of rules on `toolName` or on the previous call (Letta's
   * `guess_rule_violation`), in Letta's group order: init, continue, child-based, parent, terminal.
   */
  guessRuleViolation(toolName: string): string[] {
    const previous = this.lastTool;
    const ordered: ToolRule[] = [
      ...this.initRules,
      ...this.continueRules,
      ...this.childBasedRules,
      ...this.parentRules,
      ...this.terminalRules,
    ];
    const hints: string[] = [];
    for (const rule of ordered) {
      if (rule.tool_name !== toolName && (previous === undefined || rule.tool_name !== previous)) continue;
      const prompt = renderToolRulePrompt(rule);
      if (prompt) hints.push(prompt);
    }
    return hints;
  }

  /** Letta's full `_build_rule_violation_result` text, with the rule hints. */
  constraintError(toolName: string, allowed: readonly string[]): string {
    return toolConstraintError(toolName, allowed, this.guessRuleViolation(toolName));
  }

  private validToolsFor(rule: ChildBasedRule | ToolRuleOf<'parent_last_tool'>, available: Set<string>): Set<string> {
    const last = this.lastTool;
    switch (rule.type) {
      case 'constrain_child_tools':
        return last === rule.tool_name ? new Set(rule.children) : available;
      case 'parent_last_tool':
        if (last === rule.tool_name) return new Set(rule.children);
        return new Set([...available].filter((name) => !rule.children.includes(name)));
      case 'max_count_per_step': {
        const count = this.history.filter((call) => call.toolName === rule.tool_name).length;
        if (count >= rule.max_count_limit) return new Set([...available].filter((name) => name !== rule.tool_name));
        return available;
      }
      case 'conditional': {
        if (last !== rule.tool_name) return available;
        const output = conditionalOutput(this.history.at(-1)?.result);
        for (const [key, child] of Object.entries(rule.child_output_mapping)) {
          if (output !== undefined && matchesOutputKey(output, key)) return new Set([child]);
        }
        if (rule.require_output_mapping) return new Set();
        return rule.default_child ? new Set([rule.default_child]) : available;
      }
    }
  }

  private computePrefilledArgs(allowed: Set<string> | undefined): Map<string, Record<string, unknown>> {
    const out = new Map<string, Record<string, unknown>>();
    const store = (name: string, args: Record<string, unknown> | null | undefined) => {
      if (!args || Object.keys(args).length === 0) return;
      if (allowed && !allowed.has(name)) return;
      out.set(name, { ...(out.get(name) ?? {}), ...args });
    };
    if (this.history.length === 0) {
      for (const rule of this.initRules) store(rule.tool_name, rule.args);
    }
    const last = this.lastTool;
    for (const rule of this.childBasedRules) {
      if (rule.type !== 'constrain_child_tools' || rule.tool_name !== last) continue;
      for (const node of rule.child_arg_nodes ?? []) store(node.name, node.args);
    }
    return out;
  }
}

/**
 * The output a conditional rule matches: the `message` of a packaged tool response, else the
 * raw result text. Undefined when the rule's tool returned nothing (Letta raises there; we fall
 * through to default_child / require_output_mapping instead).
 */
function conditionalOutput(result: string | undefined): string | undefined {
  if (result === undefined || result === '') return undefined;
  try {
    const parsed: unknown = JSON.parse(result);
    if (parsed && typeof parsed === 'object' && !Array.isArray(parsed) && 'message' in parsed) {
      const message = (parsed as { message: unknown }).message;
      if (message === null || message === undefined) return '';
      return typeof message === 'string' ? message : pyStr(message);
    }
  } catch {
    // not JSON: the raw text is the output
  }
  return result;
}

/**
 * Letta's `_matches_key`. Keys arrive as JSON object keys (strings); a key that reads as a bool
 * or a number is matched the way Letta matches a bool / int / float key, else by string equality.
 */
function matchesOutputKey(output: string, key: string): boolean {
  if (output === key) return true;
  const lowerKey = key.toLowerCase();
  if (lowerKey === 'true' || lowerKey === 'false') return output.toLowerCase() === lowerKey;
  if (/^-?\d+$/.test(key.trim())) {
    return /^\s*[+-]?\d+\s*$/.test(output) && BigInt(output.trim()) === BigInt(key.trim());
  }
  if (/^\s*[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?\s*$/.test(key)) {
    const value = Number(output.trim());
    return output.trim() !== '' && !Number.isNaN(value) && value === Number(key);
  }
  return false;
}

function dedupe(names: readonly string[]): string[] {
  return [...new Set(names)];
}

/**
 * Letta's `[ToolConstraintError]` tool result for a call outside the allowed set: the allowed
 * list is a Python list repr. `hints` (from `guessRuleViolation`) add Letta's hint block.
 */
export function toolConstraintError(toolName: string, allowed: readonly string[], hints: readonly string[] = []): string {
  const list = `[${allowed.map(pyRepr).join(', ')}]`;
  const hintText =
    hints.length > 0 ? `\n** Hint: Possible rules that were violated:\n${hints.map((hint) => `\t- ${hint}`).join('\n')}` : '';
  return `[ToolConstraintError] Cannot call ${toolName}, valid tools include: ${list}.${hintText}`;
}

/** Letta's `json_dumps`: two-space indent, non-ASCII kept, NUL characters stripped from strings. */
function lettaJsonDumps(value: unknown): string {
  return JSON.stringify(stripNul(value), null, 2);
}

function stripNul(value: unknown): unknown {
  if (typeof value === 'string') return value.replaceAll('\u0000', '');
  if (Array.isArray(value)) return value.map(stripNul);
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k.replaceAll('\u0000', ''), stripNul(v)]));
  }
  return value;
}

/** The heartbeat user message text (Letta's `get_heartbeat`). */
export function heartbeatMessage(reason: string, now: Date, timezone: string): string {
  return lettaJsonDumps({ type: 'heartbeat', reason, time: formatDatetime(now, timezone) });
}

/** A tool result as the LLM sees it (Letta's `package_function_response`). */
export function packageToolResult(status: 'OK' | 'Failed', message: string | null, now: Date, timezone: string): string {
  return lettaJsonDumps({ status, message, time: formatDatetime(now, timezone) });
}
