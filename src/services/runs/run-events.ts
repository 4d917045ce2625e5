import { toLettaMessageList } from '../../agent/messages/convert.js';
import type { LettaMessage } from '../../agent/messages/letta-types.js';
import { storedMessageFromRow } from '../../agent/messages/stored.js';
import type { ModelDelta } from '../../agent/llm/call.js';
import type { RunEvent, RunEventSink, StopReason } from '../../agent/run-types.js';
import { statusOf } from '../../agent/run-types.js';
import type { PrismaClient } from '../../db/client.js';
import type { Logger } from '../../logger.js';
import { RunAlreadyEnded, SubscriberOverflow, type RunStreams, type StoredRunEvent } from '../../realtime/run-streams.js';
import { AppError } from '../../errors.js';
import type { Message, Run } from '../../generated/prisma/client.js';
import type { ServiceContext } from '../platform/context.js';
import { getRun } from './runs.js';
import { interruptible, STOPPED, type Interrupt } from '../../realtime/interruptible.js';
import { PUSH, PushPort, pushTo, type Pushable } from '../../realtime/stream-push.js';
import { silenceTimer, TIMEOUT, waitForFirstEvent } from './run-event-waits.js';
import { messagesByIds, toEdges, type MessageViewOptions } from '../messages/message-store.js';

/**
 * What a run's subscribers receive, as stored in its stream (seq is added by the store).
 * Deltas are the model's tokens; whole messages follow each committed step; the run ends with
 * its stop reason, usage and, on failure, an error.
 */
export type RunEventData =
  | { type: 'delta'; stepId: string; kind: 'reasoning' | 'assistant' | 'tool_call'; toolCallId: string | null; toolName: string | null; text: string }
  | { type: 'message'; message: LettaMessage }
  | { type: 'stop'; stopReason: StopReason; status: string }
  | { type: 'usage'; usage: { prompt_tokens: number; completion_tokens: number; total_tokens: number; step_count: number } }
  | { type: 'error'; code: string; message: string; detail: string | null }
  | { type: 'compaction'; trigger: string; mode: string; contextWindow: number; contextTokensBefore: number; messagesCountBefore: number }
  | EventsLost;

/**
 * Events a subscriber cannot have (never a silent gap): `not_stored`, events that could not be
 * written (stored in their place once writing works again); `gap`, seqs missing from the store
 * (it lost them: a Redis restart, or trimming); `expired`, the stream is gone and what follows is
 * rebuilt from the database. The run's stored messages can be had with the event.
 */
export interface EventsLost {
  type: 'events_lost';
  reason: 'not_stored' | 'gap' | 'expired';
  /** The missing seqs, when known. */
  fromSeq: number | null;
  toSeq: number | null;
}

/** Token deltas arriving within this window are merged into one stored event. */
export const DELTA_WINDOW_MS = 15;

interface PendingRun {
  /** Appends of one run are chained so that they keep their order. */
  chain: Promise<unknown>;
  deltas: Extract<RunEventData, { type: 'delta' }>[];
  timer: NodeJS.Timeout | null;
  toolNames: Map<string, string>;
  /** Events could not be stored since the last ones that were: the next append says so first. */
  lost: boolean;
  /** How the run shows its messages (its request's options and the agent's type), read once. */
  view?: Promise<{ agentType: string; options: MessageViewOptions }>;
}

/** How a run's messages are shown: its request's options and its agent's type. */
async function viewOf(prisma: PrismaClient, runId: string): Promise<{ agentType: string; options: MessageViewOptions }> {
  const run = await prisma.run.findUnique({ where: { id: runId }, select: { requestConfig: true, agent: { select: { agentType: true } } } });
  return viewFrom(run?.agent.agentType ?? 'letta_v1_agent', run?.requestConfig);
}

function viewFrom(agentType: string, requestConfig: unknown): { agentType: string; options: MessageViewOptions } {
  const config = (requestConfig ?? {}) as Record<string, unknown>;
  return {
    agentType,
    options: {
      useAssistantMessage: config.use_assistant_message as boolean | undefined,
      assistantMessageToolName: config.assistant_message_tool_name as string | undefined,
      assistantMessageToolKwarg: config.assistant_message_tool_kwarg as string | undefined,
      includeReturnMessageTypes: config.include_return_message_types as string[] | undefined,
    },
  };
}

