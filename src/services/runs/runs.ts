import { z } from 'zod';
import { Prisma, type Run } from '../../generated/prisma/client.js';
import { runAgentLoop, type ResumeCalls, type RunStore } from '../../agent/loop.js';
import type { NewMessage, StopReason } from '../../agent/run-types.js';
import { newId } from '../../ids.js';
import type { RunObserver, ServiceContext } from '../platform/context.js';
import { AppError, assertId, badInput, notFound, parseInput } from '../../errors.js';
import { paginate, type Page, type PageArgs } from '../platform/pagination.js';
import { createRunStore } from './run-store.js';
import { assertAgentInOrg } from '../platform/scope.js';
import { announceRunEnded, publishAgentEvent } from '../platform/events.js';
import { insertMessages, messageRows, messagesByIds } from '../messages/message-store.js';
import { loadRunAgent } from './loop-agent.js';
import { agentIsBusy } from './run-status.js';
import { isConnectionLost, isUniqueViolation, retryOnConnectionLoss } from '../../db/errors.js';
import { sqlOf } from '../../db/direct-sql.js';
import type { TraceCarrier } from '../../observability/run-tracing.js';
import { FINISH_RETRIES_MS, finishRun, keepErroredInput, runError } from './run-finish.js';

/**
 * Runs: sending messages to an agent, in the background or waiting for the end, and cancelling.
 * Policy for a send while another run of the agent is queued or running: it waits its turn
 * (FIFO per agent); with `failIfBusy: true` it is refused at once with AGENT_BUSY.
 */

export const DEFAULT_MAX_STEPS = 50;

const messageInput = z.object({
  role: z.enum(['user', 'system']).default('user'),
  content: z.string().min(1, 'must not be empty').max(1_000_000),
  name: z.string().max(200).nullish(),
  otid: z.string().max(200).nullish(),
  senderId: z.string().max(200).nullish(),
});

const approvalInput = z.object({
  toolCallId: z.string().min(1),
  approve: z.boolean(),
  reason: z.string().max(10_000).nullish(),
});

const toolReturnInput = z.object({
  toolCallId: z.string().min(1),
  toolReturn: z.string().max(1_000_000),
  status: z.enum(['success', 'error']).default('success'),
});

export const sendMessageInput = z
  .object({
    messages: z.array(messageInput).max(100).nullish(),
    input: z.string().min(1, 'must not be empty').max(1_000_000).nullish(),
    approvals: z.array(approvalInput).max(100).nullish(),
    toolReturns: z.array(toolReturnInput).max(100).nullish(),
    maxSteps: z.number().int().min(1).max(1000).nullish(),
    failIfBusy: z.boolean().nullish(),
    useAssistantMessage: z.boolean().nullish(),
    assistantMessageToolName: z.string().min(1).nullish(),
    assistantMessageToolKwarg: z.string().min(1).nullish(),
    includeReturnMessageTypes: z.array(z.string()).nullish(),
    idempotencyKey: z.string().min(1, 'must not be empty').max(200, 'must be at most 200 characters').nullish(),
  })
  .superRefine((value, issue) => {
    const kinds = [value.messages?.length, value.input, value.approvals?.length || value.toolReturns?.length].filter(Boolean).length;
    if (kinds === 0) issue.addIssue({ code: 'custom', path: ['messages'], message: 'send at least one message, an input, or approvals/tool returns' });
    if (kinds > 1) issue.addIssue({ code: 'custom', path: ['messages'], message: 'send messages, input, or approvals/tool returns — not several at once' });
  });

export type SendMessageInput = z.output<typeof sendMessageInput>;

export interface RunResult {
  run: Run;
  /** The messages the run added (excluding the caller's input), in order. */
  messageIds: string[];
}

interface PendingApproval {
  messageId: string;
  runId: string | null;
  calls: Array<{ id: string; name: string; arguments: string }>;
}

interface AgentHead {
  model: string | null;
  /** The last message of the context window, if any. */
  last: { id: string; role: string; toolCalls: unknown; runId: string | null } | null;
}

