import { queryFromInfo } from '@pothos/plugin-prisma';
import * as agents from '../services/agents/agents.js';
import * as messages from '../services/messages/messages.js';
import { messagesByIds, type MessageViewOptions } from '../services/messages/message-store.js';
import * as runs from '../services/runs/runs.js';
import { Agent } from './agents.js';
import { builder } from './builder.js';
import { firstArgOptions, nestedFirst, takeOf } from './cost.js';
import { ErrorCodeEnum, errorCodeOf, RunStatusEnum, StopReasonEnum, stopReasonOf, ToolReturnStatusEnum } from './enums.js';
import { connectionOf, named } from './connection.js';
import { agentId, idOf } from './ids.js';
import { MessageInterface, MessageListOptions, MessageTypeEnum } from './messages.js';

const runId = idOf('Run');

export { RunStatusEnum };

const StepStatusEnum = builder.enumType('StepStatus', {
  description: 'Where a step (one model call and its tools) is.',
  values: {
    PENDING: { value: 'pending', description: 'The model call or its tools are under way.' },
    SUCCESS: { value: 'success', description: 'Stored with its messages.' },
    FAILED: { value: 'failed', description: 'The model call or a tool failed the run.' },
    CANCELLED: { value: 'cancelled', description: 'The run was cancelled during the step.' },
  } as const,
});

export const UsageRef = builder
  .objectRef<{ prompt_tokens?: number; completion_tokens?: number; total_tokens?: number; step_count?: number }>('UsageStatistics')
  .implement({
    description: 'Tokens a run used, summed over its steps.',
    fields: (t) => ({
      promptTokens: t.int({ description: 'Tokens sent, over all steps.', resolve: (usage) => usage.prompt_tokens ?? 0 }),
      completionTokens: t.int({ description: 'Tokens produced, over all steps.', resolve: (usage) => usage.completion_tokens ?? 0 }),
      totalTokens: t.int({ description: 'Both.', resolve: (usage) => usage.total_tokens ?? 0 }),
      stepCount: t.int({ description: 'Model calls.', resolve: (usage) => usage.step_count ?? 0 }),
    }),
  });

const RunErrorRef = builder.objectRef<{ error_type: string; message: string; detail?: string | null }>('RunError').implement({
  description: 'Why a run failed.',
  fields: (t) => ({
    code: t.field({
      type: ErrorCodeEnum,
      description: 'LLM_TIMEOUT, LLM_RATE_LIMIT, LLM_AUTHENTICATION, LLM_ERROR, BAD_USER_INPUT or INTERNAL.',
      resolve: (error) => errorCodeOf(error.error_type),
    }),
    message: t.exposeString('message', { description: 'What went wrong.' }),
    detail: t.string({ nullable: true, description: "The provider's own message, when there is one.", resolve: (error) => error.detail ?? null }),
  }),
});

const nsToMs = (value: bigint | null) => (value === null ? null : Number(value) / 1e6);

export const Step = builder.prismaNode('Step', {
  id: { field: 'id' },
  findUnique: (id, ctx) => ({ id, organizationId: ctx.services.orgId }),
  nullable: true,
  description: 'One model call of a run, with the tool it executed.',
  fields: (t) => ({
    runId: t.exposeID('runId', { description: 'Its run.' }),
    provider: t.exposeString('providerName', { description: 'The provider called.', nullable: true }),
    model: t.exposeString('model', { description: 'The model called.', nullable: true }),
    status: t.field({ type: StepStatusEnum, description: 'Where the step is.', resolve: (step) => step.status }),
    stopReason: t.field({ type: StopReasonEnum, nullable: true, description: 'Set on the step that ended the run.', resolve: (step) => stopReasonOf(step.stopReason) }),
    promptTokens: t.exposeInt('promptTokens', { description: 'Tokens sent.' }),
    completionTokens: t.exposeInt('completionTokens', { description: 'Tokens produced.' }),
    totalTokens: t.exposeInt('totalTokens', { description: 'Both.' }),
    cachedInputTokens: t.exposeInt('cachedInputTokens', { description: 'Sent tokens the provider served from its cache, when it says.', nullable: true }),
    reasoningTokens: t.exposeInt('reasoningTokens', { description: 'Produced tokens spent reasoning, when the provider says.', nullable: true }),
    llmRequestMs: t.float({ description: 'How long the model call took.', nullable: true, resolve: (step) => nsToMs(step.llmRequestNs) }),
    stepMs: t.float({ nullable: true, description: 'Wall time of the step (model call and tool) before its one-transaction write.', resolve: (step) => nsToMs(step.stepNs) }),
    createdAt: t.expose('createdAt', { description: 'When it began.', type: 'DateTime' }),
    completedAt: t.expose('completedAt', { description: 'When it was stored.', type: 'DateTime', nullable: true }),
  }),
});

