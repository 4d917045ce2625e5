import { viewIdOf, type LettaMessage, type LettaMessageType } from '../agent/messages/letta-types.js';
import * as messages from '../services/messages/messages.js';
import { Agent } from './agents.js';
import { builder } from './builder.js';
import { ToolReturnStatusEnum, toolReturnStatusOf, upperValues } from './enums.js';

/** Letta's client message union (LettaMessage) as GraphQL types sharing the Message interface. */

const MESSAGE_TYPES = {
  system_message: 'SystemMessage',
  user_message: 'UserMessage',
  reasoning_message: 'ReasoningMessage',
  hidden_reasoning_message: 'HiddenReasoningMessage',
  assistant_message: 'AssistantMessage',
  tool_call_message: 'ToolCallMessage',
  tool_return_message: 'ToolReturnMessage',
  approval_request_message: 'ApprovalRequestMessage',
  approval_response_message: 'ApprovalResponseMessage',
  summary_message: 'SummaryMessage',
} as const satisfies Record<LettaMessageType, string>;

export const MessageTypeEnum = builder.enumType('MessageType', {
  description: 'The kind of a client message; each has its own object type (SYSTEM_MESSAGE is SystemMessage, …).',
  values: upperValues(Object.keys(MESSAGE_TYPES) as LettaMessageType[], {
    system_message: 'The system prompt.',
    user_message: 'A message from the user.',
    reasoning_message: "The model's reasoning.",
    hidden_reasoning_message: 'Reasoning the provider hid (redacted or omitted).',
    assistant_message: "The agent's answer.",
    tool_call_message: 'A tool call of the model.',
    tool_return_message: 'The result of a tool call.',
    approval_request_message: 'Tool calls that wait for approval (or for a client-side result).',
    approval_response_message: 'The answer to an approval request.',
    summary_message: 'A compaction summary of older messages.',
  }),
});

export const MessageInterface = builder.interfaceRef<LettaMessage>('Message').implement({
  description:
    'A message as Letta shows it to clients. Several of these can come from one stored message (a reasoning and a tool call message, say): each has its own id, and `messageId` names the stored message.',
  resolveType: (message) => MESSAGE_TYPES[message.messageType],
  fields: (t) => ({
    id: t.id({
      description: "This view's own stable, unique id, `<messageId>:<message type>:<n>`; also its cursor in `messages`.",
      resolve: (message) => viewIdOf(message),
    }),
    messageId: t.id({ description: "Letta's message id: the stored message this view came from (what updateMessage takes).", resolve: (message) => message.id }),
    messageType: t.field({ type: MessageTypeEnum, description: 'The kind of message (and its object type).', resolve: (message) => message.messageType }),
    date: t.field({ type: 'DateTime', description: 'When the message was stored.', resolve: (message) => message.date }),
    name: t.string({ nullable: true, description: 'The name of the sender, when given.', resolve: (message) => message.name }),
    otid: t.string({ nullable: true, description: 'The client-chosen (offline-threading) id, when given.', resolve: (message) => message.otid }),
    senderId: t.string({ nullable: true, description: 'The sender id, when given.', resolve: (message) => message.senderId }),
    stepId: t.id({ nullable: true, description: 'The step that stored it.', resolve: (message) => message.stepId }),
    runId: t.id({ nullable: true, description: 'The run that stored it.', resolve: (message) => message.runId }),
    isErr: t.boolean({ description: 'A tool result that reports an error.', resolve: (message) => message.isErr }),
    seqId: t.int({ description: 'Order of the stored message (monotonic).', resolve: (message) => message.seqId }),
  }),
});

type Of<T extends LettaMessageType> = Extract<LettaMessage, { messageType: T }>;

const ToolCallRef = builder.objectRef<{ name: string; arguments: string; toolCallId: string }>('ToolCall').implement({
  description: 'A call of a tool by the model.',
  fields: (t) => ({
    name: t.exposeString('name', { description: 'The tool.' }),
    arguments: t.exposeString('arguments', { description: 'JSON text of the arguments.' }),
    toolCallId: t.exposeString('toolCallId', { description: "The call's id, which its result and approval refer to." }),
  }),
});

const ToolReturnRef = builder
  .objectRef<{ toolReturn: string; status: string; toolCallId: string; stdout: string[] | null; stderr: string[] | null }>('ToolReturn')
  .implement({
    description: 'The result of one tool call.',
    fields: (t) => ({
      toolReturn: t.exposeString('toolReturn', { description: 'The result as the model sees it.' }),
      status: t.field({ type: ToolReturnStatusEnum, description: 'Whether the tool succeeded.', resolve: (item) => toolReturnStatusOf(item.status) }),
      toolCallId: t.exposeString('toolCallId', { description: 'The call it answers.' }),
      stdout: t.exposeStringList('stdout', { nullable: true, description: 'Output the tool printed, when it reports any.' }),
      stderr: t.exposeStringList('stderr', { nullable: true, description: 'Errors the tool printed, when it reports any.' }),
    }),
  });

