import { describe, expect, it } from 'vitest';
import { toolRulesSchema, type ToolRuleInput } from '../../src/agent/tool-rules.js';
import {
  CONTINUATION_REASONS,
  HEARTBEAT_MESSAGES,
  NON_USER_MSG_PREFIX,
  ToolRulesSolver,
  heartbeatMessage,
  packageToolResult,
  toolConstraintError,
} from '../../src/agent/tool-rules-solver.js';

const solver = (rules: ToolRuleInput[]) => new ToolRulesSolver(toolRulesSchema.parse(rules));
const NOW = new Date('2025-01-01T12:00:00Z');
const packaged = (message: string) => packageToolResult('OK', message, NOW, 'UTC');

describe('ToolRulesSolver: no rules', () => {
  const s = new ToolRulesSolver([]);
  const tools = ['send_message', 'memory_insert', 'conversation_search'];

  it('allows every tool, before and after calls', () => {
    expect(s.allowedTools(tools)).toEqual(tools);
    s.registerCall('memory_insert', 'ok');
    expect(s.allowedTools(tools)).toEqual(tools);
  });

  it('never forces, ends or continues, and prefills nothing', () => {
    expect(s.mustCallTool(tools)).toBe(false);
    expect(s.isTerminal('send_message')).toBe(false);
    expect(s.requiresContinuation('memory_insert')).toBe(false);
    expect(s.continuationReason('memory_insert', { available: tools })).toBeUndefined();
    expect(s.uncalledRequiredBeforeExit(tools)).toEqual([]);
    expect(s.requiresApproval('send_message')).toBe(false);
    expect(s.prefilledArgs('send_message')).toBeUndefined();
    expect(s.allowsParallelToolCalls()).toBe(true);
  });
});

describe('run_first', () => {
  const tools = ['start', 'prep', 'other'];

  it('allows only init tools before the first call, then everything', () => {
    const s = solver([
      { type: 'run_first', tool_name: 'start' },
      { type: 'run_first', tool_name: 'prep' },
    ]);
    expect(s.allowedTools(tools)).toEqual(['start', 'prep']);
    expect(s.mustCallTool(tools)).toBe(true);
    s.registerCall('start', 'done');
    expect(s.allowedTools(tools)).toEqual(tools);
    expect(s.mustCallTool(tools)).toBe(false);
  });

  it('prefills its args only for the first call', () => {
    const s = solver([{ type: 'run_first', tool_name: 'start', args: { mode: 'fast' } }]);
    expect(s.allowedTools(tools)).toEqual(['start']);
    expect(s.prefilledArgs('start')).toEqual({ mode: 'fast' });
    expect(s.prefilledArgs('other')).toBeUndefined();
    s.registerCall('start');
    s.allowedTools(tools);
    expect(s.prefilledArgs('start')).toBeUndefined();
  });

  it('falls back to all tools when no init tool is attached', () => {
    const s = solver([{ type: 'run_first', tool_name: 'missing' }]);
    expect(s.constrainedTools(tools)).toEqual([]);
    expect(s.allowedTools(tools)).toEqual(tools);
  });
});

describe('constrain_child_tools', () => {
  const tools = ['start', 'next', 'helper', 'final'];
  const rules: ToolRuleInput[] = [
    { type: 'run_first', tool_name: 'start' },
    {
      type: 'constrain_child_tools',
      tool_name: 'start',
      children: ['next', 'helper'],
      child_arg_nodes: [{ name: 'next', args: { depth: 2 } }, { name: 'helper', args: {} }],
    },
    { type: 'constrain_child_tools', tool_name: 'next', children: ['final'] },
    { type: 'exit_loop', tool_name: 'final' },
  ];

  it('init then child then grandchild', () => {
    const s = solver(rules);
    expect(s.allowedTools(tools)).toEqual(['start']);
    s.registerCall('start', 'ok');
    expect(s.allowedTools(tools)).toEqual(['next', 'helper']);
    expect(s.mustCallTool(tools)).toBe(true);
    expect(s.requiresContinuation('start')).toBe(true);
    expect(s.continuationReason('start')).toBe(`${NON_USER_MSG_PREFIX}Continuing: child tool rule.`);
    s.registerCall('next', 'ok');
    expect(s.allowedTools(tools)).toEqual(['final']);
    s.registerCall('final', 'ok');
    expect(s.isTerminal('final')).toBe(true);
    expect(s.requiresContinuation('final')).toBe(false);
    expect(s.continuationReason('final')).toBeUndefined();
    // the child rules no longer apply after an unconstrained call
    expect(s.allowedTools(tools)).toEqual(tools);
    expect(s.mustCallTool(tools)).toBe(false);
  });

  it('prefills child_arg_nodes args right after the parent, skipping empty args', () => {
    const s = solver(rules);
    s.registerCall('start', 'ok');
    s.allowedTools(tools);
    expect(s.prefilledArgs('next')).toEqual({ depth: 2 });
    expect(s.prefilledArgs('helper')).toBeUndefined();
    s.registerCall('next', 'ok');
    s.allowedTools(tools);
    expect(s.prefilledArgs('next')).toBeUndefined();
  });

  it('uses the args cached at the last allowedTools evaluation, like Letta', () => {
    const s = solver(rules);
    s.registerCall('start', 'ok');
    s.allowedTools(tools);
    s.registerCall('helper', 'ok');
    expect(s.prefilledArgs('next')).toEqual({ depth: 2 });
  });

  it('returns a copy of the prefilled args', () => {
    const s = solver(rules);
    s.registerCall('start', 'ok');
    s.allowedTools(tools);
    s.prefilledArgs('next')!.depth = 99;
    expect(s.prefilledArgs('next')).toEqual({ depth: 2 });
  });

  it('drops children that are not attached to the agent', () => {
    const s = solver(rules);
    s.registerCall('start', 'ok');
    expect(s.allowedTools(['start', 'helper'])).toEqual(['helper']);
  });
});

