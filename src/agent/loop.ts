import { randomBytes } from 'node:crypto';
import { newId } from '../ids.js';
import { CallAborted, LlmError, callModel, isContextOverflow, type ModelTurn } from './llm/call.js';
import { SystemPromptTooLarge } from './compaction.js';
import type { ModelRegistry } from './llm/providers.js';
import { reasoningContent, toolCallSignature } from './llm/reasoning.js';
import type { RetryPolicy } from './llm/retry.js';
import { buildPrompt, toolsForModel, type PromptMessage, type PromptTarget } from './prompt-builder.js';
import type { NewMessage, RunEventSink, StepUsage, StopReason } from './run-types.js';
import type { ToolRule } from './tool-rules.js';
import { HEARTBEAT_MESSAGES, ToolRulesSolver, heartbeatMessage, packageToolResult, toolConstraintError } from './tool-rules-solver.js';
import { MEMORY_TOOL_NAMES, executeMemoryTool } from './tools/memory-tools.js';
import type { EditableBlock } from './tools/memory-workspace.js';
import { ToolExecutionError } from '../errors.js';
import { UNTRACED, type LoopTrace } from './loop-trace.js';
import { asPromptMessage, extendHistory, type BlockEdits } from './loop-history.js';

/**
 * The agent loop (letta-domain §3): one step is one model call plus the execution of the tool it
 * asked for. Each step's messages, block edits, step row and run usage are written by the store
 * in one transaction, so a failed step leaves no half-written history.
 */

export interface LoopTool {
  name: string;
  description: string | null;
  jsonSchema: unknown;
  toolType: string;
  requiresApproval: boolean;
  returnCharLimit: number;
  /** A tool served by an MCP server: which server, and the tool's name there. */
  mcp?: { serverId: string; toolName: string } | null;
}

export interface LoopAgent {
  id: string;
  agentType: string;
  model: string | null;
  timezone: string;
  toolRules: ToolRule[];
  tools: LoopTool[];
  blocks: EditableBlock[];
}

export interface StepRecord {
  stepId: string;
  messages: NewMessage[];
  usage: StepUsage | null;
  model: string;
  provider: string;
  /** Edited blocks that exist in the database (value, label or description). */
  changedBlocks: EditableBlock[];
  /** Blocks the agent created in this step. */
  createdBlocks: EditableBlock[];
  /** Blocks the agent removed from its memory in this step. */
  deletedBlockIds: string[];
  stopReason: StopReason | null;
  llmRequestNs: bigint | null;
  stepNs: bigint;
  ttftNs: bigint | null;
}

export interface CommittedStep {
  messageIds: string[];
  systemPrompt?: string;
  /** The messages as stored (the store's rows), for the run's stream. */
  rows?: unknown[];
}

/** Persistence the loop needs; implemented over Prisma in services/run-store.ts. */
export interface RunStore {
  /** Before the first step: whether the run was cancelled meanwhile, and the in-context messages, system message first. */
  begin(runId: string, agentId: string): Promise<{ cancelled: boolean; history: PromptMessage[] }>;
  /** The in-context messages, read again (after a compaction or a server tool changed them). */
  history(agentId: string): Promise<PromptMessage[]>;
  /** At the end: the context as the run left it, undefined when unknown (the next run reads it). */
  keepContext?(agentId: string, history: PromptMessage[] | undefined): void;
  /**
   * Writes a step atomically unless the run was cancelled (then nothing is written: null), and
   * returns the ids of the messages it added and, when the step rebuilt the agent's system
   * prompt, its new text.
   */
  commitStep(runId: string, agentId: string, step: StepRecord): Promise<CommittedStep | null>;
  searchConversation(agentId: string, args: unknown, timezone: string): Promise<string>;
  /**
   * Built-in tools that live in services (archival memory, files): the result, or undefined when
   * the name is not one of them. `contextChanged` means the system prompt was rebuilt.
   */
  executeServerTool?(agentId: string, name: string, args: Record<string, unknown>): Promise<{ result: string; contextChanged: boolean } | undefined>;
  /**
   * Calls a tool of an MCP server; `cancel` aborts the call (and tells the server). Failures are
   * ToolExecutionErrors, which the model sees as failed tool results.
   */
  executeMcpTool?(tool: { serverId: string; toolName: string }, args: Record<string, unknown>, cancel: AbortSignal): Promise<string>;
  /**
   * After a stored step: compacts the context when the call's tokens (or the measured next
   * request) pass the threshold. True when it compacted. May throw SystemPromptTooLarge, LlmError
   * (the summariser failed) or CallAborted.
   */
  compactIfNeeded?(runId: string, agentId: string, usage: StepUsage | null, cancel: AbortSignal): Promise<boolean>;
  /** Compacts now, because the provider refused the prompt as too long. False when nothing could be evicted. */
  compact?(runId: string, agentId: string, cancel: AbortSignal): Promise<boolean>;
  /**
   * Stores the caller's messages of a run cancelled before its first step was written, in the
   * history and the context window, and returns their ids: what the user sent is never lost.
   */
  keepInput?(runId: string, agentId: string, messages: NewMessage[]): Promise<string[]>;
}

