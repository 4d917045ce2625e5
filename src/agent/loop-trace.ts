import type { ModelTurn } from './llm/call.js';
import type { StepUsage, StopReason } from './run-types.js';

/**
 * What the agent loop tells a tracer (observability/run-tracing.ts implements it when tracing is
 * on): where steps begin and are stored, and each model and tool call, which it wraps.
 * Names, ids and counts only: never message text or tool arguments.
 */
export interface LoopTrace {
  stepStarted(stepId: string, index: number): void;
  stepStored(stepId: string, usage: StepUsage | null, stopReason: StopReason | null): void;
  modelCall(call: { provider: string; model: string; streaming: boolean }, run: () => Promise<ModelTurn>): Promise<ModelTurn>;
  toolCall(call: { name: string; callId: string; toolType: string; mcpServerId?: string }, run: () => Promise<string>): Promise<string>;
}

/** Tracing off: the calls run as they are. */
export const UNTRACED: LoopTrace = {
  stepStarted() {},
  stepStored() {},
  modelCall: (_call, run) => run(),
  toolCall: (_call, run) => run(),
};