/**
 * Turns the runtime's events into stored run events. Token deltas are coalesced over
 * DELTA_WINDOW_MS (a fast model then costs a few writes per step, not one per token) and always
 * flushed before anything else is written, so the stored order is the order things happened.
 */
export function createRunEventRecorder(prisma: PrismaClient, streams: RunStreams, logger: Logger): RunEventSink {
  const runs = new Map<string, PendingRun>();
  const state = (runId: string) => {
    let run = runs.get(runId);
    if (!run) {
      run = { chain: Promise.resolve(), deltas: [], timer: null, toolNames: new Map(), lost: false };
      runs.set(runId, run);
    }
    return run;
  };
  const enqueue = (runId: string, work: () => Promise<unknown>) => {
    const run = state(runId);
    run.chain = run.chain.then(work).catch((error: unknown) => {
      if (error instanceof RunAlreadyEnded) return; // a second end (e.g. reaped meanwhile): nothing is lost
      run.lost = true;
      logger.error({ err: error, runId }, 'run event not stored');
    });
    return run.chain;
  };
  /** Appends, preceded by an events_lost marker when earlier events of the run could not be stored. */
  const append = async (runId: string, events: Array<{ data: RunEventData; final?: boolean }>) => {
    const run = state(runId);
    const lost = run.lost;
    const marker: EventsLost = { type: 'events_lost', reason: 'not_stored', fromSeq: null, toSeq: null };
    await streams.append(runId, lost ? [{ data: marker }, ...events] : events);
    if (lost) run.lost = false;
  };
  const flushDeltas = (runId: string) => {
    const run = state(runId);
    if (run.timer) clearTimeout(run.timer);
    run.timer = null;
    if (run.deltas.length === 0) return;
    const merged = mergeDeltas(run.deltas.splice(0));
    void enqueue(runId, () => append(runId, merged.map((data) => ({ data }))));
  };

  const onDelta = (runId: string, stepId: string, delta: ModelDelta) => {
    const run = state(runId);
    if (delta.kind === 'tool-call-start') {
      run.toolNames.set(delta.toolCallId, delta.name);
      return;
    }
    run.deltas.push(
      delta.kind === 'tool-call-arguments'
        ? { type: 'delta', stepId, kind: 'tool_call', toolCallId: delta.toolCallId, toolName: run.toolNames.get(delta.toolCallId) ?? null, text: delta.delta }
        : { type: 'delta', stepId, kind: delta.kind === 'text' ? 'assistant' : 'reasoning', toolCallId: null, toolName: null, text: delta.text },
    );
    run.timer ??= setTimeout(() => flushDeltas(runId), DELTA_WINDOW_MS);
  };

  const onMessages = (runId: string, messageIds: string[], stored: Message[] | undefined) => {
    flushDeltas(runId);
    void enqueue(runId, async () => {
      const rows = stored ?? (await prisma.message.findMany({ where: { id: { in: messageIds } }, orderBy: { sequenceId: 'asc' } }));
      const run = state(runId);
      run.view ??= viewOf(prisma, runId);
      const view = await run.view.catch((error: unknown) => {
        run.view = undefined;
        throw error;
      });
      const edges = toEdges(rows, view.agentType, view.options);
      // The caller's own input is not echoed back, as in Letta's streams.
      const messages = edges.map((edge) => edge.node).filter((message) => !(message.messageType === 'user_message' && isInput(rows, message.id)));
      if (messages.length) await append(runId, messages.map((message) => ({ data: { type: 'message', message } satisfies RunEventData })));
    });
  };

  const onStop = (runId: string, event: Extract<RunEvent, { type: 'stop' }>) => {
    flushDeltas(runId);
    void enqueue(runId, async () => {
      // The end is announced even when the usage cannot be read (the database connection lost).
      const run = event.usage
        ? { usage: event.usage }
        : await prisma.run.findUnique({ where: { id: runId }, select: { usage: true } }).catch((error: unknown) => {
            logger.warn({ err: error, runId }, 'usage of an ended run could not be read; announcing the end without it');
            return null;
          });
      const usage = (run?.usage ?? {}) as Partial<Extract<RunEventData, { type: 'usage' }>['usage']>;
      const events: RunEventData[] = [
        { type: 'stop', stopReason: event.stopReason, status: statusOf(event.stopReason) },
        {
          type: 'usage',
          usage: {
            prompt_tokens: usage.prompt_tokens ?? 0,
            completion_tokens: usage.completion_tokens ?? 0,
            total_tokens: usage.total_tokens ?? 0,
            step_count: usage.step_count ?? 0,
          },
        },
        ...(event.error ? [{ type: 'error' as const, code: event.error.code, message: event.error.message, detail: null }] : []),
      ];
      await append(runId, events.map((data, index) => ({ data, final: index === events.length - 1 })));
    });
    void state(runId).chain.finally(() => runs.delete(runId));
  };

  // Compaction: an event before, the summary (as a summary_message) after, as Letta's
  // include_compaction_messages streams show them.
  const onCompaction = (runId: string, event: Extract<RunEvent, { type: 'compaction' | 'summary' }>) => {
    flushDeltas(runId);
    void enqueue(runId, async () => {
      if (event.type === 'compaction') {
        const { type: _type, ...data } = event;
        await append(runId, [{ data: { type: 'compaction', ...data } satisfies RunEventData }]);
        return;
      }
      const rows = await prisma.message.findMany({ where: { id: event.messageId } });
      const agentType = rows[0] ? (await prisma.agent.findUnique({ where: { id: rows[0].agentId }, select: { agentType: true } }))?.agentType : undefined;
      const messages = toLettaMessageList(rows.map(storedMessageFromRow), { agentType: agentType ?? 'letta_v1_agent', convertSummaryToUser: false });
      if (messages.length) await append(runId, messages.map((message) => ({ data: { type: 'message', message } satisfies RunEventData })));
    });
  };

  return {
    emit(runId, event) {
      if (event.type === 'delta') onDelta(runId, event.stepId, event.delta);
      else if (event.type === 'messages') onMessages(runId, event.messageIds, event.rows as Message[] | undefined);
      else if (event.type === 'compaction' || event.type === 'summary') onCompaction(runId, event);
      else onStop(runId, event);
    },
    runStarted(runId, view) {
      state(runId).view = Promise.resolve(viewFrom(view.agentType, view.requestConfig));
    },
  };
}