/** The agent's model and last context message, in one statement; null when the agent is not in the organisation. */
async function agentHead(ctx: ServiceContext, agentId: string): Promise<AgentHead | null> {
  const [row] = await sqlOf(ctx.prisma)<{ model: string | null; id: string | null; role: string | null; toolCalls: unknown; runId: string | null }>`
    SELECT a.model, m.id, m.role::text AS role, m."toolCalls", m."runId"
      FROM "Agent" a
      LEFT JOIN "Message" m ON m.id = a."messageIds"[array_upper(a."messageIds", 1)]
     WHERE a.id = ${agentId} AND a."organizationId" = ${ctx.orgId}`;
  if (!row) return null;
  return { model: row.model, last: row.id ? { id: row.id, role: row.role!, toolCalls: row.toolCalls, runId: row.runId } : null };
}

async function pendingApproval(ctx: ServiceContext, agentId: string, head?: AgentHead): Promise<PendingApproval | null> {
  const last = (head ?? (await agentHead(ctx, agentId)))?.last;
  if (!last || last.role !== 'approval' || !Array.isArray(last.toolCalls) || last.toolCalls.length === 0) return null;
  const calls = (last.toolCalls as Array<{ id: string; function: { name: string; arguments: string } }>).map((call) => ({
    id: call.id,
    name: call.function.name,
    arguments: call.function.arguments,
  }));
  return { messageId: last.id, runId: last.runId, calls };
}

/** The approval response to persist and the calls to execute, after checking the ids match exactly. */
function resumeFrom(pending: PendingApproval, input: SendMessageInput): { response: NewMessage; resume: ResumeCalls } {
  const answers = new Map<string, { approve?: boolean; reason?: string | null; toolReturn?: string; status?: 'success' | 'error' }>();
  for (const approval of input.approvals ?? []) answers.set(approval.toolCallId, approval);
  for (const item of input.toolReturns ?? []) answers.set(item.toolCallId, item);
  const expected = pending.calls.map((call) => call.id).sort();
  const given = [...answers.keys()].sort();
  if (expected.join('\n') !== given.join('\n')) {
    throw new AppError('BAD_USER_INPUT', `Invalid tool call IDs: expected ${JSON.stringify(expected)}, received ${JSON.stringify(given)}`, {
      path: 'input.approvals',
      pendingRequestId: pending.messageId,
    });
  }
  const approvals = pending.calls.map((call) => {
    const answer = answers.get(call.id)!;
    return answer.toolReturn !== undefined
      ? { type: 'tool', tool_call_id: call.id, tool_return: answer.toolReturn, status: answer.status ?? 'success' }
      : { type: 'approval', tool_call_id: call.id, approve: answer.approve, reason: answer.reason ?? null };
  });
  const first = answers.get(pending.calls[0]!.id)!;
  return {
    response: {
      role: 'approval',
      content: [],
      approvals,
      approvalRequestId: pending.messageId,
      approve: first.approve ?? null,
      denialReason: first.approve === false ? (first.reason ?? null) : null,
    },
    resume: {
      calls: pending.calls.map((call) => {
        const answer = answers.get(call.id)!;
        if (answer.toolReturn !== undefined) return { ...call, decision: 'returned' as const, toolReturn: answer.toolReturn, status: answer.status };
        return { ...call, decision: answer.approve ? ('approved' as const) : ('denied' as const), reason: answer.reason };
      }),
    },
  };
}

/** What a queued run was sent, stored on the run so that any instance can execute it. */
interface RunInput {
  messages: NewMessage[];
  resume?: ResumeCalls;
  maxSteps: number;
  /** The W3C trace context of the operation that queued the run (tracing on). */
  trace?: TraceCarrier;
}

/**
 * Creates a run and queues it for whichever instance claims it first; resolves with the run when
 * it was queued, or when it ended if `wait`.
 */
/**
 * The key that makes a send idempotent: the client's idempotency key, else the otid (Letta's
 * client-chosen message id) of its first message. A send repeated with the same key, e.g. by
 * graphql-ws re-subscribing `chat` after a reconnect, attaches to the run of the first.
 */
function idempotencyKeyOf(input: SendMessageInput): string | null {
  return input.idempotencyKey ?? input.messages?.find((message) => message.otid)?.otid ?? null;
}

/** The run a key already started on this agent, waited for when the caller waits. */
async function attachToRun(ctx: ServiceContext, run: Run, wait: boolean): Promise<RunResult> {
  if (!wait) return { run, messageIds: [] };
  await ctx.runtime.endings.wait(run.id, () => runHasEnded(ctx, run.id));
  const [finished, added] = await Promise.all([
    ctx.prisma.run.findUniqueOrThrow({ where: { id: run.id } }),
    ctx.prisma.message.findMany({ where: { runId: run.id }, orderBy: { sequenceId: 'asc' }, select: { id: true } }),
  ]);
  const sent = ((run.input as { messages?: unknown[] } | null)?.messages ?? []).length;
  return { run: finished, messageIds: added.slice(sent).map((message) => message.id) };
}

