import { z } from 'zod';
import { COMPACTION_THRESHOLD, SystemPromptTooLarge, packSummary, planCompaction, summaryTranscript, SUMMARIZER_PROMPT, type CompactionMode, type CompactionTrigger } from '../../agent/compaction.js';
import { CallAborted, LlmError, callModel } from '../../agent/llm/call.js';
import { tokenizerFor } from '../../agent/tokenizer.js';
import { newId } from '../../ids.js';
import type { Prisma } from '../../generated/prisma/client.js';
import type { ServiceContext } from '../platform/context.js';
import { contextWindowOf, measureRequest } from './context-window.js';
import { AppError, parseInput } from '../../errors.js';
import { publishAgentEvent } from '../platform/events.js';
import { searchableText } from './message-search.js';
import { assertAgentInOrg } from '../platform/scope.js';
import { rebuildSystemPrompt } from '../memory/system-prompt.js';
import { agentIsBusy } from '../runs/run-status.js';

/**
 * Compaction (letta-domain §7): replaces the oldest in-context messages by a summary written by
 * the summariser model, keeping the system message and a pending approval. Evicted messages stay
 * stored (recall memory) and searchable; only the agent's in-context list changes.
 */

type Ctx = ServiceContext;

export interface CompactionOutcome {
  compacted: boolean;
  mode: CompactionMode | null;
  summary: string | null;
  summaryMessageId: string | null;
  messagesCountBefore: number;
  messagesCountAfter: number;
  contextTokensBefore: number;
  contextTokensAfter: number;
  contextWindow: number;
}

export interface CompactOptions {
  trigger: CompactionTrigger;
  runId?: string | null;
  mode?: CompactionMode;
  cancel?: AbortSignal;
}

/** Tokens a stored message adds to a request, for planning (the result is measured exactly afterwards). */
function messageTokens(count: (text: string) => number, row: { content: unknown; toolCalls: unknown }): number {
  return count(JSON.stringify(row.content ?? '')) + (row.toolCalls ? count(JSON.stringify(row.toolCalls)) : 0) + 4;
}

export async function compactContext(ctx: Ctx, agentId: string, options: CompactOptions): Promise<CompactionOutcome> {
  const measured = await measureRequest(ctx, agentId);
  const { overview, contextWindow, agent } = measured;
  const fixedTokens = overview.contextWindowSizeCurrent - overview.numTokensMessages - overview.numTokensSummaryMemory;
  const unchanged: CompactionOutcome = {
    compacted: false,
    mode: null,
    summary: null,
    summaryMessageId: null,
    messagesCountBefore: overview.numMessages,
    messagesCountAfter: overview.numMessages,
    contextTokensBefore: overview.contextWindowSizeCurrent,
    contextTokensAfter: overview.contextWindowSizeCurrent,
    contextWindow,
  };
  if (fixedTokens > contextWindow) throw new SystemPromptTooLarge(fixedTokens, contextWindow);

  const state = await ctx.prisma.agent.findUniqueOrThrow({ where: { id: agentId }, select: { messageIds: true, timezone: true, model: true, compactionSettings: true } });
  const [systemId, ...rest] = state.messageIds;
  if (!systemId) return unchanged;
  const rows = await ctx.prisma.message.findMany({ where: { id: { in: rest } } });
  const byId = new Map(rows.map((row) => [row.id, row]));
  const inContext = rest.map((id) => byId.get(id)).filter((row): row is NonNullable<typeof row> => Boolean(row));
  const count = (await tokenizerFor(agent.model)).count;
  const planned = inContext.map((row) => ({
    id: row.id,
    role: row.role,
    tokens: messageTokens(count, row),
    pendingApproval: row.role === 'approval' && Array.isArray(row.toolCalls) && row.toolCalls.length > 0,
  }));
  const mode = options.mode ?? 'sliding_window';
  const plan = planCompaction(planned, fixedTokens, contextWindow, mode) ?? (mode === 'sliding_window' ? planCompaction(planned, fixedTokens, contextWindow, 'all') : null);
  if (!plan || plan.evicted.length === 0) return unchanged;

  if (options.runId) ctx.runtime.events?.emit(options.runId, { type: 'compaction', trigger: options.trigger, mode: plan.mode, contextWindow, contextTokensBefore: overview.contextWindowSizeCurrent, messagesCountBefore: overview.numMessages });
  const evictedRows = plan.evicted.map((id) => byId.get(id)!);
  const summaryModel = ((state.compactionSettings as { model?: unknown } | null)?.model as string | undefined) ?? state.model;
  if (!summaryModel) throw new AppError('BAD_USER_INPUT', 'the agent has no model to summarise with');
  let summary: string;
  try {
    const turn = await callModel({
      model: ctx.runtime.models.resolve(summaryModel),
      prompt: [
        { role: 'system', content: SUMMARIZER_PROMPT },
        { role: 'user', content: [{ type: 'text', text: summaryTranscript(evictedRows.map((row) => ({ role: row.role, text: searchableText(row) }))) }] },
      ],
      tools: [],
      cancel: options.cancel ?? new AbortController().signal,
      timeoutMs: ctx.runtime.llmTimeoutMs,
      retry: ctx.runtime.llmRetry,
    });
    summary = turn.text.trim() || '(the summariser returned no text)';
  } catch (error) {
    // Letta: a failed sliding-window summary falls back to summarising everything.
    if (plan.mode === 'sliding_window' && error instanceof LlmError) return compactContext(ctx, agentId, { ...options, mode: 'all' });
    throw error;
  }
  if (options.cancel?.aborted) throw new CallAborted('cancelled');

  const messagesCountAfter = 2 + plan.kept.length;
  const stats = {
    trigger: options.trigger,
    context_tokens_before: overview.contextWindowSizeCurrent,
    context_tokens_after: null as number | null,
    context_window: contextWindow,
    messages_count_before: overview.numMessages,
    messages_count_after: messagesCountAfter,
  };
  const summaryId = newId('Message');
  const now = new Date();
  await ctx.prisma.$transaction(async (tx) => {
    const current = await tx.agent.findUniqueOrThrow({ where: { id: agentId }, select: { messageIds: true } });
    if (current.messageIds.join() !== state.messageIds.join()) throw new AppError('CONFLICT', 'the agent’s context changed while it was being compacted; try again');
    await tx.message.create({
      data: {
        id: summaryId,
        organizationId: ctx.orgId,
        agentId,
        runId: options.runId ?? null,
        role: 'summary',
        content: [{ type: 'text', text: packSummary(summary, plan.evicted.length, now, state.timezone, stats) }],
      },
    });
    await tx.agent.update({ where: { id: agentId }, data: { messageIds: [systemId, summaryId, ...plan.kept] } });
    await rebuildSystemPrompt(tx, agentId);
  });
  const after = (await measureRequest(ctx, agentId)).overview.contextWindowSizeCurrent;
  stats.context_tokens_after = after;
  await ctx.prisma.message.update({ where: { id: summaryId }, data: { content: [{ type: 'text', text: packSummary(summary, plan.evicted.length, now, state.timezone, stats) }] } });
  if (options.runId) ctx.runtime.events?.emit(options.runId, { type: 'summary', messageId: summaryId });
  publishAgentEvent(ctx, agentId, { type: 'MESSAGES_ADDED', runId: options.runId ?? undefined, messageIds: [summaryId] });

  const outcome: CompactionOutcome = {
    compacted: true,
    mode: plan.mode,
    summary,
    summaryMessageId: summaryId,
    messagesCountBefore: overview.numMessages,
    messagesCountAfter,
    contextTokensBefore: overview.contextWindowSizeCurrent,
    contextTokensAfter: after,
    contextWindow,
  };
  // Still over the threshold after a sliding window: summarise everything (Letta).
  if (after > COMPACTION_THRESHOLD * contextWindow && plan.mode === 'sliding_window') {
    const again = await compactContext(ctx, agentId, { ...options, mode: 'all' });
    return again.compacted ? { ...again, messagesCountBefore: outcome.messagesCountBefore, contextTokensBefore: outcome.contextTokensBefore } : outcome;
  }
  return outcome;
}

