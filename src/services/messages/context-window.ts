import { z } from 'zod';
import type { Prisma } from '../../generated/prisma/client.js';
import { overviewOfRequest, withProviderCount, type ContextWindowOverview } from '../../agent/context-window.js';
import { captureRequest, type RawRequest } from '../../agent/llm/raw-payload.js';
import { COUNT_SOURCES, countTokensAtProvider, hasCountEndpoint } from '../../agent/llm/token-count.js';
import { stepRequest, type LoopAgent } from '../../agent/loop.js';
import type { PromptMessage } from '../../agent/prompt-builder.js';
import type { NewMessage } from '../../agent/run-types.js';
import { tokenizerFor } from '../../agent/tokenizer.js';
import { ToolRulesSolver } from '../../agent/tool-rules-solver.js';
import type { ServiceContext } from '../platform/context.js';
import { AppError, badInput, notFound, parseInput } from '../../errors.js';
import { assertAgentInOrg } from '../platform/scope.js';
import { loadLoopAgent } from '../runs/loop-agent.js';
import { loadContextMessages } from './message-store.js';

/**
 * What the agent's next model call would send, and how big it is: the request body comes from the
 * provider SDK itself (a dry run, see agent/llm/raw-payload.ts), and the context window overview
 * is counted on that body, so the two always agree.
 */

type Ctx = ServiceContext;

/**
 * The agent's context window: its model settings' `context_window`, else its model's window
 * (known family or configuration) capped at DEFAULT_CONTEXT_WINDOW, else DEFAULT_CONTEXT_WINDOW
 * (as Letta caps windows at GLOBAL_MAX_CONTEXT_WINDOW_LIMIT).
 */
export function contextWindowOf(runtime: Ctx['runtime'], agent: { llmConfig: Prisma.JsonValue | null; model: string | null }): number {
  const value = (agent.llmConfig as { context_window?: unknown } | null)?.context_window;
  if (typeof value === 'number' && Number.isInteger(value) && value > 0) return value;
  const fallback = runtime.context.defaultContextWindow;
  return Math.min(runtime.models.contextWindowOf(agent.model) ?? fallback, fallback);
}

export interface MeasuredRequest {
  agent: LoopAgent;
  contextWindow: number;
  /** The provider's request; null when the agent has no usable model (the body is then a neutral rendering). */
  raw: RawRequest | null;
  body: Record<string, unknown>;
  overview: ContextWindowOverview;
}

/** Builds (without sending) the agent's next request with `input` appended, and measures it. */
export async function measureRequest(ctx: Ctx, agentId: string, input: NewMessage[] = []): Promise<MeasuredRequest> {
  const [agent, settings, history, numArchivalMemory, numRecallMemory] = await Promise.all([
    loadLoopAgent(ctx.prisma, agentId),
    ctx.prisma.agent.findUnique({ where: { id: agentId }, select: { llmConfig: true, model: true } }),
    loadContextMessages(ctx.prisma, agentId),
    ctx.prisma.passage.count({ where: { agentId } }),
    ctx.prisma.message.count({ where: { agentId } }),
  ]);
  if (!agent || !settings) throw notFound('Agent', agentId);
  const contextWindow = contextWindowOf(ctx.runtime, settings);
  const messages: PromptMessage[] = [...history, ...input.map((message) => ({ role: message.role, content: message.content, toolCalls: message.toolCalls ?? null, toolCallId: message.toolCallId ?? null, name: message.name ?? null }))];
  const provider = agent.model?.split('/')[0] ?? '';
  const kind = ctx.runtime.models.kindOf(provider);
  const request = stepRequest(agent, new ToolRulesSolver(agent.toolRules), messages, kind ? { provider, kind } : undefined);
  let raw: RawRequest | null = null;
  if (agent.model && kind) {
    raw = await captureRequest(ctx.runtime.models, agent.model, request);
  }
  // Without a provider, the provider-neutral prompt stands in (an approximation of any provider's body).
  const body = raw?.body ?? { messages: request.prompt, tools: request.tools };
  let overview = overviewOfRequest(body, await tokenizerFor(agent.model), { contextWindow, numArchivalMemory, numRecallMemory });
  const entry = ctx.runtime.models.entryOf(provider);
  if (raw && hasCountEndpoint(entry)) {
    // Claude and Gemini have no offline tokenizer: their own count is exact (the tokenizer's stands in when it fails).
    try {
      const total = await countTokensAtProvider(entry, agent.model!.slice(provider.length + 1), raw.body, ctx.runtime.context.providerQueryTimeoutMs);
      if (total !== undefined) overview = withProviderCount(overview, total, COUNT_SOURCES[entry.kind]);
    } catch (error) {
      ctx.logger.warn({ provider, err: error instanceof Error ? error.message : String(error) }, 'provider token count failed; using the tokenizer');
    }
  }
  return { agent, contextWindow, raw, body, overview };
}

export async function contextWindowOverview(ctx: Ctx, agentId: string): Promise<ContextWindowOverview> {
  await assertAgentInOrg(ctx.prisma, ctx.orgId, agentId);
  return (await measureRequest(ctx, agentId)).overview;
}

const previewInput = z
  .object({
    messages: z
      .array(
        z.object({
          role: z.enum(['user', 'system']).default('user'),
          content: z.string().min(1, 'must not be empty').max(1_000_000),
          name: z.string().max(200).nullish(),
        }),
      )
      .max(100)
      .nullish(),
    input: z.string().min(1, 'must not be empty').max(1_000_000).nullish(),
  });

/** Letta's preview_raw_payload: the request the next call would send with this input; nothing is stored or sent. */
export async function previewRawPayload(ctx: Ctx, agentId: string, rawInput: unknown) {
  await assertAgentInOrg(ctx.prisma, ctx.orgId, agentId);
  const input = parseInput(previewInput, rawInput ?? {});
  const messages: NewMessage[] = [
    ...(input.messages ?? []).map((message) => ({ role: message.role, content: [{ type: 'text', text: message.content }], name: message.name ?? null })),
    ...(input.input ? [{ role: 'user' as const, content: [{ type: 'text', text: input.input }] }] : []),
  ];
  const agent = await ctx.prisma.agent.findUniqueOrThrow({ where: { id: agentId }, select: { model: true } });
  if (!agent.model) throw badInput('agentId', 'the agent has no model: set one with updateAgent(input: { model: "provider/model" })');
  const resolved = ctx.runtime.models.resolve(agent.model);
  const measured = await measureRequest(ctx, agentId, messages);
  if (!measured.raw) throw new AppError('INTERNAL', 'the provider SDK built no request');
  return {
    provider: resolved.provider,
    model: resolved.modelName,
    url: measured.raw.url,
    payload: measured.raw.body,
    tokenCount: measured.overview.contextWindowSizeCurrent,
    contextWindow: measured.contextWindow,
  };
}