/** `runShape`: what the caller reads of the ended run (Pothos' selection), read with it. */
export async function sendMessage(
  ctx: ServiceContext,
  agentId: string,
  raw: Record<string, unknown>,
  options: { wait: boolean; runShape?: Pick<Prisma.RunFindUniqueArgs, 'include' | 'select'> },
): Promise<RunResult> {
  assertId('Agent', agentId, 'agentId');
  const head = await agentHead(ctx, agentId);
  if (!head) throw notFound('Agent', agentId);
  const input = parseInput(sendMessageInput, raw ?? {});
  const idempotencyKey = idempotencyKeyOf(input);
  if (idempotencyKey) {
    const earlier = await ctx.prisma.run.findUnique({ where: { agentId_idempotencyKey: { agentId, idempotencyKey } } });
    if (earlier) return attachToRun(ctx, earlier, options.wait);
  }
  const agent = head;
  if (!agent.model) throw badInput('agentId', 'the agent has no model: set one with updateAgent(input: { model: "provider/model" })');
  ctx.runtime.models.resolve(agent.model);
  if (input.failIfBusy && (await agentIsBusy(ctx, agentId))) {
    throw new AppError('AGENT_BUSY', `Agent ${agentId} is already running; retry later or send without failIfBusy to queue`, { agentId });
  }
  const pending = await pendingApproval(ctx, agentId, head);
  const answering = Boolean(input.approvals?.length || input.toolReturns?.length);
  if (pending && !answering) {
    throw new AppError('PENDING_APPROVAL', 'The agent is waiting for an approval of its tool call; answer it with approvals or toolReturns', {
      pendingRequestId: pending.messageId,
      toolCallIds: pending.calls.map((call) => call.id),
    });
  }
  if (answering && !pending) throw badInput('input.approvals', 'no tool call of this agent is waiting for approval');
  await ctx.runtime.runLimit?.runStarted(ctx.orgId);
  const decision = pending && answering ? resumeFrom(pending, input) : undefined;

  const messages: NewMessage[] = decision
    ? [decision.response]
    : [
        ...(input.messages ?? []).map((message) => ({
          role: message.role,
          content: [{ type: 'text', text: message.content }],
          name: message.name ?? null,
          otid: message.otid ?? null,
          senderId: message.senderId ?? null,
        })),
        ...(input.input ? [{ role: 'user' as const, content: [{ type: 'text', text: input.input }] }] : []),
      ];
  const runInput: RunInput = { messages, ...(decision ? { resume: decision.resume } : {}), maxSteps: input.maxSteps ?? DEFAULT_MAX_STEPS, ...ctx.runtime.tracing?.carrier() };

  const create = ctx.prisma.run.create({
    data: {
      id: newId('Run'),
      createdAt: nextCreatedAt(),
      organizationId: ctx.orgId,
      agentId,
      idempotencyKey,
      status: 'created',
      background: !options.wait,
      input: runInput as unknown as Prisma.InputJsonValue,
      requestConfig: {
        use_assistant_message: input.useAssistantMessage ?? true,
        assistant_message_tool_name: input.assistantMessageToolName ?? 'send_message',
        assistant_message_tool_kwarg: input.assistantMessageToolKwarg ?? 'message',
        include_return_message_types: input.includeReturnMessageTypes ?? null,
        max_steps: runInput.maxSteps,
      },
      metadata: { run_type: options.wait ? 'send_message' : 'send_message_async' },
    },
  });
  let run: Run;
  try {
    run = await create;
  } catch (error) {
    // The same key sent twice at once: the database's unique index picks one run, the other attaches.
    // Embedded (PGlite behind its socket), the violation can arrive as the connection closing.
    if (!idempotencyKey || !(isUniqueViolation(error) || isConnectionLost(error))) throw error;
    const key = { agentId_idempotencyKey: { agentId, idempotencyKey } };
    const winner = await retryOnConnectionLoss(() => ctx.prisma.run.findUnique({ where: key }), [100, 500], () => {});
    if (!winner) throw error;
    return attachToRun(ctx, winner, options.wait);
  }
  const ended = options.wait ? ctx.runtime.endings.wait(run.id, () => runHasEnded(ctx, run.id)) : undefined;
  ctx.runtime.queue.notify();
  ctx.bus.pubsub.publish('runQueued', { runId: run.id, from: ctx.runtime.instanceId });
  if (!ended) return { run, messageIds: [] };

  await ended;
  const [finished, added] = await Promise.all([
    ctx.prisma.run.findUniqueOrThrow({ ...options.runShape, where: { id: run.id } } as Prisma.RunFindUniqueOrThrowArgs) as Promise<Run>,
    ctx.prisma.message.findMany({ where: { runId: run.id }, orderBy: { sequenceId: 'asc' }, select: { id: true } }),
  ]);
  // The response carries what the agent added, not the caller's own input (as LettaResponse).
  return { run: finished, messageIds: added.slice(messages.length).map((message) => message.id) };
}