describe('exit_loop and continue_loop', () => {
  const s = solver([
    { type: 'exit_loop', tool_name: 'send_message' },
    { type: 'continue_loop', tool_name: 'search' },
  ]);

  it('classifies terminal and continue tools', () => {
    expect(s.isTerminal('send_message')).toBe(true);
    expect(s.isTerminal('search')).toBe(false);
    expect(s.requiresContinuation('search')).toBe(true);
    expect(s.requiresContinuation('send_message')).toBe(false);
    expect(s.requiresContinuation('other')).toBe(false);
    expect(s.continuationReason('search')).toBe(`${NON_USER_MSG_PREFIX}Continuing: continue tool rule.`);
    expect(s.continuationReason('other')).toBeUndefined();
  });

  it('does not restrict the allowed set or force tool calls', () => {
    expect(s.allowedTools(['send_message', 'search'])).toEqual(['send_message', 'search']);
    expect(s.mustCallTool(['send_message', 'search'])).toBe(false);
    expect(s.allowsParallelToolCalls()).toBe(false);
  });
});

describe('max_count_per_step', () => {
  const tools = ['web', 'send_message'];

  it('removes the tool after N calls in the request', () => {
    const s = solver([{ type: 'max_count_per_step', tool_name: 'web', max_count_limit: 2 }]);
    expect(s.allowedTools(tools)).toEqual(tools);
    s.registerCall('web', 'a');
    expect(s.allowedTools(tools)).toEqual(tools);
    s.registerCall('send_message', 'b');
    s.registerCall('web', 'c');
    expect(s.allowedTools(tools)).toEqual(['send_message']);
    expect(s.mustCallTool(tools)).toBe(false);
  });

  it('gives an empty rule result when it exhausts the only tool, which the loop widens to all', () => {
    const s = solver([
      { type: 'run_first', tool_name: 'web' },
      { type: 'max_count_per_step', tool_name: 'web', max_count_limit: 1 },
    ]);
    expect(s.allowedTools(['web'])).toEqual(['web']);
    s.registerCall('web', 'x');
    expect(s.constrainedTools(['web'])).toEqual([]);
    expect(s.allowedTools(['web'])).toEqual(['web']);
  });

  it('counts as a child-based rule for continuation, as in Letta', () => {
    const s = solver([{ type: 'max_count_per_step', tool_name: 'web', max_count_limit: 3 }]);
    expect(s.requiresContinuation('web')).toBe(true);
    expect(s.continuationReason('web')).toBe(CONTINUATION_REASONS.childToolRule);
  });

  it('resets when history is cleared', () => {
    const s = solver([{ type: 'max_count_per_step', tool_name: 'web', max_count_limit: 1 }]);
    s.registerCall('web');
    expect(s.allowedTools(tools)).toEqual(['send_message']);
    s.clearHistory();
    expect(s.allowedTools(tools)).toEqual(tools);
  });
});

describe('parent_last_tool', () => {
  const tools = ['login', 'read', 'write', 'other'];
  const rules: ToolRuleInput[] = [{ type: 'parent_last_tool', tool_name: 'login', children: ['read', 'write'] }];

  it('hides the children until the parent was the last call', () => {
    const s = solver(rules);
    expect(s.allowedTools(tools)).toEqual(['login', 'other']);
    expect(s.mustCallTool(tools)).toBe(false);
    s.registerCall('login', 'ok');
    expect(s.allowedTools(tools)).toEqual(['read', 'write']);
    expect(s.mustCallTool(tools)).toBe(true);
    s.registerCall('read', 'ok');
    expect(s.allowedTools(tools)).toEqual(['login', 'other']);
  });

  it('intersects with child rules and max counts', () => {
    const s = solver([
      ...rules,
      { type: 'constrain_child_tools', tool_name: 'login', children: ['read', 'other'] },
      { type: 'max_count_per_step', tool_name: 'login', max_count_limit: 1 },
    ]);
    s.registerCall('login', 'ok');
    expect(s.allowedTools(tools)).toEqual(['read']);
    s.registerCall('read', 'ok');
    expect(s.allowedTools(tools)).toEqual(['other']);
  });
});