/** Provider overflow errors answered by compacting and calling again (Letta retries 3 times). */
const OVERFLOW_RETRIES = 3;

/** The model call of a step: the prompt, the tools offered and whether a tool call is required. */
/** `history`: the context, converted once and then only where it grew (see buildPrompt); `extra`: the step's own messages. */
export function stepRequest(agent: LoopAgent, solver: ToolRulesSolver, history: PromptMessage[], target?: PromptTarget, extra: PromptMessage[] = []) {
  const memgpt = isMemgpt(agent);
  const available = agent.tools.map((tool) => tool.name);
  const allowed = solver.allowedTools(available);
  const offered = agent.tools.filter((tool) => allowed.includes(tool.name));
  return {
    prompt: buildPrompt(history, target, extra),
    tools: toolsForModel(offered, { heartbeat: (name) => memgpt && !solver.isTerminal(name) && !TERMINAL_FOR_MEMGPT.has(name) }),
    requireTool: (memgpt && offered.length > 0) || solver.mustCallTool(available),
  };
}

const isMemgpt = (agent: Pick<LoopAgent, 'agentType'>) => agent.agentType !== 'letta_v1_agent' && agent.agentType !== 'sleeptime_agent';

/** A compaction that failed ends the run with Letta's stop reasons. */
function compactionFailure(error: unknown): { stopReason: StopReason; error?: LoopOutcome['error'] } {
  if (error instanceof CallAborted) return { stopReason: 'cancelled' };
  if (error instanceof SystemPromptTooLarge) return { stopReason: 'context_window_overflow_in_system_prompt', error: { code: 'BAD_USER_INPUT', message: error.message } };
  if (error instanceof LlmError) return { stopReason: error.stopReason, error: { code: error.code, message: `Compaction failed: ${error.message}`, detail: error.detail } };
  throw error;
}

export interface LoopInput {
  runId: string;
  agent: LoopAgent;
  /** Messages from the caller, persisted with the first step. */
  input: NewMessage[];
  maxSteps: number;
  /** Tool calls already decided before the first model call (an approval response). */
  resume?: ResumeCalls;
}

export interface ResumeCalls {
  calls: Array<{ id: string; name: string; arguments: string; decision: 'approved' | 'denied' | 'returned'; reason?: string | null; toolReturn?: string; status?: 'success' | 'error' }>;
}

export interface LoopDeps {
  store: RunStore;
  models: ModelRegistry;
  timeoutMs: number;
  /** Retries of rate-limited and overloaded model calls. */
  retry?: RetryPolicy;
  events?: RunEventSink;
  now?: () => Date;
  /** Spans for steps, model calls and tool calls (tracing on). */
  trace?: LoopTrace;
}

export interface LoopOutcome {
  stopReason: StopReason;
  usage: StepUsage & { stepCount: number };
  error?: { code: string; message: string; detail?: string };
  messageIds: string[];
}

const TERMINAL_FOR_MEMGPT = new Set(['send_message']);

/** Letta's locally generated tool call ids: call_<8 hex>... kept under OpenAI's 29 characters. */
const localCallId = () => `call_${randomBytes(12).toString('hex')}`;