const ApprovalItemTypeEnum = builder.enumType('ApprovalItemType', {
  description: 'What answers a pending tool call.',
  values: {
    APPROVAL: { value: 'approval', description: 'An approval or a denial.' },
    TOOL: { value: 'tool', description: "A client-side tool's result." },
  } as const,
});

const ApprovalItemRef = builder
  .objectRef<{ type: 'approval' | 'tool'; toolCallId: string; approve?: boolean | null; reason?: string | null; toolReturn?: string; status?: string }>('ApprovalItem')
  .implement({
    description: 'One answer to a pending tool call: an approval/denial, or a tool return from the client.',
    fields: (t) => ({
      type: t.field({ type: ApprovalItemTypeEnum, description: 'An approval or a tool result.', resolve: (item) => item.type }),
      toolCallId: t.exposeString('toolCallId', { description: 'The call it answers.' }),
      approve: t.boolean({ nullable: true, description: 'APPROVAL: whether the call may run.', resolve: (item) => item.approve ?? null }),
      reason: t.string({ nullable: true, description: 'APPROVAL: why it was denied.', resolve: (item) => item.reason ?? null }),
      toolReturn: t.string({ nullable: true, description: "TOOL: the client's result.", resolve: (item) => item.toolReturn ?? null }),
      status: t.field({ type: ToolReturnStatusEnum, nullable: true, description: 'TOOL: whether it succeeded.', resolve: (item) => (item.type === 'tool' ? toolReturnStatusOf(item.status) : null) }),
    }),
  });

const messageObject = <T extends LettaMessageType>(type: T) => builder.objectRef<Of<T>>(MESSAGE_TYPES[type]);
const base = { interfaces: [MessageInterface] };

messageObject('system_message').implement({ ...base, description: 'The system prompt as the model saw it.', fields: (t) => ({ content: t.exposeString('content', { description: 'Its text.' }) }) });
messageObject('user_message').implement({ ...base, description: 'A message from the user (or a system notice in its place).', fields: (t) => ({ content: t.exposeString('content', { description: 'Its text.' }) }) });
messageObject('assistant_message').implement({ ...base, description: "The agent's answer to the user.", fields: (t) => ({ content: t.exposeString('content', { description: 'Its text.' }) }) });
messageObject('summary_message').implement({ ...base, description: 'A compaction summary that replaced older messages in the context.', fields: (t) => ({ summary: t.exposeString('summary', { description: 'The summary the model sees.' }) }) });
messageObject('reasoning_message').implement({
  ...base,
  description: "The model's reasoning before it acted.",
  fields: (t) => ({
    reasoning: t.exposeString('reasoning', { description: 'The reasoning text.' }),
    source: t.field({
      type: builder.enumType('ReasoningSource', {
        description: 'Where reasoning comes from.',
        values: {
          REASONER_MODEL: { value: 'reasoner_model', description: "The model's native reasoning." },
          NON_REASONER_MODEL: { value: 'non_reasoner_model', description: 'The thinking argument of a model without native reasoning.' },
        } as const,
      }),
      description: 'Native reasoning, or the thinking of a model without it.',
      resolve: (message) => message.source,
    }),
    signature: t.exposeString('signature', { nullable: true, description: "The provider's signature of the reasoning, sent back with it." }),
  }),
});
messageObject('hidden_reasoning_message').implement({
  ...base,
  description: 'Reasoning the provider did not show.',
  fields: (t) => ({
    state: t.field({
      type: builder.enumType('HiddenReasoningState', {
        description: 'Why reasoning is hidden.',
        values: {
          REDACTED: { value: 'redacted', description: 'The provider redacted it (encrypted).' },
          OMITTED: { value: 'omitted', description: 'The provider did not send it.' },
        } as const,
      }),
      description: 'Redacted or omitted.',
      resolve: (message) => message.state,
    }),
    hiddenReasoning: t.exposeString('hiddenReasoning', { nullable: true, description: 'The opaque redacted reasoning, when there is some.' }),
  }),
});
messageObject('tool_call_message').implement({
  ...base,
  description: 'Tool calls of the model (several when it calls tools in parallel).',
  fields: (t) => ({
    toolCall: t.field({ type: ToolCallRef, description: 'The first call (Letta’s single-call field).', resolve: (message) => message.toolCall }),
    toolCalls: t.field({ type: [ToolCallRef], description: 'Every call of the step.', resolve: (message) => message.toolCalls }),
  }),
});
messageObject('tool_return_message').implement({
  ...base,
  description: 'The results of tool calls.',
  fields: (t) => ({
    toolReturn: t.exposeString('toolReturn', { description: 'The (first) result as the model sees it.' }),
    status: t.field({ type: ToolReturnStatusEnum, description: 'Whether the (first) tool succeeded.', resolve: (message) => toolReturnStatusOf(message.status) }),
    toolCallId: t.exposeString('toolCallId', { description: 'The (first) call it answers.' }),
    stdout: t.exposeStringList('stdout', { nullable: true, description: 'Output the tool printed, when it reports any.' }),
    stderr: t.exposeStringList('stderr', { nullable: true, description: 'Errors the tool printed, when it reports any.' }),
    toolReturns: t.field({ type: [ToolReturnRef], description: 'Every result of the step’s parallel calls.', resolve: (message) => message.toolReturns }),
  }),
});
messageObject('approval_request_message').implement({
  ...base,
  description: 'Tool calls that wait for a human approval (or, for client-side tools, for their results).',
  fields: (t) => ({
    toolCall: t.field({ type: ToolCallRef, description: 'The first call waiting.', resolve: (message) => message.toolCall }),
    toolCalls: t.field({ type: [ToolCallRef], description: 'The calls waiting for approval.', resolve: (message) => message.toolCalls }),
  }),
});
messageObject('approval_response_message').implement({
  ...base,
  description: 'The answer to an approval request: approvals, denials and client-side results.',
  fields: (t) => ({
    approvals: t.field({ type: [ApprovalItemRef], description: 'One answer per pending call.', resolve: (message) => message.approvals as never }),
    approve: t.exposeBoolean('approve', { nullable: true, description: 'The answer when there was a single call.' }),
    approvalRequestId: t.exposeID('approvalRequestId', { nullable: true, description: 'The approval request it answers.' }),
    reason: t.exposeString('reason', { nullable: true, description: 'Why it was denied, when it was.' }),
  }),
});

