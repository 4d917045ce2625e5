import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { graphql } from '../src/generated/gql/index.js';
import { closeAll, collect, eventually, startWithScriptedModel, type TestServer } from './helpers/server.js';
import type { ModelServer } from './model-server/server.js';

/** Letta's modify_message, agent.pendingApproval, idempotent sends and a cancelled first step. */

const NewAgent = graphql(`
  mutation ParityAgent($input: CreateAgentInput!) { createAgent(input: $input) { agent { id } } }
`);
const Send = graphql(`
  mutation ParitySend($input: SendMessageInput!) {
    sendMessage(input: $input) { stopReason run { id } messages { __typename id messageId } }
  }
`);
const SendAsync = graphql(`
  mutation ParitySendAsync($input: SendMessageAsyncInput!) { sendMessageAsync(input: $input) { run { id } } }
`);
const Edit = graphql(`
  mutation ParityEdit($input: UpdateMessageInput!) {
    updateMessage(input: $input) {
      message {
        __typename id messageId
        ... on UserMessage { content }
        ... on SystemMessage { content }
        ... on AssistantMessage { content }
        ... on ReasoningMessage { reasoning signature }
      }
    }
  }
`);
const History = graphql(`
  query ParityHistory($id: ID!) {
    agent(id: $id) {
      systemPrompt
      memory
      runs(first: 50) { edges { node { id status stopReason } } }
      pendingApproval { id messageId ... on ApprovalRequestMessage { toolCalls { toolCallId name } } }
      messages(first: 500) {
        nodes {
          __typename id messageId
          ... on UserMessage { content }
          ... on SystemMessage { content }
          ... on AssistantMessage { content }
          ... on ReasoningMessage { reasoning signature }
        }
      }
    }
  }
`);
const Cancel = graphql(`
  mutation ParityCancel($runId: ID!) { cancelRun(input: { runId: $runId }) { run { status } } }
`);
const RunStatus = graphql(`
  query ParityRun($id: ID!) { run(id: $id) { status stopReason } }
`);
const Approval = graphql(`
  mutation ParityApproval($agentId: ID!, $toolName: String!) { setToolApproval(input: { agentId: $agentId, toolName: $toolName, requiresApproval: true }) { requiresApproval } }
`);