export async function runAgentLoop(deps: LoopDeps, input: LoopInput, cancel: AbortSignal): Promise<LoopOutcome> {
  const { agent } = input;
  const now = deps.now ?? (() => new Date());
  const trace = deps.trace ?? UNTRACED;
  const memgpt = isMemgpt(agent);
  const solver = new ToolRulesSolver(agent.toolRules);
  const blocks = new Map(agent.blocks.map((block) => [block.label, { ...block }]));
  const toolsByName = new Map(agent.tools.map((tool) => [tool.name, tool]));
  const totals = { promptTokens: 0, completionTokens: 0, totalTokens: 0, stepCount: 0 };
  const messageIds: string[] = [];
  let pendingInput = [...input.input];
  let resume = input.resume;
  // The context is read once (or kept from the agent's last run) and extended as steps commit.
  let history: PromptMessage[] | undefined;
  let ttftSeen = false;

  const finish = (stopReason: StopReason, error?: LoopOutcome['error']): LoopOutcome => {
    deps.store.keepContext?.(agent.id, history);
    return { stopReason, usage: totals, error, messageIds };
  };
  // A cancel before the first step was written keeps the caller's messages (not an approval answer, which needs its step).
  const cancelled = async (): Promise<LoopOutcome> => {
    history = undefined;
    if (pendingInput.length && !input.resume && deps.store.keepInput) messageIds.push(...(await deps.store.keepInput(input.runId, agent.id, pendingInput)));
    pendingInput = [];
    return finish('cancelled');
  };

  for (let stepIndex = 0; stepIndex < input.maxSteps; stepIndex++) {
    // Later steps rely on the previous commit, which checked the run in its statement.
    if (cancel.aborted) return cancelled();
    if (stepIndex === 0) {
      const begun = await deps.store.begin(input.runId, agent.id);
      if (begun.cancelled) return cancelled();
      history = begun.history;
    }
    const stepId = newId('Step');
    trace.stepStarted(stepId, stepIndex);
    const stepStart = process.hrtime.bigint();
    const edits: BlockEdits = { changed: new Map(), created: new Map(), deleted: new Set(), contextChanged: false };
    const stepMessages: NewMessage[] = [...pendingInput];
    let stopReason: StopReason | null = null;
    let continueLoop = false;
    let usage: StepUsage | null = null;
    let llmRequestNs: bigint | null = null;
    let ttftNs: bigint | null = null;
    const resolved = deps.models.resolve(agent.model ?? '');

    // Decide which tool calls this step executes: an approval response, or the model's answer.
    let calls: Array<{ id: string; name: string; arguments: string; decision?: 'approved' | 'denied' | 'returned'; reason?: string | null; toolReturn?: string; status?: 'success' | 'error' }> = [];
    if (resume) {
      calls = resume.calls;
      resume = undefined;
    } else {
      const available = agent.tools.map((tool) => tool.name);
      let turn: ModelTurn | undefined;
      let requestStart = process.hrtime.bigint();
      for (let attempt = 0; !turn; attempt++) {
        history ??= await deps.store.history(agent.id);
        const request = stepRequest(agent, solver, history, resolved, stepMessages.map(asPromptMessage));
        requestStart = process.hrtime.bigint();
        try {
          turn = await trace.modelCall({ provider: resolved.provider, model: resolved.modelName, streaming: Boolean(deps.events) }, () => callModel({
            model: resolved,
            ...request,
            cancel,
            timeoutMs: deps.timeoutMs,
            retry: deps.retry,
            onDelta: deps.events ? (delta) => deps.events!.emit(input.runId, { type: 'delta', stepId, delta }) : undefined,
          }));
        } catch (error) {
          if (error instanceof CallAborted) return cancelled();
          if (error instanceof LlmError && isContextOverflow(error) && attempt < OVERFLOW_RETRIES && deps.store.compact) {
            // The provider says the prompt does not fit: compact and call again.
            let compacted: boolean;
            try {
              compacted = await deps.store.compact(input.runId, agent.id, cancel);
            } catch (failure) {
              const { stopReason: reason, error: detail } = compactionFailure(failure);
              return reason === 'cancelled' ? cancelled() : finish(reason, detail);
            }
            history = undefined;
            if (compacted) continue;
          }
          if (error instanceof LlmError) return finish(error.stopReason, { code: error.code, message: error.message, detail: error.detail });
          throw error;
        }
      }
      llmRequestNs = process.hrtime.bigint() - requestStart;
      ttftNs = turn.ttftNs;
      usage = turn.usage;
      const content: unknown[] = reasoningContent(resolved.kind, turn.reasoningBlocks);
      if (turn.reasoning && content.length === 0) content.push({ type: 'reasoning', is_native: true, reasoning: turn.reasoning });
      if (turn.text) content.push({ type: 'text', text: turn.text });

      if (turn.toolCalls.length === 0) {
        if (!turn.text && !turn.reasoning && !memgpt) {
          stopReason = 'end_turn';
        } else if (memgpt) {
          if (content.length) stepMessages.push({ role: 'assistant', content, model: resolved.handle });
          stopReason = 'no_tool_call';
        } else {
          stepMessages.push({ role: 'assistant', content, model: resolved.handle });
          const required = solver.uncalledRequiredBeforeExit(available);
          stopReason = turn.finishReason === 'length' ? 'max_tokens_exceeded' : required.length ? null : 'end_turn';
          continueLoop = required.length > 0;
        }
      } else {
        // One call per step (parallel calls need rules that Letta also requires); extra calls are dropped.
        const call = turn.toolCalls[0]!;
        const callId = call.id || localCallId();
        const signature = toolCallSignature(resolved.kind, call.providerMetadata);
        if (signature) content.push({ type: 'tool_call', id: callId, name: call.name, input: parseObject(call.arguments), signature });
        const toolCall = { id: callId, type: 'function' as const, function: { name: call.name, arguments: call.arguments } };
        const tool = toolsByName.get(call.name);
        let parsedOk = true;
        try {
          const parsed = JSON.parse(call.arguments || '{}') as unknown;
          parsedOk = typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed);
        } catch {
          parsedOk = false;
        }
        if (!tool || !parsedOk) {
          // A call the model cannot make: nothing of this step is stored.
          const message = !tool ? `The model called '${call.name}', which is not one of the agent's tools` : `The model sent malformed JSON arguments for '${call.name}'`;
          return finish('invalid_tool_call', { code: 'LLM_ERROR', message, detail: call.arguments.slice(0, 2000) });
        }
        if (tool.requiresApproval || solver.requiresApproval(tool.name) || tool.toolType === 'custom') {
          stepMessages.push({ role: 'approval', content, toolCalls: [toolCall], model: resolved.handle });
          stopReason = 'requires_approval';
        } else {
          stepMessages.push({ role: 'assistant', content, toolCalls: [toolCall], model: resolved.handle });
          calls = [{ id: callId, name: call.name, arguments: call.arguments }];
        }
      }
    }

    // Execute the decided calls.
    for (const call of calls) {
      const tool = toolsByName.get(call.name);
      let status: 'success' | 'error' = 'success';
      let result: string;
      if (call.decision === 'denied') {
        status = 'error';
        result = `Error: request to call tool denied. User reason: ${call.reason ?? ''}`;
      } else if (call.decision === 'returned') {
        status = call.status ?? 'success';
        result = call.toolReturn ?? '';
      } else if (!tool) {
        status = 'error';
        result = toolConstraintError(call.name, agent.tools.map((t) => t.name));
      } else if (!solver.allowedTools(agent.tools.map((t) => t.name)).includes(call.name)) {
        status = 'error';
        result = toolConstraintError(call.name, solver.allowedTools(agent.tools.map((t) => t.name)));
      } else {
        const args = { ...(solver.prefilledArgs(call.name) ?? {}), ...(JSON.parse(call.arguments || '{}') as Record<string, unknown>) };
        delete args.request_heartbeat;
        try {
          result = await trace.toolCall({ name: call.name, callId: call.id, toolType: tool.toolType, mcpServerId: tool.mcp?.serverId }, () => executeTool(deps, agent, call.name, args, blocks, edits, cancel));
        } catch (error) {
          if (!(error instanceof ToolExecutionError)) throw error;
          status = 'error';
          result = error.message;
        }
      }
      const limit = tool?.returnCharLimit ?? 50_000;
      if (result.length > limit && call.name !== 'conversation_search' && call.name !== 'archival_memory_search') {
        result = `${result.slice(0, limit)}... [NOTE: function output was truncated since it exceeded the character limit (${result.length} > ${limit})]`;
      }
      solver.registerCall(call.name, result);
      stepMessages.push({
        role: 'tool',
        name: call.name,
        toolCallId: call.id,
        content: [{ type: 'text', text: packageToolResult(status === 'success' ? 'OK' : 'Failed', result, now(), agent.timezone) }],
        toolReturns: [{ tool_call_id: call.id, status, func_response: result }],
      });

      // Continuation (letta-domain §3.2 step 6).
      let heartbeat = false;
      try {
        heartbeat = (JSON.parse(call.arguments || '{}') as { request_heartbeat?: unknown }).request_heartbeat === true;
      } catch {
        heartbeat = false;
      }
      const terminal = solver.isTerminal(call.name) || (memgpt && TERMINAL_FOR_MEMGPT.has(call.name));
      const requiredLeft = solver.uncalledRequiredBeforeExit(agent.tools.map((t) => t.name)).length > 0;
      if (terminal && !requiredLeft) {
        stopReason = 'tool_rule';
      } else if (memgpt) {
        const ruleReason = solver.continuationReason(call.name);
        continueLoop = heartbeat || status === 'error' || solver.requiresContinuation(call.name) || requiredLeft;
        if (continueLoop) {
          const reason = ruleReason ?? (status === 'error' ? HEARTBEAT_MESSAGES.failed : HEARTBEAT_MESSAGES.requested);
          stepMessages.push({ role: 'user', content: [{ type: 'text', text: heartbeatMessage(reason, now(), agent.timezone) }] });
        } else {
          stopReason = 'end_turn';
        }
      } else {
        continueLoop = true;
      }
    }

    if (!stopReason && !continueLoop) stopReason = 'end_turn';
    if (!stopReason && stepIndex === input.maxSteps - 1) stopReason = 'max_steps';

    // A cancel that arrived while the step ran (possibly on another instance) drops the step.
    if (cancel.aborted) return cancelled();
    const committed = await deps.store.commitStep(input.runId, agent.id, {
      stepId,
      messages: stepMessages,
      usage,
      model: resolved.modelName,
      provider: resolved.provider,
      changedBlocks: [...edits.changed.values()],
      createdBlocks: [...edits.created.values()],
      deletedBlockIds: [...edits.deleted],
      stopReason,
      llmRequestNs,
      stepNs: process.hrtime.bigint() - stepStart,
      ttftNs: ttftSeen ? null : ttftNs,
    });
    if (!committed) return cancelled();
    const ids = committed.messageIds;
    trace.stepStored(stepId, usage, stopReason);
    messageIds.push(...ids);
    ttftSeen ||= ttftNs !== null;
    history = extendHistory(history, stepMessages, committed, edits);
    pendingInput = [];
    if (usage) {
      totals.promptTokens += usage.promptTokens;
      totals.completionTokens += usage.completionTokens;
      totals.totalTokens += usage.totalTokens;
    }
    totals.stepCount += 1;
    deps.events?.emit(input.runId, { type: 'messages', stepId, messageIds: ids, rows: committed.rows });
    if (deps.store.compactIfNeeded) {
      try {
        if (await deps.store.compactIfNeeded(input.runId, agent.id, usage, cancel)) history = undefined;
      } catch (failure) {
        const { stopReason: reason, error: detail } = compactionFailure(failure);
        return finish(reason, detail);
      }
    }
    if (stopReason) return finish(stopReason);
  }
  return finish('max_steps');
}