export const MessageListOptions = builder.inputType('MessageListOptions', {
  description: "How stored messages become client messages (Letta's use_assistant_message and friends).",
  fields: (t) => ({
    useAssistantMessage: t.boolean({ required: false, defaultValue: true, description: 'Show calls of the assistant message tool as assistant messages.' }),
    assistantMessageToolName: t.string({ description: 'The assistant message tool.', required: false, defaultValue: 'send_message' }),
    assistantMessageToolKwarg: t.string({ description: 'Its argument holding the text.', required: false, defaultValue: 'message' }),
    includeReturnMessageTypes: t.field({ type: [MessageTypeEnum], required: false, description: 'Only these message types.' }),
  }),
});

type MessageEdgeShape = { cursor: string; node: LettaMessage };

const MessageEdge = builder.objectRef<MessageEdgeShape>('MessageEdge').implement({
  description: 'One client message, with its cursor.',
  fields: (t) => ({
    cursor: t.exposeString('cursor', { description: "The message's own id: pass it as after/before (a stored message id also works: all its views)." }),
    node: t.field({ type: MessageInterface, description: 'The message.', resolve: (edge) => edge.node }),
  }),
});

const MessageConnection = builder
  .objectRef<{ edges: MessageEdgeShape[]; hasNextPage: boolean; hasPreviousPage: boolean; totalCount: () => Promise<number> }>('MessageConnection')
  .implement({
    description: 'Messages in chronological order. Cursors are chronological: after = later, before = earlier.',
    fields: (t) => ({
      edges: t.field({ type: [MessageEdge], description: 'The messages of this page with their cursors.', resolve: (connection) => connection.edges }),
      nodes: t.field({ type: [MessageInterface], description: 'The messages of this page, oldest first.', resolve: (connection) => connection.edges.map((edge) => edge.node) }),
      pageInfo: t.field({
        type: builder.pageInfoRef(),
        description: 'Whether older or newer messages exist beyond this page.',
        resolve: (connection) => ({
          hasNextPage: connection.hasNextPage,
          hasPreviousPage: connection.hasPreviousPage,
          startCursor: connection.edges[0]?.cursor ?? null,
          endCursor: connection.edges.at(-1)?.cursor ?? null,
        }),
      }),
      totalCount: t.int({ description: 'Stored messages of the agent (its whole history), across all pages.', resolve: (connection) => connection.totalCount() }),
    }),
  });

builder.prismaObjectFields(Agent, (t) => ({
  messages: t.field({
    type: MessageConnection,
    description: 'The whole history (recall memory), oldest first. Without arguments: the newest 100, in chronological order.',
    args: {
      first: t.arg.int({ required: false, description: 'Messages after the cursor (oldest first), at most 500.' }),
      after: t.arg.string({ required: false, description: 'A message id: messages stored after it.' }),
      last: t.arg.int({ required: false, description: 'Messages before the cursor (the newest ones without a cursor), at most 500.' }),
      before: t.arg.string({ required: false, description: 'A message id: messages stored before it.' }),
      options: t.arg({ type: MessageListOptions, required: false, description: 'How stored messages are shown.' }),
    },
    resolve: (agent, args, ctx) => messages.listMessages(ctx.services, agent.id, args),
  }),
}));
