import { viewIdOf, type LettaMessage, type LettaMessageType } from '../agent/messages/letta-types.js';
import * as messages from '../services/messages/messages.js';
import { Agent } from './agents.js';
import { builder } from './builder.js';

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
  values: Object.keys(MESSAGE_TYPES) as LettaMessageType[],
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
    messageType: t.field({ type: MessageTypeEnum, resolve: (message) => message.messageType }),
    date: t.field({ type: 'DateTime', resolve: (message) => message.date }),
    name: t.string({ nullable: true, resolve: (message) => message.name }),
    otid: t.string({ nullable: true, resolve: (message) => message.otid }),
    senderId: t.string({ nullable: true, resolve: (message) => message.senderId }),
    stepId: t.string({ nullable: true, resolve: (message) => message.stepId }),
    runId: t.string({ nullable: true, resolve: (message) => message.runId }),
    isErr: t.boolean({ resolve: (message) => message.isErr }),
    seqId: t.int({ description: 'Order of the stored message (monotonic).', resolve: (message) => message.seqId }),
  }),
});

type Of<T extends LettaMessageType> = Extract<LettaMessage, { messageType: T }>;

const ToolCallRef = builder.objectRef<{ name: string; arguments: string; toolCallId: string }>('ToolCall').implement({
  fields: (t) => ({
    name: t.exposeString('name'),
    arguments: t.exposeString('arguments', { description: 'JSON text of the arguments.' }),
    toolCallId: t.exposeString('toolCallId'),
  }),
});

const ToolReturnRef = builder
  .objectRef<{ toolReturn: string; status: string; toolCallId: string; stdout: string[] | null; stderr: string[] | null }>('ToolReturn')
  .implement({
    fields: (t) => ({
      toolReturn: t.exposeString('toolReturn'),
      status: t.exposeString('status'),
      toolCallId: t.exposeString('toolCallId'),
      stdout: t.exposeStringList('stdout', { nullable: true }),
      stderr: t.exposeStringList('stderr', { nullable: true }),
    }),
  });

const ApprovalItemRef = builder
  .objectRef<{ type: 'approval' | 'tool'; toolCallId: string; approve?: boolean | null; reason?: string | null; toolReturn?: string; status?: string }>('ApprovalItem')
  .implement({
    description: 'One answer to a pending tool call: an approval/denial, or a tool return from the client.',
    fields: (t) => ({
      type: t.exposeString('type'),
      toolCallId: t.exposeString('toolCallId'),
      approve: t.boolean({ nullable: true, resolve: (item) => item.approve ?? null }),
      reason: t.string({ nullable: true, resolve: (item) => item.reason ?? null }),
      toolReturn: t.string({ nullable: true, resolve: (item) => item.toolReturn ?? null }),
      status: t.string({ nullable: true, resolve: (item) => item.status ?? null }),
    }),
  });

const messageObject = <T extends LettaMessageType>(type: T) => builder.objectRef<Of<T>>(MESSAGE_TYPES[type]);
const base = { interfaces: [MessageInterface] };