describe('conditional', () => {
  const tools = ['check', 'yes_tool', 'no_tool', 'two_tool', 'fallback', 'other'];
  const base: ToolRuleInput = {
    type: 'conditional',
    tool_name: 'check',
    child_output_mapping: { true: 'yes_tool', false: 'no_tool', '2': 'two_tool' },
  };

  it('maps the registered output to the next tool (plain or packaged result)', () => {
    const s = solver([base]);
    s.registerCall('check', 'true');
    expect(s.allowedTools(tools)).toEqual(['yes_tool']);
    expect(s.mustCallTool(tools)).toBe(true);
    expect(s.requiresContinuation('check')).toBe(true);
    s.registerCall('check', packaged('false'));
    expect(s.allowedTools(tools)).toEqual(['no_tool']);
    s.registerCall('check', packaged('2'));
    expect(s.allowedTools(tools)).toEqual(['two_tool']);
  });

  it('matches bool and number keys the way Letta matches typed keys', () => {
    const s = solver([base]);
    s.registerCall('check', 'True');
    expect(s.allowedTools(tools)).toEqual(['yes_tool']);
    s.registerCall('check', '02');
    expect(s.allowedTools(tools)).toEqual(['two_tool']);
    s.registerCall('check', '2.5');
    expect(s.allowedTools(tools)).toEqual(tools);
  });

  it('matches string keys exactly', () => {
    const s = solver([{ type: 'conditional', tool_name: 'check', child_output_mapping: { 'go left': 'yes_tool' } }]);
    s.registerCall('check', 'go left');
    expect(s.allowedTools(tools)).toEqual(['yes_tool']);
    s.registerCall('check', 'Go left');
    expect(s.allowedTools(tools)).toEqual(tools);
  });

  it('uses default_child when nothing matches', () => {
    const s = solver([{ ...base, default_child: 'fallback' }]);
    s.registerCall('check', 'maybe');
    expect(s.allowedTools(tools)).toEqual(['fallback']);
  });

  it('allows every tool when nothing matches and there is no default', () => {
    const s = solver([base]);
    s.registerCall('check', 'maybe');
    expect(s.allowedTools(tools)).toEqual(tools);
  });

  it('allows nothing under require_output_mapping (the loop then widens to all)', () => {
    const s = solver([{ ...base, default_child: 'fallback', require_output_mapping: true }]);
    s.registerCall('check', 'maybe');
    expect(s.constrainedTools(tools)).toEqual([]);
    expect(s.allowedTools(tools)).toEqual(tools);
    s.registerCall('check', 'true');
    expect(s.constrainedTools(tools)).toEqual(['yes_tool']);
  });

  it('only applies right after its tool', () => {
    const s = solver([base]);
    s.registerCall('check', 'true');
    s.registerCall('yes_tool', 'true');
    expect(s.allowedTools(tools)).toEqual(tools);
    expect(s.mustCallTool(tools)).toBe(false);
  });
});

describe('required_before_exit', () => {
  const tools = ['save', 'audit', 'send_message'];
  const rules: ToolRuleInput[] = [
    { type: 'required_before_exit', tool_name: 'save' },
    { type: 'required_before_exit', tool_name: 'audit' },
    { type: 'required_before_exit', tool_name: 'not_attached' },
    { type: 'exit_loop', tool_name: 'send_message' },
  ];

  it('lists the attached required tools not yet called', () => {
    const s = solver(rules);
    expect(s.uncalledRequiredBeforeExit(tools)).toEqual(['save', 'audit']);
    s.registerCall('save', 'ok');
    expect(s.uncalledRequiredBeforeExit(tools)).toEqual(['audit']);
    s.registerCall('audit', 'ok');
    expect(s.uncalledRequiredBeforeExit(tools)).toEqual([]);
  });

  it('does not restrict the allowed set', () => {
    expect(solver(rules).allowedTools(tools)).toEqual(tools);
  });

  it('gives Letta continuation reasons (v3 always, v2 only when nothing else continues)', () => {
    const s = solver([...rules, { type: 'continue_loop', tool_name: 'save' }]);
    s.registerCall('save', 'ok');
    const pending = `${NON_USER_MSG_PREFIX}Continuing, user expects these tools: [audit] to be called still.`;
    expect(s.continuationReason('save', { available: tools })).toBe(pending);
    expect(s.continuationReason('save', { available: tools, loop: 'v2' })).toBe(CONTINUATION_REASONS.continueToolRule);
    s.registerCall('send_message', 'ok');
    // a terminal call still continues while required tools are uncalled
    expect(s.continuationReason('send_message', { available: tools })).toBe(pending);
    expect(s.continuationReason('send_message', { available: tools, loop: 'v2', heartbeatRequested: true })).toBe(pending);
    expect(s.continuationReason('send_message')).toBeUndefined();
    expect(CONTINUATION_REASONS.requiredToolsViolated(['audit', 'save'])).toBe(
      `${NON_USER_MSG_PREFIX}ToolRuleViolated: You must call audit, save at least once to exit the loop.`,
    );
  });

  it('v2 with a heartbeat and no rule leaves the reason to the caller', () => {
    const s = solver(rules);
    s.registerCall('other', 'ok');
    expect(s.continuationReason('other', { available: tools, loop: 'v2', heartbeatRequested: true })).toBeUndefined();
  });
});