export const Run = builder.prismaNode('Run', {
  id: { field: 'id' },
  findUnique: (id, ctx) => ({ id, organizationId: ctx.services.orgId }),
  nullable: true,
  description: 'One request to an agent, from the first step to its stop reason.',
  fields: (t) => ({
    agentId: t.exposeID('agentId', { description: 'The agent.' }),
    agent: t.relation('agent', { description: 'The agent.' }),
    status: t.field({ type: RunStatusEnum, description: 'Where the run is.', resolve: (run) => run.status }),
    stopReason: t.field({ type: StopReasonEnum, nullable: true, description: 'Why the run stopped; null while it runs.', resolve: (run) => stopReasonOf(run.stopReason) }),
    background: t.exposeBoolean('background', { description: 'Sent with sendMessageAsync (or chat): nobody waited on the HTTP request.' }),
    requestConfig: t.expose('requestConfig', { description: 'The options it was sent with (maxSteps, assistant message settings).', type: 'JSON', nullable: true }),
    metadata: t.expose('metadata', { type: 'JSON', nullable: true, description: 'run_type, and error {error_type, message, detail} when the run failed.' }),
    usage: t.field({ description: 'Tokens used, summed over its steps.', type: UsageRef, resolve: (run) => (run.usage ?? {}) as never }),
    error: t.field({ description: 'FAILED: why.',
      type: RunErrorRef,
      nullable: true,
      resolve: (run) => ((run.metadata as { error?: { error_type: string; message: string; detail?: string } } | null)?.error ?? null),
    }),
    ttftMs: t.float({ nullable: true, description: 'Time to the first token of the first step.', resolve: (run) => nsToMs(run.ttftNs) }),
    totalDurationMs: t.float({ description: 'From start to stop.', nullable: true, resolve: (run) => nsToMs(run.totalDurationNs) }),
    createdAt: t.expose('createdAt', { description: 'When it was sent.', type: 'DateTime' }),
    startedAt: t.expose('startedAt', { description: 'When it began executing.', type: 'DateTime', nullable: true }),
    completedAt: t.expose('completedAt', { description: 'When it stopped.', type: 'DateTime', nullable: true }),
    steps: t.relation('steps', {
      description: 'Its model calls, oldest first.',
      args: { first: t.arg.int({ ...firstArgOptions('steps'), validate: nestedFirst }) },
      query: (args) => ({ orderBy: [{ createdAt: 'asc' }, { id: 'asc' }], take: takeOf(args.first) }),
    }),
    messages: t.field({
      type: [MessageInterface],
      description: 'Messages stored by this run, oldest first.',
      args: {
        options: t.arg({ description: 'How stored messages are shown.', type: MessageListOptions, required: false }),
        first: t.arg.int({ ...firstArgOptions('messages'), validate: nestedFirst }),
      },
      select: (args) => ({ messages: { select: { id: true }, orderBy: { sequenceId: 'asc' }, take: takeOf(args.first) } }),
      resolve: (run, args, ctx) => messagesByIds(ctx.services, run.agentId, run.messages.map((message) => message.id), args.options),
    }),
  }),
});