function parseObject(text: string): Record<string, unknown> {
  try {
    const value = JSON.parse(text || '{}') as unknown;
    return value && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}

async function executeTool(
  deps: LoopDeps,
  agent: LoopAgent,
  name: string,
  args: Record<string, unknown>,
  blocks: Map<string, EditableBlock>,
  edits: BlockEdits,
  cancel: AbortSignal,
): Promise<string> {
  const mcp = agent.tools.find((tool) => tool.name === name)?.mcp;
  if (mcp) {
    if (!deps.store.executeMcpTool) throw new ToolExecutionError(`Tool '${name}' cannot run on this server`);
    return deps.store.executeMcpTool(mcp, args, cancel);
  }
  if (name === 'send_message') {
    return 'Sent message successfully.';
  }
  if (name === 'conversation_search') {
    return deps.store.searchConversation(agent.id, args, agent.timezone);
  }
  if (MEMORY_TOOL_NAMES.includes(name)) {
    // executeMemoryTool updates `blocks` in place; remember what to write back.
    const outcome = executeMemoryTool(name, args, { blocks, lineNumbers: agent.model?.startsWith('anthropic/') ?? false });
    for (const block of [...outcome.created, ...outcome.changed]) {
      if (block.id) edits.changed.set(block.id, block);
      else edits.created.set(block.label, block);
    }
    for (const { from, to } of outcome.renamed) {
      const fresh = edits.created.get(from);
      if (fresh) {
        edits.created.delete(from);
        edits.created.set(to, fresh);
      }
    }
    for (const block of outcome.deleted) {
      if (block.id) {
        edits.changed.delete(block.id);
        edits.deleted.add(block.id);
      } else {
        edits.created.delete(block.label);
      }
    }
    return outcome.returnValue;
  }
  const served = await deps.store.executeServerTool?.(agent.id, name, args);
  if (served) {
    edits.contextChanged ||= served.contextChanged;
    return served.result;
  }
  throw new ToolExecutionError(`Tool '${name}' cannot run on this server yet`);
}
