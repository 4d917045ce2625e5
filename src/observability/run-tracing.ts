import { context, createContextKey, defaultTextMapGetter, defaultTextMapSetter, isSpanContextValid, ROOT_CONTEXT, SpanKind, SpanStatusCode, trace, type Attributes, type Context, type Span, type Tracer } from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import type { LoopTrace } from '../agent/loop-trace.js';
import { CallAborted, LlmError } from '../agent/llm/call.js';
import { statusOf, type StepUsage, type StopReason } from '../agent/run-types.js';
import { AppError, ToolExecutionError } from '../errors.js';

/**
 * Spans of runs, steps, model calls and tool calls (docs/operations.md, "Tracing"):
 *
 *   <operation that queued the run>        (from @envelop/opentelemetry)
 *     agent.run                            one per run, wherever it executes
 *       agent.step                         one per step
 *         chat <model>                     each model call of the step
 *         execute_tool <tool>              each tool the step executes
 *
 * A run executes in the background, possibly on another instance: the operation's W3C trace
 * context is stored with the run when it is queued, and the run's span is its child. Attributes
 * are ids, names, counts and error codes, never message text, tool arguments or keys.
 */

/** The W3C trace context stored with a queued run (`traceparent`, `tracestate`). */
export type TraceCarrier = Record<string, string>;

export interface RunTracing {
  /** The trace context of the current operation (or run), to store with a run queued now. */
  carrier(): { trace: TraceCarrier } | undefined;
  /** Runs a claimed run's work outside the trace of whichever request woke the queue. */
  detached<T>(work: () => Promise<T>): Promise<T>;
  startRun(run: { runId: string; agentId: string; orgId: string; queuedAt: Date; carrier?: TraceCarrier }): RunTrace;
}

export interface RunTrace {
  readonly loop: LoopTrace;
  /** Ends the run's span when `finishing` (storing the run's end) settles with the final stop reason. */
  ended(finishing: Promise<StopReason>, outcome: { error?: { code: string }; usage: Pick<StepUsage, 'promptTokens' | 'completionTokens'> & { stepCount: number } }): Promise<StopReason>;
}

const propagator = new W3CTraceContextPropagator();

/** Where the span of the run executing in this async context is, once it started (see `detached`). */
const RUN_SLOT = createContextKey('agentgraph.run');
type RunSlot = { span?: Span };

function markError(span: Span, code: string) {
  span.setStatus({ code: SpanStatusCode.ERROR, message: code });
  span.setAttribute('error.type', code);
}

/** The code of a failure, never its message (which may quote a provider or a tool). */
function codeOf(error: unknown): string {
  if (error instanceof LlmError || error instanceof AppError) return error.code;
  if (error instanceof ToolExecutionError) return 'TOOL_ERROR';
  return 'INTERNAL';
}

function usageAttributes(usage: Pick<StepUsage, 'promptTokens' | 'completionTokens'> | null | undefined): Attributes {
  if (!usage) return {};
  return { 'gen_ai.usage.input_tokens': usage.promptTokens, 'gen_ai.usage.output_tokens': usage.completionTokens };
}

export function createRunTracing(tracer: Tracer): RunTracing {
  return {
    carrier() {
      const active = context.active();
      const span = trace.getSpan(active) ?? (active.getValue(RUN_SLOT) as RunSlot | undefined)?.span;
      if (!span || !isSpanContextValid(span.spanContext())) return undefined;
      const carrier: TraceCarrier = {};
      propagator.inject(trace.setSpan(ROOT_CONTEXT, span), carrier, defaultTextMapSetter);
      return carrier.traceparent ? { trace: carrier } : undefined;
    },
    detached: (work) => context.with(ROOT_CONTEXT.setValue(RUN_SLOT, {} satisfies RunSlot), work),
    startRun(run) {
      const parent = run.carrier ? propagator.extract(ROOT_CONTEXT, run.carrier, defaultTextMapGetter) : ROOT_CONTEXT;
      const span = tracer.startSpan(
        'agent.run',
        {
          kind: SpanKind.INTERNAL,
          attributes: {
            'agentgraph.run.id': run.runId,
            'agentgraph.agent.id': run.agentId,
            'agentgraph.org.id': run.orgId,
            'agentgraph.run.queue_wait_ms': Math.max(0, Date.now() - run.queuedAt.getTime()),
          },
        },
        parent,
      );
      const slot = context.active().getValue(RUN_SLOT) as RunSlot | undefined;
      if (slot) slot.span = span;
      return new RunSpans(tracer, span);
    },
  };
}