async function runHasEnded(ctx: ServiceContext, runId: string): Promise<boolean> {
  const run = await ctx.prisma.run.findUnique({ where: { id: runId }, select: { status: true } });
  return !run || !['created', 'running'].includes(run.status);
}

/**
 * Creation times of this process's runs strictly increase, so that two runs sent one after the
 * other through one instance keep their order, (createdAt, id), in the shared queue.
 */
let lastCreatedAt = 0;
function nextCreatedAt(): Date {
  lastCreatedAt = Math.max(Date.now(), lastCreatedAt + 1);
  return new Date(lastCreatedAt);
}

/** Executes a run this instance claimed from the queue (it is marked running already). */
export async function executeRun(ctx: ServiceContext, run: { id: string; agentId: string; input: unknown; createdAt: Date; requestConfig?: unknown }, signal: AbortSignal): Promise<void> {
  const started = Date.now();
  const { id: runId, agentId } = run;
  ctx.runtime.observer?.runClaimed((started - run.createdAt.getTime()) / 1000);
  ctx.logger.info({ runId, agentId }, 'run started');
  const input = (run.input ?? { messages: [], maxSteps: DEFAULT_MAX_STEPS }) as unknown as RunInput;
  publishAgentEvent(ctx, agentId, { type: 'RUN_STARTED', runId });
  const trace = ctx.runtime.tracing?.startRun({ runId, agentId, orgId: ctx.orgId, queuedAt: run.createdAt, carrier: input.trace });
  let stopReason: StopReason = 'error';
  let error: { code: string; message: string; detail?: string } | undefined;
  let usage = { promptTokens: 0, completionTokens: 0, totalTokens: 0, stepCount: 0 };
  // Unknown until the agent is loaded: then the sleeptime check runs.
  let sleeptimeManager = true;
  try {
    const loaded = await loadRunAgent(ctx.prisma, agentId);
    if (!loaded) throw notFound('Agent', agentId);
    const { agent } = loaded;
    sleeptimeManager = loaded.sleeptimeManager;
    if (run.requestConfig !== undefined) ctx.runtime.events?.runStarted?.(runId, { agentType: agent.agentType, requestConfig: run.requestConfig });
    const outcome = await runAgentLoop(
      { store: observed(createRunStore(ctx, { compaction: loaded.compaction, contexts: ctx.runtime.contexts }), ctx.runtime.observer), models: ctx.runtime.models, timeoutMs: ctx.runtime.llmTimeoutMs, retry: ctx.runtime.llmRetry, events: ctx.runtime.events, trace: trace?.loop },
      { runId, agent, input: input.messages, maxSteps: input.maxSteps, resume: input.resume },
      signal,
    );
    ({ stopReason, error, usage } = outcome);
  } catch (caught) {
    stopReason = 'error';
    error = runError(caught);
    if (error.code === 'INTERNAL') ctx.logger.error({ err: caught, runId }, 'run failed unexpectedly');
    else ctx.logger.warn({ err: caught, runId, code: error.code }, 'run failed');
    // The steps stored before the failure (the first carries the input); unknown counts as some.
    usage = { ...usage, stepCount: await ctx.prisma.step.count({ where: { runId } }).catch(() => 1) };
  }
  // Input given to a run that failed before its first step is kept, marked as errored.
  if (usage.stepCount === 0 && input.messages.length && stopReason !== 'cancelled') {
    await keepErroredInput(ctx, runId, agentId, input.messages).catch((caught: unknown) => {
      ctx.logger.error({ err: caught, runId }, 'the input of a failed run could not be kept');
    });
  }
  // However it ended, the run is marked ended; if even that fails, the run is no longer
  // heartbeaten and the liveness check ends it (see run-liveness.ts).
  const finishing = retryOnConnectionLoss(() => finishRun(ctx, runId, agentId, stopReason, usage, error, Date.now() - started, sleeptimeManager), FINISH_RETRIES_MS, (caught, delayMs) =>
    ctx.logger.warn({ err: caught, runId, retryInMs: delayMs }, 'database connection lost while ending a run; trying again'),
  );
  await (trace ? trace.ended(finishing, { error, usage }) : finishing);
}

