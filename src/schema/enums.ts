import { STOP_REASONS, type StopReason } from '../agent/run-types.js';
import { ERROR_CODE_DESCRIPTIONS, type ErrorCode } from '../errors.js';
import { builder } from './builder.js';

/**
 * Enums shared by several domain files. GraphQL values are UPPER_CASE; each maps to the string
 * the database and Letta's formats use (`value`), so nothing below the schema changes.
 */

/** Enum values named after lowercase strings: `end_turn` → END_TURN. */
export function upperValues<const T extends string>(values: readonly T[], descriptions: Partial<Record<T, string>> = {}) {
  return Object.fromEntries(values.map((value) => [value.toUpperCase().replace(/-/g, '_'), { value, description: descriptions[value] }])) as Record<
    Uppercase<T>,
    { value: T; description?: string }
  >;
}

export const StopReasonEnum = builder.enumType('StopReason', {
  description: 'Why a run (or a step) stopped: Letta’s stop reasons.',
  values: upperValues<StopReason>(STOP_REASONS, {
    end_turn: 'The agent finished its turn.',
    max_steps: 'The run used maxSteps model calls.',
    tool_rule: 'A tool rule ended the run (exit_loop, max_count_per_step, …).',
    requires_approval: 'A tool call waits for approval (or a client-side tool for its result).',
    cancelled: 'The run was cancelled.',
    error: 'The server failed; see the run’s error.',
    llm_api_error: 'The model provider failed; see the run’s error.',
    invalid_llm_response: 'The model answered something unusable.',
    invalid_tool_call: 'The model called a tool that does not exist or with invalid arguments.',
    no_tool_call: 'The model answered without the tool call the agent type requires.',
    max_tokens_exceeded: 'The answer hit the output token limit.',
    context_window_overflow_in_system_prompt: 'The system prompt alone does not fit in the context window.',
  }),
});

/** A stored stop reason as the enum serialises it (a value from before this list is shown as ERROR). */
export const stopReasonOf = (value: string | null | undefined): StopReason | null =>
  value == null ? null : (STOP_REASONS as readonly string[]).includes(value) ? (value as StopReason) : 'error';

export const RunStatusEnum = builder.enumType('RunStatus', {
  description: 'Where a run is in its life.',
  values: upperValues(['created', 'running', 'completed', 'failed', 'cancelled'] as const, {
    created: 'Queued: waiting for an executor (or for an earlier run of the agent).',
    running: 'Executing steps.',
    completed: 'Ended normally (END_TURN, MAX_STEPS, TOOL_RULE or REQUIRES_APPROVAL).',
    failed: 'Ended with an error (see error and stopReason).',
    cancelled: 'Cancelled.',
  }),
});

export const ErrorCodeEnum = builder.enumType('ErrorCode', {
  description: 'Every code the server sends as `extensions.code` of a GraphQL error, and as the code of a run error.',
  values: Object.fromEntries(Object.entries(ERROR_CODE_DESCRIPTIONS).map(([code, description]) => [code, { value: code, description }])) as Record<
    ErrorCode,
    { value: ErrorCode; description: string }
  >,
});

/** A stored error code as the enum serialises it (unknown ones are INTERNAL). */
export const errorCodeOf = (value: string): ErrorCode => (value.toUpperCase() in ERROR_CODE_DESCRIPTIONS ? (value.toUpperCase() as ErrorCode) : 'INTERNAL');

export const TagMatchModeEnum = builder.enumType('TagMatchMode', {
  description: 'How a list of tags filters: any or every tag.',
  values: {
    ANY: { value: 'any', description: 'At least one of the tags.' },
    ALL: { value: 'all', description: 'Every tag.' },
  } as const,
});

export const CompactionModeEnum = builder.enumType('CompactionMode', {
  description: 'What a compaction summarises.',
  values: {
    SLIDING_WINDOW: { value: 'sliding_window', description: 'The oldest messages, keeping the recent ones in context.' },
    ALL: { value: 'all', description: 'Every message in context but the system message (and a pending approval).' },
  } as const,
});

export const CompactionTriggerEnum = builder.enumType('CompactionTrigger', {
  description: 'What started a compaction.',
  values: {
    POST_STEP_CONTEXT_CHECK: { value: 'post_step_context_check', description: 'The last model call passed 90% of the context window.' },
    CONTEXT_WINDOW_EXCEEDED: { value: 'context_window_exceeded', description: 'The provider reported a context overflow.' },
    MANUAL: { value: 'manual', description: 'summarizeConversation.' },
  } as const,
});

export const MessageRoleEnum = builder.enumType('MessageRole', {
  description: 'The role of a stored message.',
  values: {
    SYSTEM: { value: 'system', description: 'The system prompt.' },
    USER: { value: 'user', description: 'From the user (or a system notice to the model).' },
    ASSISTANT: { value: 'assistant', description: 'From the model: text, reasoning and tool calls.' },
    TOOL: { value: 'tool', description: 'A tool result.' },
    APPROVAL: { value: 'approval', description: 'An approval request or its answer.' },
    SUMMARY: { value: 'summary', description: 'A compaction summary.' },
  } as const,
});

export const ToolReturnStatusEnum = builder.enumType('ToolReturnStatus', {
  description: 'How a tool call ended.',
  values: {
    SUCCESS: { value: 'success', description: 'It returned a result.' },
    ERROR: { value: 'error', description: 'It failed; the result is the error the model saw.' },
  } as const,
});

export const toolReturnStatusOf = (value: string | null | undefined): 'success' | 'error' => (value === 'error' ? 'error' : 'success');