/** What the post-step check needs of the agent (read once per run). */
export type CompactionSettings = Prisma.AgentGetPayload<{ select: { llmConfig: true; model: true; messageBufferAutoclear: true } }>;

export function compactionSettings(ctx: Ctx, agentId: string): Promise<CompactionSettings | null> {
  return ctx.prisma.agent.findUnique({ where: { id: agentId }, select: { llmConfig: true, model: true, messageBufferAutoclear: true } });
}

/** The post-step check: the call's tokens, or the measured next request, past 90% of the window. */
export async function compactIfNeeded(ctx: Ctx, runId: string, agentId: string, settings: CompactionSettings | null, usageTokens: number, cancel: AbortSignal): Promise<boolean> {
  if (!settings || settings.messageBufferAutoclear) return false;
  const window = contextWindowOf(ctx.runtime, settings);
  let over = usageTokens > COMPACTION_THRESHOLD * window;
  // Providers that report no usage, or fewer tokens than our tokenizer counts (it may not be the
  // model's own), are checked against our count of the next request once they get close.
  if (!over && (usageTokens === 0 || usageTokens > 0.6 * window)) {
    over = (await measureRequest(ctx, agentId)).overview.contextWindowSizeCurrent > COMPACTION_THRESHOLD * window;
  }
  if (!over) return false;
  return (await compactContext(ctx, agentId, { trigger: 'post_step_context_check', runId, cancel })).compacted;
}

// ---- summarizeConversation ----

const summarizeInput = z.object({ mode: z.enum(['sliding_window', 'all']).nullish() });

/** Compacts on demand. Nothing to compact is a no-op answer, not an error. */
export async function summarizeConversation(ctx: ServiceContext, agentId: string, rawInput: unknown) {
  await assertAgentInOrg(ctx.prisma, ctx.orgId, agentId);
  const input = parseInput(summarizeInput, rawInput ?? {});
  if (await agentIsBusy(ctx, agentId)) {
    throw new AppError('AGENT_BUSY', `Agent ${agentId} has a run in progress; wait for it or cancel it before summarising`, { agentId });
  }
  try {
    return await compactContext(ctx, agentId, { trigger: 'manual', mode: input.mode ?? 'sliding_window' });
  } catch (error) {
    if (error instanceof SystemPromptTooLarge) throw new AppError('BAD_USER_INPUT', `${error.message}; raise contextWindowLimit or shorten the system prompt and memory`, { code: 'context_window_overflow_in_system_prompt' });
    if (error instanceof LlmError) throw new AppError(error.code, `The summariser failed: ${error.message}`);
    throw error;
  }
}