const RunFilter = builder.inputType('RunFilter', {
  description: "Which runs to list.",
  fields: (t) => ({
    agentId: t.id({ description: 'Only this agent\'s runs.', required: false }),
    statuses: t.field({ description: 'Only runs in these states.', type: [RunStatusEnum], required: false }),
    active: t.boolean({ required: false, description: 'Only created or running runs.' }),
    background: t.boolean({ description: 'Only background (true) or waited-on (false) runs.', required: false }),
    stopReason: t.field({ type: StopReasonEnum, required: false, description: 'Only runs that stopped for this reason.' }),
  }),
});

const runsConnection = { type: Run } as const;

const [runConnection, runEdge] = named('Run', 'runs');
const RunConnection = builder.connectionObject({ type: Run, ...runConnection }, runEdge);

builder.prismaObjectFields(Agent, (t) => ({
  runs: t.connection({
    ...runsConnection,
    description: "The agent's runs, newest first.",
    args: { statuses: t.arg({ description: 'Only runs in these states.', type: [RunStatusEnum], required: false }) },
    resolve: async (agent, args, ctx) =>
      connectionOf(await runs.listRuns(ctx.services, { ...args, filter: { agentId: agent.id, statuses: args.statuses } })),
  }, RunConnection),
  pendingApproval: t.field({
    type: MessageInterface,
    nullable: true,
    description: 'The approval request the agent waits on, if any.',
    resolve: (agent, _args, ctx) => runs.pendingApprovalMessage(ctx.services, agent.id),
  }),
}));

const MessageInputRoleEnum = builder.enumType('MessageInputRole', {
  description: 'Who a sent message is from.',
  values: {
    USER: { value: 'user', description: 'The user.' },
    SYSTEM: { value: 'system', description: 'A system message, stored with the system role.' },
  } as const,
});

export const MessageInput = builder.inputType('MessageInput', {
  description: "A message to send.",
  fields: (t) => ({
    role: t.field({ type: MessageInputRoleEnum, required: false, defaultValue: 'user', description: 'Who speaks: USER (default) or SYSTEM.' }),
    content: t.string({ description: 'The text.' }),
    name: t.string({ description: 'The name of the sender.', required: false }),
    otid: t.string({ required: false, description: 'Client-chosen id for deduplication and matching streams.' }),
    senderId: t.string({ description: 'An id of the sender, kept with the message.', required: false }),
  }),
});

const ApprovalInput = builder.inputType('ApprovalInput', {
  description: "An approval or denial of one pending tool call.",
  fields: (t) => ({
    toolCallId: t.string({ description: 'The pending call.' }),
    approve: t.boolean({ description: 'True runs the call; false denies it.' }),
    reason: t.string({ required: false, description: 'Shown to the model when denied.' }),
  }),
});

const ToolReturnInput = builder.inputType('ToolReturnInput', {
  description: 'The result of a client-side tool the agent called.',
  fields: (t) => ({
    toolCallId: t.string({ description: 'The call it answers.' }),
    toolReturn: t.string({ description: 'The result the model sees.' }),
    status: t.field({ type: ToolReturnStatusEnum, required: false, defaultValue: 'success', description: 'Whether the tool succeeded.' }),
  }),
});

const sendMessageFields = (t: PothosSchemaTypes.InputFieldBuilder<typeof builder.$inferSchemaTypes, 'InputObject'>) => ({
  agentId: t.id({ validate: agentId, description: 'The agent to send to.' }),
  messages: t.field({ type: [MessageInput], required: false, description: 'The messages to send (usually one user message).' }),
  input: t.string({ required: false, description: 'Shorthand for one user message.' }),
  approvals: t.field({ type: [ApprovalInput], required: false, description: 'Answers to the pending approval request.' }),
  toolReturns: t.field({ type: [ToolReturnInput], required: false, description: 'Results of client-side tools the pending request called.' }),
  maxSteps: t.int({ required: false, description: `Model calls before the run stops with MAX_STEPS; default ${runs.DEFAULT_MAX_STEPS}.` }),
  failIfBusy: t.boolean({ required: false, description: 'Refuse with AGENT_BUSY instead of queueing behind a running run.' }),
  useAssistantMessage: t.boolean({ required: false, description: 'Show calls of the assistant message tool as assistant messages (default true).' }),
  assistantMessageToolName: t.string({ required: false, description: 'The assistant message tool (default send_message).' }),
  assistantMessageToolKwarg: t.string({ required: false, description: 'Its argument holding the text (default message).' }),
  includeReturnMessageTypes: t.field({ type: [MessageTypeEnum], required: false, description: 'Only these message types in the returned messages.' }),
  idempotencyKey: t.string({
    required: false,
    description:
      "Makes the send idempotent (default: the otid of the first message): a repeat with the same key on this agent attaches to the run the first one started (its result, or its events for chat) instead of starting another.",
  }),
});

