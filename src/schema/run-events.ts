import type { RunEventOut } from '../services/runs/run-events.js';
import * as runEvents from '../services/runs/run-events.js';
import * as runs from '../services/runs/runs.js';
import { builder } from './builder.js';
import { firstArgOptions, nestedFirst, takeOf } from './cost.js';
import { idOf } from './ids.js';
import { MessageInterface } from './messages.js';
import { SendMessageInput, UsageRef } from './runs.js';
import { CompactionModeEnum, CompactionTriggerEnum, ErrorCodeEnum, errorCodeOf, RunStatusEnum, StopReasonEnum } from './enums.js';

/** Everything a run streams: token deltas, whole messages, its stop reason, usage, errors, pings. */

type Of<T extends RunEventOut['type']> = Extract<RunEventOut, { type: T }>;

const EVENT_TYPES = {
  delta: 'MessageDeltaEvent',
  message: 'MessageEvent',
  stop: 'StopReasonEvent',
  usage: 'UsageEvent',
  error: 'ErrorEvent',
  ping: 'PingEvent',
  compaction: 'CompactionEvent',
  events_lost: 'EventsLostEvent',
} as const satisfies Record<RunEventOut['type'], string>;

const RunEventInterface = builder.interfaceRef<RunEventOut>('RunEvent').implement({
  description: 'One event of a run. `seq` orders a run’s events (1, 2, 3…); resume with runEvents(runId, after: lastSeq).',
  resolveType: (event) => EVENT_TYPES[event.type],
  fields: (t) => ({
    seq: t.int({ description: 'For a ping: the last seq sent before it.', resolve: (event) => event.seq }),
    runId: t.id({ description: 'The run.', resolve: (event) => event.runId }),
  }),
});

const DeltaKindEnum = builder.enumType('DeltaKind', {
  description: "What a streamed delta carries.",
  values: { REASONING: { value: 'reasoning' }, ASSISTANT: { value: 'assistant' }, TOOL_CALL: { value: 'tool_call', description: 'Arguments of a tool call (JSON text).' } } as const,
});

const event = <T extends RunEventOut['type']>(type: T) => builder.objectRef<Of<T>>(EVENT_TYPES[type]);
const base = { interfaces: [RunEventInterface] };

event('delta').implement({
  ...base,
  description: 'Text as the model produces it. Concatenate the deltas of one kind (and tool call) of one step.',
  fields: (t) => ({
    stepId: t.exposeID('stepId', { description: 'The step the text belongs to.' }),
    kind: t.field({ type: DeltaKindEnum, description: 'Reasoning, answer text or tool-call arguments.', resolve: (delta) => delta.kind }),
    toolCallId: t.exposeString('toolCallId', { nullable: true, description: 'TOOL_CALL: the call.' }),
    toolName: t.exposeString('toolName', { nullable: true, description: 'TOOL_CALL: the tool.' }),
    delta: t.exposeString('text', { description: 'The new text.' }),
  }),
});
event('message').implement({
  ...base,
  description: 'A whole message, once its step is stored (reasoning, assistant text, tool call, tool return, approval request).',
  fields: (t) => ({ message: t.field({ type: MessageInterface, description: 'The message.', resolve: (item) => item.message }) }),
});
event('stop').implement({
  ...base,
  description: 'The run stopped; the last event but usage and error.',
  fields: (t) => ({
    stopReason: t.field({ type: StopReasonEnum, description: 'Why the run stopped.', resolve: (item) => item.stopReason }),
    status: t.field({ type: RunStatusEnum, description: 'How the run ended.', resolve: (item) => item.status as never }),
  }),
});
event('usage').implement({
  ...base,
  description: 'What the run used, once it stopped.',
  fields: (t) => ({ usage: t.field({ type: UsageRef, description: 'Tokens and steps of the whole run.', resolve: (item) => item.usage }) }),
});
event('error').implement({
  ...base,
  description: 'Why the run failed (it also ends failed with the matching stop reason).',
  fields: (t) => ({
    code: t.field({ type: ErrorCodeEnum, description: 'LLM_TIMEOUT, LLM_RATE_LIMIT, LLM_AUTHENTICATION, LLM_ERROR, BAD_USER_INPUT or INTERNAL.', resolve: (item) => errorCodeOf(item.code) }),
    message: t.exposeString('message', { description: 'What went wrong.' }),
    detail: t.exposeString('detail', { nullable: true, description: "The provider's own message, when there is one." }),
  }),
});
event('ping').implement({
  ...base,
  description: 'Sent while a run is silent, so that connections through proxies stay open.',
  fields: (t) => ({ at: t.field({ type: 'DateTime', description: 'When it was sent.', resolve: (ping) => ping.at }) }),
});

