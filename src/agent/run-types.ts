import type { ModelDelta } from './llm/call.js';

/** A message to append, in Letta's internal shape (the row minus ids, order and timestamps). */
export interface NewMessage {
  role: 'system' | 'user' | 'assistant' | 'tool' | 'approval';
  content: unknown[];
  name?: string | null;
  toolCalls?: Array<{ id: string; type: 'function'; function: { name: string; arguments: string } }> | null;
  toolCallId?: string | null;
  toolReturns?: Array<{ tool_call_id: string; status: 'success' | 'error'; func_response: string; stdout?: string[]; stderr?: string[] }> | null;
  approvals?: unknown[] | null;
  approve?: boolean | null;
  approvalRequestId?: string | null;
  denialReason?: string | null;
  otid?: string | null;
  senderId?: string | null;
  /** The group the message was sent in (a sleeptime run's input). */
  groupId?: string | null;
  isErr?: boolean;
  model?: string | null;
}

export interface StepUsage {
  promptTokens: number;
  completionTokens: number;
  totalTokens: number;
  cachedInputTokens?: number;
  reasoningTokens?: number;
}

/** Letta's stop reasons, as stored (runs, steps, agents' lastStopReason) and sent in .af files. */
export const STOP_REASONS = [
  'end_turn',
  'max_steps',
  'tool_rule',
  'requires_approval',
  'cancelled',
  'error',
  'llm_api_error',
  'invalid_llm_response',
  'invalid_tool_call',
  'no_tool_call',
  'max_tokens_exceeded',
  'context_window_overflow_in_system_prompt',
] as const;

export type StopReason = (typeof STOP_REASONS)[number];

export type RunStatus = 'completed' | 'failed' | 'cancelled';

export function statusOf(stopReason: StopReason): RunStatus {
  if (stopReason === 'cancelled') return 'cancelled';
  if (['end_turn', 'max_steps', 'tool_rule', 'requires_approval'].includes(stopReason)) return 'completed';
  return 'failed';
}

/** What a subscriber of a run can see as it happens (the streaming issue fans these out). */
export type RunEvent =
  | { type: 'delta'; stepId: string; delta: ModelDelta }
  /** `rows`: the messages as the store wrote them, when it has them (else they are read back). */
  | { type: 'messages'; stepId: string; messageIds: string[]; rows?: unknown[] }
  /** Compaction starts (before the summary is written) ... */
  | { type: 'compaction'; trigger: string; mode: string; contextWindow: number; contextTokensBefore: number; messagesCountBefore: number }
  /** ... and its summary message was stored. */
  | { type: 'summary'; messageId: string }
  | {
      type: 'stop';
      stopReason: StopReason;
      error?: { code: string; message: string };
      /** The usage stored on the run, when the announcer has it (else it is read back). */
      usage?: { prompt_tokens: number; completion_tokens: number; total_tokens: number; step_count: number };
    };

export interface RunEventSink {
  emit(runId: string, event: RunEvent): void;
  /** How the run's messages are shown (its agent's type, its request's options), known when it starts. */
  runStarted?(runId: string, view: { agentType: string; requestConfig: unknown }): void;
}