/** The run store, telling the observer about every stored step. */
function observed(store: RunStore, observer: RunObserver | undefined): RunStore {
  if (!observer) return store;
  return {
    ...store,
    commitStep: async (runId, agentId, step) => {
      const ids = await store.commitStep(runId, agentId, step);
      observer.stepCommitted({
        model: step.model,
        provider: step.provider,
        stepNs: step.stepNs,
        llmRequestNs: step.llmRequestNs,
        promptTokens: step.usage?.promptTokens ?? 0,
        completionTokens: step.usage?.completionTokens ?? 0,
      });
      return ids;
    },
  };
}

// ---- cancellation ----

/** Cancels a run: safe to repeat; a finished run is left as it is. Returns the run. */
export async function cancelRun(ctx: ServiceContext, runId: string): Promise<Run> {
  assertId('Run', runId, 'runId');
  const run = await ctx.prisma.run.findFirst({ where: { id: runId, organizationId: ctx.orgId } });
  if (!run) throw notFound('Run', runId);
  if (run.status === 'created' || run.status === 'running') {
    const cancelled = { status: 'cancelled' as const, stopReason: 'cancelled', completedAt: new Date() };
    // A queued run is claimed and marked running in one statement, so it is either still queued
    // (nobody will execute it: it ends here) or it executes somewhere (that instance ends it).
    const dequeued = await ctx.prisma.run.updateMany({ where: { id: runId, status: 'created' }, data: cancelled });
    if (dequeued.count === 1) {
      // Never started: what the user sent is kept, as for a run cancelled in its first step.
      const input = run.input as unknown as RunInput | null;
      if (input?.messages.length && !input.resume) await createRunStore(ctx).keepInput!(run.id, run.agentId, input.messages);
      announceRunEnded(ctx, run, 'cancelled');
    } else {
      await ctx.prisma.run.updateMany({ where: { id: runId, status: 'running' }, data: cancelled });
      // Here, or on the instance that executes it (every instance listens, see app.ts).
      if (!ctx.runtime.queue.abort(runId)) ctx.bus.pubsub.publish('runCancelled', { runId });
    }
  } else if (run.stopReason === 'requires_approval' && run.status === 'completed') {
    // Only the run whose approval is still pending has anything to cancel.
    const pending = await pendingApproval(ctx, run.agentId);
    if (pending?.runId === run.id) await denyPendingApproval(ctx, run, pending);
  }
  return ctx.prisma.run.findUniqueOrThrow({ where: { id: runId } });
}

/** Cancelling a run that waits for approval records a denial, so the history stays answerable. */
async function denyPendingApproval(ctx: ServiceContext, run: Run, pending: PendingApproval) {
  const reason = 'The user cancelled the request, so the tool call was denied.';
  await ctx.prisma.$transaction(async (tx) => {
    {
      const messages: NewMessage[] = [
        {
          role: 'approval',
          content: [],
          approvals: pending.calls.map((call) => ({ type: 'approval', tool_call_id: call.id, approve: false, reason })),
          approvalRequestId: pending.messageId,
          approve: false,
          denialReason: reason,
        },
        ...pending.calls.map((call) => ({
          role: 'tool' as const,
          name: call.name,
          toolCallId: call.id,
          content: [{ type: 'text', text: JSON.stringify({ status: 'Failed', message: `Error: request to call tool denied. User reason: ${reason}`, time: new Date().toISOString() }) }],
          toolReturns: [{ tool_call_id: call.id, status: 'error' as const, func_response: `Error: request to call tool denied. User reason: ${reason}` }],
        })),
      ];
      const rows = messageRows(ctx.orgId, run.agentId, run.id, null, messages);
      await insertMessages(tx, rows);
      const agent = await tx.agent.findUniqueOrThrow({ where: { id: run.agentId }, select: { messageIds: true } });
      await tx.agent.update({ where: { id: run.agentId }, data: { messageIds: [...agent.messageIds, ...rows.map((row) => row.id)], lastStopReason: 'cancelled' } });
    }
    await tx.run.update({ where: { id: run.id }, data: { status: 'cancelled', stopReason: 'cancelled' } });
  });
}