describe('messages: editing, pending approvals, idempotent sends, cancelled first steps', () => {
  let model: ModelServer;
  let t: TestServer;
  const newAgent = async (name: string, agentType = 'LETTA_V1_AGENT') =>
    (await t.ok(NewAgent, { input: { name, model: 'test/scripted', agentType: agentType as never, memoryBlocks: [{ label: 'human', value: 'Name: unknown' }] } })).createAgent.agent.id;
  const history = async (id: string) => (await t.ok(History, { id })).agent!;

  beforeAll(async () => {
    ({ model, t } = await startWithScriptedModel());
  });
  afterAll(async () => {
    await closeAll(t, model);
  });

  it('updateMessage edits user, assistant and reasoning messages in place, by message id or by view id', async () => {
    const id = await newAgent('editor');
    model.enqueue({ reasoning: 'The user greets me.', signature: 'sig_original', text: 'Hello there.' });
    const sent = (await t.ok(Send, { input: { agentId: id, input: 'hi' } })).sendMessage;
    const [reasoning, assistant] = sent.messages;
    expect([reasoning!.__typename, assistant!.__typename]).toEqual(['ReasoningMessage', 'AssistantMessage']);
    const user = (await history(id)).messages.nodes.find((node) => node.__typename === 'UserMessage')!;

    const editedUser = (await t.ok(Edit, { input: { agentId: id, messageId: user.messageId, messageType: 'USER_MESSAGE', content: 'hello, I am Ada' } })).updateMessage.message;
    expect(editedUser).toMatchObject({ __typename: 'UserMessage', id: user.id, content: 'hello, I am Ada' });
    // By the view's own id: the same stored message, another view.
    const editedAssistant = (await t.ok(Edit, { input: { agentId: id, messageId: assistant!.id, messageType: 'ASSISTANT_MESSAGE', content: 'Hello, Ada.' } })).updateMessage.message;
    expect(editedAssistant).toMatchObject({ __typename: 'AssistantMessage', id: assistant!.id, content: 'Hello, Ada.' });
    const editedReasoning = (await t.ok(Edit, { input: { agentId: id, messageId: reasoning!.messageId, messageType: 'REASONING_MESSAGE', content: 'Ada greets me.' } })).updateMessage.message;
    // The provider's signature belongs to the old text: it goes.
    expect(editedReasoning).toMatchObject({ __typename: 'ReasoningMessage', id: reasoning!.id, reasoning: 'Ada greets me.', signature: null });

    const after = (await history(id)).messages.nodes;
    expect(after.map((node) => node.id)).toEqual((await history(id)).messages.nodes.map((node) => node.id));
    expect(after.find((node) => node.id === assistant!.id)).toMatchObject({ content: 'Hello, Ada.' });
    // The next turn sends the model the edited history.
    model.enqueue({ text: 'ok' });
    await t.ok(Send, { input: { agentId: id, input: 'again' } });
    const prompt = JSON.stringify(model.requests.at(-1));
    expect(prompt).toContain('hello, I am Ada');
    expect(prompt).toContain('Hello, Ada.');
    expect(prompt).not.toContain('Hello there.');
  });

  it("updateMessage edits a legacy agent's send_message call, and refuses what cannot be edited", async () => {
    const id = await newAgent('legacy', 'MEMGPT_V2_AGENT');
    model.enqueue({ toolCalls: [{ id: 'c1', name: 'send_message', arguments: { message: 'Original reply.' } }] });
    const sent = (await t.ok(Send, { input: { agentId: id, input: 'hi' } })).sendMessage;
    const reply = sent.messages.find((message) => message.__typename === 'AssistantMessage')!;
    const edited = (await t.ok(Edit, { input: { agentId: id, messageId: reply.messageId, messageType: 'ASSISTANT_MESSAGE', content: 'Edited reply.' } })).updateMessage.message;
    expect(edited).toMatchObject({ __typename: 'AssistantMessage', content: 'Edited reply.' });

    const user = (await history(id)).messages.nodes.find((node) => node.__typename === 'UserMessage')!;
    const wrongType = await t.request(Edit, { input: { agentId: id, messageId: user.messageId, messageType: 'ASSISTANT_MESSAGE', content: 'x' } });
    expect(wrongType.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', path: 'messageType' });
    expect(wrongType.errors![0]!.message).toContain('is a user message');
    const mismatch = await t.request(Edit, { input: { agentId: id, messageId: reply.id, messageType: 'USER_MESSAGE', content: 'x' } });
    expect(mismatch.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    const unknown = await t.request(Edit, { input: { agentId: id, messageId: 'message-00000000-0000-4000-8000-000000000000', messageType: 'USER_MESSAGE', content: 'x' } });
    expect(unknown.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
    const malformed = await t.request(Edit, { input: { agentId: id, messageId: 'nope', messageType: 'USER_MESSAGE', content: 'x' } });
    expect(malformed.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    const other = await t.newOrganization();
    const foreign = await t.request(Edit, { input: { agentId: id, messageId: user.messageId, messageType: 'USER_MESSAGE', content: 'x' } }, { token: other.token });
    expect(foreign.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
  });
});

describe('messages: the system message, approvals, idempotency and cancels', () => {
  let model: ModelServer;
  let t: TestServer;
  const newAgent = async (name: string) =>
    (await t.ok(NewAgent, { input: { name, model: 'test/scripted', memoryBlocks: [{ label: 'human', value: 'Name: unknown' }] } })).createAgent.agent.id;
  const history = async (id: string) => (await t.ok(History, { id })).agent!;

  beforeAll(async () => {
    ({ model, t } = await startWithScriptedModel());
  });
  afterAll(async () => {
    await closeAll(t, model);
  });

  it('a system message edit that keeps the compiled memory stays; one that drops it is rebuilt, as Letta does', async () => {
    const id = await newAgent('system-editor');
    const before = await history(id);
    const system = before.messages.nodes[0]!;
    const kept = `Speak like a pirate.\n${before.memory}`;
    const edited = (await t.ok(Edit, { input: { agentId: id, messageId: system.messageId, messageType: 'SYSTEM_MESSAGE', content: kept } })).updateMessage.message;
    expect(edited).toMatchObject({ __typename: 'SystemMessage', content: kept });
    expect((await history(id)).systemPrompt).toBe(kept);
    model.enqueue({ text: 'Arr.' });
    await t.ok(Send, { input: { agentId: id, input: 'hi' } });
    expect(JSON.stringify(model.requests.at(-1))).toContain('Speak like a pirate.');

    const dropped = (await t.ok(Edit, { input: { agentId: id, messageId: system.messageId, messageType: 'SYSTEM_MESSAGE', content: 'No memory here.' } })).updateMessage.message;
    expect(dropped).toMatchObject({ __typename: 'SystemMessage' });
    const rebuilt = (await history(id)).systemPrompt!;
    expect(rebuilt).not.toContain('No memory here.');
    expect(rebuilt).toContain(before.memory);
  });

  it('agent.pendingApproval shows the waiting request, also when the approval message starts with reasoning', async () => {
    const id = await newAgent('approver');
    await t.ok(Approval, { agentId: id, toolName: 'conversation_search' });
    model.enqueue({ reasoning: 'Let me search.', toolCalls: [{ id: 'call_wait', name: 'conversation_search', arguments: { query: 'x' } }] });
    expect((await t.ok(Send, { input: { agentId: id, input: 'search' } })).sendMessage.stopReason).toBe('REQUIRES_APPROVAL');
    const pending = (await history(id)).pendingApproval;
    expect(pending).toMatchObject({ toolCalls: [{ toolCallId: 'call_wait', name: 'conversation_search' }] });
    const refused = await t.request(Send, { input: { agentId: id, input: 'again' } });
    expect(refused.errors?.[0]?.extensions).toMatchObject({ code: 'PENDING_APPROVAL', toolCallIds: ['call_wait'] });
  });

  it('a send repeated with the same key attaches to the first run (sendMessageAsync, sendMessage with an otid, chat re-subscribed)', async () => {
    const id = await newAgent('idempotent');
    model.enqueue({ text: 'once', delayMs: 300 });
    const first = (await t.ok(SendAsync, { input: { agentId: id, input: 'hello', idempotencyKey: 'key-1' } })).sendMessageAsync.run.id;
    const second = (await t.ok(SendAsync, { input: { agentId: id, input: 'hello', idempotencyKey: 'key-1' } })).sendMessageAsync.run.id;
    expect(second).toBe(first);
    // A waiting send with the same key gets the first run's result.
    const waited = (await t.ok(Send, { input: { agentId: id, input: 'hello', idempotencyKey: 'key-1' } })).sendMessage;
    expect(waited.run.id).toBe(first);
    expect(waited.stopReason).toBe('END_TURN');
    expect(waited.messages.map((message) => message.__typename)).toEqual(['AssistantMessage']);

    // Letta's otid on the message is a key too.
    model.enqueue({ text: 'twice?' });
    const message = { role: 'USER' as const, content: 'with an otid', otid: 'otid-1' };
    const a = (await t.ok(Send, { input: { agentId: id, messages: [message] } })).sendMessage.run.id;
    const b = (await t.ok(Send, { input: { agentId: id, messages: [message] } })).sendMessage.run.id;
    expect(b).toBe(a);

    // graphql-ws re-subscribes `chat` after a reconnect with the same payload: one run, both streams.
    model.enqueue({ text: 'streamed once', delayMs: 200 });
    const query = `subscription($input: SendMessageInput!) { chat(input: $input) { __typename runId } }`;
    const variables = { input: { agentId: id, input: 'chat', idempotencyKey: 'chat-1' } };
    const streams = [collect<any>(t.ws(), { query, variables }), collect<any>(t.ws(), { query, variables })];
    await eventually(() => streams.every((stream) => stream.completed), () => {}, 15_000);
    const runIds = streams.map((stream) => new Set(stream.values.map((value) => value.chat.runId)));
    expect(runIds[0]!.size).toBe(1);
    expect([...runIds[1]!]).toEqual([...runIds[0]!]);

    const after = await history(id);
    expect(after.runs.edges).toHaveLength(3);
    expect(after.messages.nodes.filter((node) => node.__typename === 'UserMessage').map((node) => (node as { content: string }).content)).toEqual([
      'hello',
      'with an otid',
      'chat',
    ]);
    expect(model.pending()).toBe(0);
  });

  it('a run cancelled in its first step (or while queued) keeps what the user sent, in the history and the context', async () => {
    const id = await newAgent('cancelled');
    for (const text of ['first try', 'second try']) {
      model.enqueue({ hang: true });
      const runId = (await t.ok(SendAsync, { input: { agentId: id, input: text } })).sendMessageAsync.run.id;
      await eventually(() => model.active() > 0);
      expect((await t.ok(Cancel, { runId })).cancelRun.run.status).toBe('CANCELLED');
      await eventually(() => model.active() === 0);
    }
    // Queued behind a running run, cancelled before it starts.
    model.enqueue({ text: 'slow', delayMs: 500 });
    const running = (await t.ok(SendAsync, { input: { agentId: id, input: 'third try' } })).sendMessageAsync.run.id;
    const queued = (await t.ok(SendAsync, { input: { agentId: id, input: 'never ran' } })).sendMessageAsync.run.id;
    expect((await t.ok(Cancel, { runId: queued })).cancelRun.run.status).toBe('CANCELLED');
    let status = 'RUNNING';
    await eventually(() => status === 'COMPLETED', async () => {
      status = (await t.ok(RunStatus, { id: running })).run!.status;
    });

    const users = (await history(id)).messages.nodes.filter((node) => node.__typename === 'UserMessage').map((node) => (node as { content: string }).content);
    // The queued send is stored when it is cancelled, before the running run writes its first step.
    expect(users).toEqual(['first try', 'second try', 'never ran', 'third try']);
    // The model saw the cancelled messages on the next turn: they are in the context window.
    const prompt = JSON.stringify(model.requests.at(-1));
    expect(prompt).toContain('first try');
    expect(prompt).toContain('second try');
  });
});