function isInput(rows: Array<{ id: string; stepId: string | null; role: string }>, messageId: string): boolean {
  // Heartbeats are user messages the loop writes mid-run; the caller's input is the first step's leading user rows.
  const index = rows.findIndex((row) => row.id === messageId);
  return index >= 0 && rows.slice(0, index + 1).every((row) => row.role === 'user');
}

/** Adjacent deltas of the same part (kind and tool call) become one. */
function mergeDeltas(deltas: Extract<RunEventData, { type: 'delta' }>[]) {
  const merged: typeof deltas = [];
  for (const delta of deltas) {
    const last = merged.at(-1);
    if (last && last.kind === delta.kind && last.toolCallId === delta.toolCallId && last.stepId === delta.stepId) last.text += delta.text;
    else merged.push({ ...delta });
  }
  return merged;
}

export type RunEventOut = { seq: number; runId: string } & (RunEventData | { type: 'ping'; at: Date });

/**
 * Events of one run with seq > after: what was missed, then live ones; ends after the run's last
 * event. A run whose stream has expired (or predates streams) is replayed from the database.
 * While the run is silent, a ping (carrying the last seq) goes out every `pingMs`. Leaving
 * (return()) takes effect at once, even while waiting. Stored events can also be pushed to the
 * consumer while it waits for the next one (see realtime/stream-push.ts).
 */
export function runEvents(ctx: ServiceContext, runId: string, after: number, pingMs: number): AsyncGenerator<RunEventOut> & Pushable<RunEventOut> {
  const port = new PushPort<RunEventOut>();
  const events = interruptible((interrupt) => streamRunEvents(ctx, runId, after, pingMs, interrupt, port));
  return Object.assign(events, { [PUSH]: port[PUSH].bind(port) });
}