class RunSpans implements RunTrace {
  private readonly context: Context;
  private step: { id: string; span: Span; context: Context } | undefined;
  readonly loop: LoopTrace;

  constructor(
    private readonly tracer: Tracer,
    private readonly span: Span,
  ) {
    this.context = trace.setSpan(ROOT_CONTEXT, span);
    this.loop = {
      stepStarted: (stepId, index) => {
        this.endStep();
        const step = tracer.startSpan('agent.step', { attributes: { 'agentgraph.step.id': stepId, 'agentgraph.step.index': index } }, this.context);
        this.step = { id: stepId, span: step, context: trace.setSpan(this.context, step) };
      },
      stepStored: (stepId, usage, stopReason) => {
        if (this.step?.id !== stepId) return;
        this.step.span.setAttributes({ ...usageAttributes(usage), ...(stopReason ? { 'agentgraph.step.stop_reason': stopReason } : {}) });
        this.endStep();
      },
      modelCall: (call, work) =>
        this.child(
          `chat ${call.model}`,
          SpanKind.CLIENT,
          { 'gen_ai.operation.name': 'chat', 'gen_ai.provider.name': call.provider, 'gen_ai.request.model': call.model, 'agentgraph.model.streaming': call.streaming },
          work,
          (span, turn) => {
            span.setAttributes({ ...usageAttributes(turn.usage), 'gen_ai.response.finish_reasons': [turn.finishReason], 'agentgraph.model.tool_calls': turn.toolCalls.length });
            if (turn.ttftNs !== null) span.setAttribute('agentgraph.model.ttft_ms', Number(turn.ttftNs / 1000n) / 1000);
          },
        ),
      toolCall: (call, work) =>
        this.child(
          `execute_tool ${call.name}`,
          SpanKind.INTERNAL,
          {
            'gen_ai.operation.name': 'execute_tool',
            'gen_ai.tool.name': call.name,
            'gen_ai.tool.call.id': call.callId,
            'gen_ai.tool.type': call.mcpServerId ? 'extension' : 'function',
            'agentgraph.tool.type': call.toolType,
            ...(call.mcpServerId ? { 'agentgraph.tool.mcp_server_id': call.mcpServerId } : {}),
          },
          work,
          (span) => span.setAttribute('agentgraph.tool.status', 'success'),
          (span) => span.setAttribute('agentgraph.tool.status', 'error'),
        ),
    };
  }

  private async child<T>(name: string, kind: SpanKind, attributes: Attributes, work: () => Promise<T>, done: (span: Span, result: T) => void, failed?: (span: Span) => void): Promise<T> {
    const parent = this.step?.context ?? this.context;
    const span = this.tracer.startSpan(name, { kind, attributes }, parent);
    try {
      const result = await context.with(trace.setSpan(parent, span), work);
      done(span, result);
      return result;
    } catch (error) {
      failed?.(span);
      if (error instanceof CallAborted) span.setAttribute('agentgraph.cancelled', true);
      else markError(span, codeOf(error));
      throw error;
    } finally {
      span.end();
    }
  }

  private endStep() {
    this.step?.span.end();
    this.step = undefined;
  }

  async ended(finishing: Promise<StopReason>, outcome: Parameters<RunTrace['ended']>[1]): Promise<StopReason> {
    try {
      const stopReason = await finishing;
      this.span.setAttributes({
        'agentgraph.run.stop_reason': stopReason,
        'agentgraph.run.status': statusOf(stopReason),
        'agentgraph.run.steps': outcome.usage.stepCount,
        ...usageAttributes(outcome.usage),
      });
      const code = stopReason === 'cancelled' ? undefined : outcome.error?.code;
      if (code) {
        markError(this.span, code);
        if (this.step) markError(this.step.span, code);
      }
      if (stopReason === 'cancelled') this.step?.span.setAttribute('agentgraph.cancelled', true);
      return stopReason;
    } catch (error) {
      markError(this.span, codeOf(error));
      throw error;
    } finally {
      this.endStep();
      this.span.end();
    }
  }
}