const SEND_DESCRIPTION = 'Exactly one of: messages, input (one user message), or approvals/toolReturns answering a pending approval.';

export const SendMessageInput = builder.inputType('SendMessageInput', { description: SEND_DESCRIPTION, fields: sendMessageFields });
const SendMessageAsyncInput = builder.inputType('SendMessageAsyncInput', { description: SEND_DESCRIPTION, fields: sendMessageFields });

const CancelRunInput = builder.inputType('CancelRunInput', {
  description: "The run to cancel.",
  fields: (t) => ({ runId: t.id({ validate: runId, description: 'The run to cancel.' }) }),
});

const CancelAgentRunsInput = builder.inputType('CancelAgentRunsInput', {
  description: "The runs of an agent to cancel.",
  fields: (t) => ({
    agentId: t.id({ validate: agentId, description: 'The agent whose runs to cancel.' }),
    runIds: t.idList({ required: false, description: 'Only these runs; default: all its active runs.' }),
  }),
});

const ResetMessagesInput = builder.inputType('ResetMessagesInput', {
  description: "The agent whose context to reset.",
  fields: (t) => ({
    agentId: t.id({ validate: agentId, description: 'The agent whose context to empty.' }),
    addDefaultInitialMessages: t.boolean({ required: false, defaultValue: false, description: "Add Letta's initial messages back after the system message." }),
  }),
});

type RunShape = typeof Run.$inferType;

const SendMessagePayload = builder.objectRef<runs.RunResult & { options: MessageViewOptions }>('SendMessagePayload').implement({
  description: "Letta's LettaResponse: the run's new messages, why it stopped and what it used.",
  fields: (t) => ({
    run: t.field({ description: 'The run, ended.', type: Run, resolve: (result) => result.run as RunShape }),
    messages: t.field({ description: 'The messages the run stored, oldest first.',
      type: [MessageInterface],
      resolve: (result, _args, ctx) => messagesByIds(ctx.services, result.run.agentId, result.messageIds, result.options),
    }),
    stopReason: t.field({ type: StopReasonEnum, nullable: true, description: 'Why the run stopped.', resolve: (result) => stopReasonOf(result.run.stopReason) }),
    usage: t.field({ description: 'Tokens the run used.', type: UsageRef, resolve: (result) => (result.run.usage ?? {}) as never }),
  }),
});

const runPayload = (name: string, description: string, runDescription: string) =>
  builder.objectRef<{ run: RunShape }>(name).implement({
    description,
    fields: (t) => ({ run: t.field({ type: Run, description: runDescription, resolve: (payload) => payload.run }) }),
  });

const SendMessageAsyncPayload = runPayload('SendMessageAsyncPayload', 'The result of sendMessageAsync.', 'The queued run; follow it with runEvents.');
const CancelRunPayload = runPayload('CancelRunPayload', 'The result of cancelRun.', 'The run as it is now.');

const CancelAgentRunsPayload = builder.objectRef<{ runs: RunShape[] }>('CancelAgentRunsPayload').implement({
  description: 'The result of cancelAgentRuns.',
  fields: (t) => ({ runs: t.field({ type: [Run], description: 'The runs that were cancelled.', resolve: (payload) => payload.runs }) }),
});