async function* streamRunEvents(
  ctx: ServiceContext,
  runId: string,
  after: number,
  pingMs: number,
  interrupt: Interrupt,
  port: PushPort<RunEventOut>,
): AsyncGenerator<RunEventOut> {
  let lastSeq = after;
  if (!(await ctx.runtime.streams.status(runId)).exists) {
    const wait = waitForFirstEvent(ctx, runId);
    let outcome: Awaited<ReturnType<typeof wait.next>>;
    try {
      while ((outcome = await wait.next(pingMs, interrupt)) === TIMEOUT) yield { type: 'ping', seq: lastSeq, runId, at: new Date() };
    } finally {
      wait.leave();
    }
    if (outcome === STOPPED) return;
    if (outcome === 'ended') {
      yield* rebuiltRun(ctx, await getRun(ctx, runId), after);
      return;
    }
  }
  const source = ctx.runtime.streams.subscribe(runId, after);
  const silence = silenceTimer(pingMs, interrupt);
  /** Waiting for `next` with nothing of ours on its way to the consumer: events may be pushed. */
  let parked = false;
  let pushedFinal = false;
  pushTo(source, (stored: StoredRunEvent) => {
    // A gap's events_lost goes first, through the pull path.
    if (!parked || interrupt.stopped || silence.elapsed || stored.seq !== lastSeq + 1) return false;
    if (!port.offer(outEvent(stored, runId))) return false;
    lastSeq = stored.seq;
    pushedFinal = stored.final;
    silence.reset();
    return true;
  });
  try {
    let next = source.next();
    for (;;) {
      parked = true;
      const result = await silence.race(next).catch((error: unknown) => {
        parked = false;
        if (!(error instanceof SubscriberOverflow)) throw error;
        throw new AppError(
          'SLOW_CONSUMER',
          `This subscription fell more than ${error.limit} events behind run ${runId} and was ended; subscribe again with after: ${error.lastSeq} to continue`,
          { runId, lastSeq: error.lastSeq },
        );
      });
      parked = false;
      if (result === STOPPED) return;
      silence.reset();
      if (result === TIMEOUT) {
        // Silent for a while: a run that ended long ago without its end reaching the stream
        // (its final append failed for good) ends here.
        if (await endedLongAgo(ctx, runId)) {
          yield* rebuiltEnd(ctx, runId, lastSeq, 'not_stored');
          return;
        }
        yield { type: 'ping', seq: lastSeq, runId, at: new Date() };
        continue; // the same `next` is still pending
      }
      if (result.done) {
        if (pushedFinal) return;
        // The stream is gone (expired, or the store lost it) before its final event.
        yield* rebuiltEnd(ctx, runId, lastSeq, 'expired');
        return;
      }
      const event = result.value;
      if (event.seq > lastSeq + 1) yield lostEvent(runId, 'gap', lastSeq + 1, event.seq - 1);
      lastSeq = event.seq;
      yield outEvent(event, runId);
      if (event.final) return;
      next = source.next();
    }
  } finally {
    silence.stop();
    await source.return?.();
  }
}

const lostEvent = (runId: string, reason: EventsLost['reason'], fromSeq: number | null, toSeq: number | null): RunEventOut => ({
  type: 'events_lost',
  reason,
  fromSeq,
  toSeq,
  seq: toSeq ?? Math.max(0, (fromSeq ?? 1) - 1),
  runId,
});

/**
 * How long after a run ended (in the database) its end may still be on the way to the stream: the
 * end is appended after it is recorded, and an append is retried for up to a minute while Redis
 * is away.
 */
const END_GRACE_MS = 90_000;

/**
 * How long one answer of `endedLongAgo` serves every subscriber of the run in this process. Each
 * subscriber of a silent run asks at each of its pings: without sharing, 500 chat windows on a
 * run waiting for its model were 500 statements per ping interval, queued before the run's own.
 * Against the 90 s grace, an answer a few seconds old changes nothing.
 */
const ENDED_CHECK_TTL_MS = 5_000;
const endedChecks = new WeakMap<object, Map<string, Promise<boolean>>>();