/** Cancels the given runs of an agent, or all its active ones (and one awaiting approval). */
export async function cancelAgentRuns(ctx: ServiceContext, agentId: string, runIds?: string[] | null): Promise<Run[]> {
  await assertAgentInOrg(ctx.prisma, ctx.orgId, agentId);
  runIds?.forEach((id, index) => assertId('Run', id, `runIds.${index}`));
  const pendingRunId = (await pendingApproval(ctx, agentId))?.runId ?? undefined;
  const targets = runIds?.length
    ? await ctx.prisma.run.findMany({ where: { id: { in: runIds }, agentId, organizationId: ctx.orgId } })
    : await ctx.prisma.run.findMany({
        where: {
          agentId,
          organizationId: ctx.orgId,
          OR: [{ status: { in: ['created', 'running'] } }, ...(pendingRunId ? [{ id: pendingRunId }] : [])],
        },
        orderBy: { createdAt: 'desc' },
        take: 100,
      });
  if (runIds?.length) for (const id of runIds) if (!targets.some((run) => run.id === id)) throw notFound('Run', id);
  const cancelled: Run[] = [];
  for (const run of targets) cancelled.push(await cancelRun(ctx, run.id));
  return cancelled;
}

// ---- queries ----

export async function getRun(ctx: ServiceContext, id: string, shape: Pick<Prisma.RunFindManyArgs, 'include' | 'select'> = {}): Promise<Run> {
  assertId('Run', id, 'id');
  const run = await ctx.prisma.run.findFirst({ ...shape, where: { id, organizationId: ctx.orgId } } as Prisma.RunFindFirstArgs);
  if (!run) throw notFound('Run', id);
  return run;
}

export interface RunFilter {
  agentId?: string | null;
  statuses?: Array<'created' | 'running' | 'completed' | 'failed' | 'cancelled'> | null;
  background?: boolean | null;
  stopReason?: string | null;
  active?: boolean | null;
}

export async function listRuns(ctx: ServiceContext, args: PageArgs & { filter?: RunFilter | null }): Promise<Page<Run>> {
  const filter = args.filter ?? {};
  const where: Prisma.RunWhereInput = { organizationId: ctx.orgId };
  if (filter.agentId != null) where.agentId = assertId('Agent', filter.agentId, 'filter.agentId');
  if (filter.statuses?.length) where.status = { in: filter.statuses };
  if (filter.active) where.status = { in: ['created', 'running'] };
  if (filter.background != null) where.background = filter.background;
  if (filter.stopReason != null) where.stopReason = filter.stopReason;
  for (const key of ['after', 'before'] as const) if (args[key] != null) assertId('Run', args[key]!, key);
  return paginate(
    args,
    { field: 'createdAt', nullable: false, direction: 'desc' },
    where as Record<string, unknown>,
    async (id) => {
      const row = await ctx.prisma.run.findFirst({ where: { id, organizationId: ctx.orgId }, select: { id: true, createdAt: true } });
      return row ? { id: row.id, value: row.createdAt } : undefined;
    },
    (query) => ctx.prisma.run.findMany(query as Prisma.RunFindManyArgs),
    (where) => ctx.prisma.run.count({ where: where as Prisma.RunWhereInput }),
  );
}

/** The first `take` messages a run stored, as client messages, oldest first. */
export async function runMessages(ctx: ServiceContext, runId: string, take: number) {
  const run = await getRun(ctx, runId, { select: { id: true, agentId: true } });
  const rows = await ctx.prisma.message.findMany({ where: { runId }, select: { id: true }, orderBy: { sequenceId: 'asc' }, take });
  return messagesByIds(ctx, run.agentId, rows.map((row) => row.id));
}

/** The approval request an agent waits on, as a client message. */
export async function pendingApprovalMessage(ctx: ServiceContext, agentId: string) {
  const pending = await pendingApproval(ctx, agentId);
  if (!pending) return null;
  // The stored approval message may show reasoning first: the request is its approval view.
  const views = await messagesByIds(ctx, agentId, [pending.messageId]);
  return views.find((view) => view.messageType === 'approval_request_message') ?? null;
}