describe('requires_approval', () => {
  it('marks approval tools without restricting or forcing', () => {
    const s = solver([{ type: 'requires_approval', tool_name: 'pay' }]);
    expect(s.requiresApproval('pay')).toBe(true);
    expect(s.requiresApproval('send_message')).toBe(false);
    expect(s.approvalTools()).toEqual(['pay']);
    expect(s.allowedTools(['pay', 'send_message'])).toEqual(['pay', 'send_message']);
    expect(s.mustCallTool(['pay'])).toBe(false);
    expect(s.allowsParallelToolCalls()).toBe(true);
  });
});

describe('toolConstraintError', () => {
  it('matches Letta text with a Python list repr', () => {
    expect(toolConstraintError('write', ['read', 'other'])).toBe(
      "[ToolConstraintError] Cannot call write, valid tools include: ['read', 'other'].",
    );
    expect(toolConstraintError('x', [])).toBe('[ToolConstraintError] Cannot call x, valid tools include: [].');
    expect(toolConstraintError('x', ["it's", 'a\\b'])).toBe(
      '[ToolConstraintError] Cannot call x, valid tools include: ["it\'s", \'a\\\\b\'].',
    );
  });

  it('adds the rule hints for the called and previous tools', () => {
    const s = solver([
      { type: 'constrain_child_tools', tool_name: 'plan', children: ['act'] },
      { type: 'exit_loop', tool_name: 'send_message' },
      { type: 'continue_loop', tool_name: 'unrelated' },
    ]);
    s.registerCall('plan', 'ok');
    expect(s.constraintError('send_message', ['act'])).toBe(
      "[ToolConstraintError] Cannot call send_message, valid tools include: ['act']." +
        '\n** Hint: Possible rules that were violated:' +
        '\n\t- <tool_rule>\nAfter using plan, you must use one of these tools: act\n</tool_rule>' +
        '\n\t- <tool_rule>\nsend_message ends your response (yields control) when called\n</tool_rule>',
    );
    expect(s.guessRuleViolation('nothing')).toHaveLength(1);
  });
});

describe('heartbeat and packaged tool results', () => {
  it('has Letta heartbeat texts', () => {
    expect(HEARTBEAT_MESSAGES.requested).toBe(
      '[This is an automated system message hidden from the user] Function called using request_heartbeat=true, returning control',
    );
    expect(HEARTBEAT_MESSAGES.failed).toBe(
      '[This is an automated system message hidden from the user] Function call failed, returning control',
    );
  });

  it('formats the heartbeat message like json_dumps(indent=2)', () => {
    const text = heartbeatMessage(CONTINUATION_REASONS.childToolRule, NOW, 'UTC');
    expect(text).toBe(
      '{\n' +
        '  "type": "heartbeat",\n' +
        `  "reason": "${NON_USER_MSG_PREFIX}Continuing: child tool rule.",\n` +
        '  "time": "2025-01-01 12:00:00 PM UTC+0000"\n' +
        '}',
    );
    expect(Object.keys(JSON.parse(text))).toEqual(['type', 'reason', 'time']);
  });

  it('packages tool results with status, message and local time', () => {
    const text = packageToolResult('Failed', 'Error: naïve\u0000 "x"', NOW, 'America/New_York');
    expect(text).toBe(
      '{\n  "status": "Failed",\n  "message": "Error: naïve \\"x\\"",\n  "time": "2025-01-01 07:00:00 AM EST-0500"\n}',
    );
    expect(JSON.parse(packageToolResult('OK', null, NOW, 'UTC'))).toEqual({
      status: 'OK',
      message: null,
      time: '2025-01-01 12:00:00 PM UTC+0000',
    });
  });
});