messageObject('system_message').implement({ ...base, fields: (t) => ({ content: t.exposeString('content') }) });
messageObject('user_message').implement({ ...base, fields: (t) => ({ content: t.exposeString('content') }) });
messageObject('assistant_message').implement({ ...base, fields: (t) => ({ content: t.exposeString('content') }) });
messageObject('summary_message').implement({ ...base, fields: (t) => ({ summary: t.exposeString('summary') }) });
messageObject('reasoning_message').implement({
  ...base,
  fields: (t) => ({
    reasoning: t.exposeString('reasoning'),
    source: t.exposeString('source', { description: 'reasoner_model or non_reasoner_model' }),
    signature: t.exposeString('signature', { nullable: true }),
  }),
});
messageObject('hidden_reasoning_message').implement({
  ...base,
  fields: (t) => ({
    state: t.exposeString('state', { description: 'redacted or omitted' }),
    hiddenReasoning: t.exposeString('hiddenReasoning', { nullable: true }),
  }),
});
messageObject('tool_call_message').implement({
  ...base,
  fields: (t) => ({
    toolCall: t.field({ type: ToolCallRef, resolve: (message) => message.toolCall }),
    toolCalls: t.field({ type: [ToolCallRef], resolve: (message) => message.toolCalls }),
  }),
});
messageObject('tool_return_message').implement({
  ...base,
  fields: (t) => ({
    toolReturn: t.exposeString('toolReturn'),
    status: t.exposeString('status'),
    toolCallId: t.exposeString('toolCallId'),
    stdout: t.exposeStringList('stdout', { nullable: true }),
    stderr: t.exposeStringList('stderr', { nullable: true }),
    toolReturns: t.field({ type: [ToolReturnRef], resolve: (message) => message.toolReturns }),
  }),
});
messageObject('approval_request_message').implement({
  ...base,
  fields: (t) => ({
    toolCall: t.field({ type: ToolCallRef, resolve: (message) => message.toolCall }),
    toolCalls: t.field({ type: [ToolCallRef], description: 'The calls waiting for approval.', resolve: (message) => message.toolCalls }),
  }),
});
messageObject('approval_response_message').implement({
  ...base,
  fields: (t) => ({
    approvals: t.field({ type: [ApprovalItemRef], resolve: (message) => message.approvals as never }),
    approve: t.exposeBoolean('approve', { nullable: true }),
    approvalRequestId: t.exposeString('approvalRequestId', { nullable: true }),
    reason: t.exposeString('reason', { nullable: true }),
  }),
});

export const MessageListOptions = builder.inputType('MessageListOptions', {
  description: "How stored messages become client messages (Letta's use_assistant_message and friends).",
  fields: (t) => ({
    useAssistantMessage: t.boolean({ required: false, defaultValue: true, description: 'Show calls of the assistant message tool as assistant messages.' }),
    assistantMessageToolName: t.string({ required: false, defaultValue: 'send_message' }),
    assistantMessageToolKwarg: t.string({ required: false, defaultValue: 'message' }),
    includeReturnMessageTypes: t.field({ type: [MessageTypeEnum], required: false, description: 'Only these message types.' }),
  }),
});

const MessageEdge = builder.objectRef<{ cursor: string; node: LettaMessage }>('MessageEdge').implement({
  fields: (t) => ({
    cursor: t.exposeString('cursor', { description: "The message's own id: pass it as after/before (a stored message id also works: all its views)." }),
    node: t.field({ type: MessageInterface, resolve: (edge) => edge.node }),
  }),
});

const MessageConnection = builder
  .objectRef<{ edges: Array<{ cursor: string; node: LettaMessage }>; hasNextPage: boolean; hasPreviousPage: boolean }>('MessageConnection')
  .implement({
    description: 'Messages in chronological order. Cursors are chronological: after = later, before = earlier.',
    fields: (t) => ({
      edges: t.field({ type: [MessageEdge], resolve: (connection) => connection.edges }),
      nodes: t.field({ type: [MessageInterface], resolve: (connection) => connection.edges.map((edge) => edge.node) }),
      pageInfo: t.field({
        type: MessagePageInfo,
        resolve: (connection) => ({
          hasNextPage: connection.hasNextPage,
          hasPreviousPage: connection.hasPreviousPage,
          startCursor: connection.edges[0]?.cursor ?? null,
          endCursor: connection.edges.at(-1)?.cursor ?? null,
        }),
      }),
    }),
  });

const MessagePageInfo = builder
  .objectRef<{ hasNextPage: boolean; hasPreviousPage: boolean; startCursor: string | null; endCursor: string | null }>('MessagePageInfo')
  .implement({
    fields: (t) => ({
      hasNextPage: t.exposeBoolean('hasNextPage'),
      hasPreviousPage: t.exposeBoolean('hasPreviousPage'),
      startCursor: t.exposeString('startCursor', { nullable: true }),
      endCursor: t.exposeString('endCursor', { nullable: true }),
    }),
  });

builder.prismaObjectFields(Agent, (t) => ({
  messages: t.field({
    type: MessageConnection,
    description: 'The whole history (recall memory), oldest first. Without arguments: the newest 100, in chronological order.',
    args: {
      first: t.arg.int({ required: false }),
      after: t.arg.string({ required: false }),
      last: t.arg.int({ required: false }),
      before: t.arg.string({ required: false }),
      options: t.arg({ type: MessageListOptions, required: false }),
    },
    resolve: (agent, args, ctx) => messages.listMessages(ctx.services, agent.id, args),
  }),
}));