const ResetMessagesPayload = builder.objectRef<{ agentId: string }>('ResetMessagesPayload').implement({
  description: 'The result of resetMessages.',
  fields: (t) => ({
    agent: t.prismaField({
      type: 'Agent',
      description: 'The agent, with its context as it is now.',
      resolve: (query, payload, _args, ctx) => agents.getAgent(ctx.services, payload.agentId, query),
    }),
  }),
});

builder.queryFields((t) => ({
  run: t.prismaField({ description: 'One run, or null (and NOT_FOUND).',
    type: 'Run',
    nullable: true,
    args: { id: t.arg.id({ description: 'The run id.', validate: runId }) },
    resolve: (query, _root, args, ctx) => runs.getRun(ctx.services, args.id, query),
  }),
  runs: t.connection({
    ...runsConnection,
    description: 'Runs of your organization, newest first.',
    args: { filter: t.arg({ description: 'Which runs.', type: RunFilter, required: false }) },
    resolve: async (_root, args, ctx, info) => {
      queryFromInfo({ context: ctx, info, path: ['edges', 'node'] });
      return connectionOf(await runs.listRuns(ctx.services, args));
    },
  }, RunConnection),
}));

const viewOptionsOf = (input: Record<string, unknown>): MessageViewOptions => ({
  useAssistantMessage: input.useAssistantMessage as boolean | null,
  assistantMessageToolName: input.assistantMessageToolName as string | null,
  assistantMessageToolKwarg: input.assistantMessageToolKwarg as string | null,
  includeReturnMessageTypes: input.includeReturnMessageTypes as string[] | null,
});

builder.mutationFields((t) => ({
  sendMessage: t.field({
    type: SendMessagePayload,
    description: 'Sends messages and waits until the run ends. Runs of one agent execute one at a time, in order.',
    args: { input: t.arg({ type: SendMessageInput, description: 'Everything the mutation needs, ids included.' }) },
    resolve: async (_root, { input: { agentId: agent, ...input } }, ctx, info) => ({
      // The ended run is read once, with what the selection asks of it (its steps, say).
      ...(await runs.sendMessage(ctx.services, agent, input, { wait: true, runShape: queryFromInfo({ context: ctx, info, path: ['run'] }) })),
      options: viewOptionsOf(input),
    }),
  }),
  sendMessageAsync: t.field({
    type: SendMessageAsyncPayload,
    description: 'Sends messages and returns the queued run at once; it executes in the background.',
    args: { input: t.arg({ type: SendMessageAsyncInput, description: 'Everything the mutation needs, ids included.' }) },
    resolve: async (_root, { input: { agentId: agent, ...input } }, ctx) => ({ run: (await runs.sendMessage(ctx.services, agent, input, { wait: false })).run }),
  }),
  cancelRun: t.field({
    type: CancelRunPayload,
    description: 'Stops a run between steps or mid-stream (the model request is aborted). Safe to repeat.',
    args: { input: t.arg({ type: CancelRunInput, description: 'Everything the mutation needs, ids included.' }) },
    resolve: async (_root, args, ctx) => ({ run: await runs.cancelRun(ctx.services, args.input.runId) }),
  }),
  cancelAgentRuns: t.field({
    type: CancelAgentRunsPayload,
    description: "Cancels the given runs of the agent, or all its active ones (and a pending approval's run).",
    args: { input: t.arg({ type: CancelAgentRunsInput, description: 'Everything the mutation needs, ids included.' }) },
    resolve: async (_root, { input }, ctx) => ({ runs: await runs.cancelAgentRuns(ctx.services, input.agentId, input.runIds) }),
  }),
  resetMessages: t.field({
    type: ResetMessagesPayload,
    description: 'Empties the context window except the system message; history stays searchable.',
    args: { input: t.arg({ type: ResetMessagesInput, description: 'Everything the mutation needs, ids included.' }) },
    resolve: async (_root, { input }, ctx) => {
      await messages.resetMessages(ctx.services, input.agentId, input.addDefaultInitialMessages ?? false);
      return { agentId: input.agentId };
    },
  }),
}));