/** Whether the run ended (in the database) more than END_GRACE_MS ago; one lookup per run and process every few seconds. */
function endedLongAgo(ctx: ServiceContext, runId: string): Promise<boolean> {
  let checks = endedChecks.get(ctx.prisma);
  if (!checks) endedChecks.set(ctx.prisma, (checks = new Map()));
  let check = checks.get(runId);
  if (!check) {
    check = lookUpEndedLongAgo(ctx, runId);
    checks.set(runId, check);
    setTimeout(() => checks!.delete(runId), ENDED_CHECK_TTL_MS).unref();
  }
  return check;
}

async function lookUpEndedLongAgo(ctx: ServiceContext, runId: string): Promise<boolean> {
  const run = await ctx.prisma.run.findUnique({ where: { id: runId }, select: { status: true, completedAt: true } }).catch(() => null);
  if (!run || ['created', 'running'].includes(run.status)) return false;
  return !run.completedAt || run.completedAt.getTime() < Date.now() - END_GRACE_MS;
}

/** After the events up to `lastSeq`: that the rest is lost, then the run's end rebuilt from the database (if it ended). */
async function* rebuiltEnd(ctx: ServiceContext, runId: string, lastSeq: number, reason: EventsLost['reason']): AsyncGenerator<RunEventOut> {
  yield lostEvent(runId, reason, lastSeq + 1, null);
  const run = await getRun(ctx, runId);
  if (['created', 'running'].includes(run.status)) return;
  const ending = endingOf(run);
  yield* ending.map((event, index) => ({ ...event, seq: lastSeq + 1 + index, runId }));
}

/**
 * A run whose stream is gone, rebuilt from the database. From the start (after 0), its events are
 * numbered 1, 2…; a subscriber that had some (after > 0) cannot be told which it missed, so it is
 * told that they are lost and given the whole run again, numbered on from its `after`.
 */
async function* rebuiltRun(ctx: ServiceContext, run: Run, after: number): AsyncGenerator<RunEventOut> {
  const events = await replayFromDatabase(ctx, run);
  if (after === 0) {
    yield* events;
    return;
  }
  yield lostEvent(run.id, 'expired', after + 1, null);
  yield* events.map((event, index) => ({ ...event, seq: after + 1 + index }));
}

/**
 * One object per stored event for all its subscribers in this process, so that subscribers of
 * the same operation share its execution (see transports/shared-execution.ts).
 */
const outEvents = new WeakMap<StoredRunEvent, RunEventOut>();
function outEvent(stored: StoredRunEvent, runId: string): RunEventOut {
  let event = outEvents.get(stored);
  if (!event) outEvents.set(stored, (event = { ...(stored.data as RunEventData), seq: stored.seq, runId }));
  return event;
}

/** The stop reason, usage and (on failure) error of an ended run, as stored in the database. */
function endingOf(run: Run): RunEventData[] {
  const usage = (run.usage ?? {}) as Record<string, number>;
  const error = (run.metadata as { error?: { error_type: string; message: string; detail?: string | null } } | null)?.error;
  return [
    { type: 'stop', stopReason: (run.stopReason ?? 'error') as StopReason, status: run.status },
    { type: 'usage', usage: { prompt_tokens: usage.prompt_tokens ?? 0, completion_tokens: usage.completion_tokens ?? 0, total_tokens: usage.total_tokens ?? 0, step_count: usage.step_count ?? 0 } },
    ...(error ? [{ type: 'error' as const, code: error.error_type.toUpperCase(), message: error.message, detail: error.detail ?? null }] : []),
  ];
}

/** The events of a finished run rebuilt from what was stored: its messages, stop reason and usage. */
async function replayFromDatabase(ctx: ServiceContext, run: Run): Promise<RunEventOut[]> {
  const ids = (await ctx.prisma.message.findMany({ where: { runId: run.id }, select: { id: true }, orderBy: { sequenceId: 'asc' } })).map((row) => row.id);
  const messages = await messagesByIds(ctx, run.agentId, ids);
  const data: RunEventData[] = [
    ...messages.filter((message) => message.messageType !== 'user_message').map((message) => ({ type: 'message' as const, message })),
    ...endingOf(run),
  ];
  return data.map((event, index) => ({ ...event, seq: index + 1, runId: run.id }));
}