event('compaction').implement({
  ...base,
  description:
    'The agent’s context is being compacted (the last call passed 90% of the context window, the provider reported an overflow, or summarizeConversation). Its summary follows as a SummaryMessage.',
  fields: (t) => ({
    trigger: t.field({ type: CompactionTriggerEnum, description: 'What started it.', resolve: (item) => item.trigger as never }),
    mode: t.field({ type: CompactionModeEnum, description: 'What it summarises.', resolve: (item) => item.mode as never }),
    contextWindow: t.exposeInt('contextWindow', { description: 'The context window, in tokens.' }),
    contextTokensBefore: t.exposeInt('contextTokensBefore', { description: 'Tokens in context before it.' }),
    messagesCountBefore: t.exposeInt('messagesCountBefore', { description: 'Messages in context before it.' }),
  }),
});

const EventsLostReasonEnum = builder.enumType('EventsLostReason', {
  description: 'Why events of a run are missing from its stream.',
  values: {
    NOT_STORED: { value: 'not_stored', description: 'They could not be written to the event store (it was unavailable); the run went on.' },
    GAP: { value: 'gap', description: 'The event store lost them (a Redis restart without persistence, or the oldest of a very long run trimmed).' },
    EXPIRED: { value: 'expired', description: 'The stream is gone (expired, or lost); what follows is rebuilt from the database.' },
  } as const,
});

event('events_lost').implement({
  ...base,
  description:
    "Events of this run are missing here and will not come: rebuild your view of the run from `messages` (the run's messages as stored in the database, oldest first), or from Run.messages. Its seq is the last one it accounts for: resume after it.",
  fields: (t) => ({
    reason: t.field({ type: EventsLostReasonEnum, resolve: (item) => item.reason }),
    fromSeq: t.int({ nullable: true, description: 'The first missing seq, when known.', resolve: (item) => item.fromSeq }),
    toSeq: t.int({ nullable: true, description: 'The last missing seq, when known (null: up to the end of the stream).', resolve: (item) => item.toSeq }),
    messages: t.field({
      type: [MessageInterface],
      description: "The run's messages as stored when this is read, oldest first.",
      args: { first: t.arg.int({ ...firstArgOptions('messages'), validate: nestedFirst }) },
      resolve: (item, args, ctx) => runs.runMessages(ctx.services, item.runId, takeOf(args.first)),
    }),
  }),
});

const runId = idOf('Run');

builder.subscriptionFields((t) => ({
  runEvents: t.field({
    type: RunEventInterface,
    description: 'Every event of a run in order. With `after`, what was missed is replayed first; after the run ended, everything is replayed and the subscription completes.',
    args: { runId: t.arg.id({ description: 'The run.', validate: runId }), after: t.arg.int({ description: 'The last seq seen: events after it are sent (0: all).', required: false, defaultValue: 0 }) },
    subscribe: async (_root, args, ctx) => {
      await runs.getRun(ctx.services, args.runId);
      return runEvents.runEvents(ctx.services, args.runId, Math.max(0, args.after ?? 0), ctx.services.runtime.pingMs);
    },
    resolve: (item) => item,
  }),
  chat: t.field({
    type: RunEventInterface,
    description: 'Sends a message and streams its run in one operation (to resume, use runEvents with the runId of the events).',
    args: { input: t.arg({ description: 'What to send, as sendMessage takes it.', type: SendMessageInput }) },
    subscribe: async (_root, { input: { agentId: agent, ...input } }, ctx) => {
      const { run } = await runs.sendMessage(ctx.services, agent, input, { wait: false });
      return runEvents.runEvents(ctx.services, run.id, 0, ctx.services.runtime.pingMs);
    },
    resolve: (item) => item,
  }),
}));
