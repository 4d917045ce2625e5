import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { graphql } from '../src/generated/gql/index.js';
import { closeAll, startWithScriptedModel, type TestServer } from './helpers/server.js';
import type { ModelServer } from './model-server/server.js';

const NewAgent = graphql(`
  mutation NewRuntimeAgent($input: CreateAgentInput!) { createAgent(input: $input) { agent { id } } }
`);
const Send = graphql(`
  mutation Send($input: SendMessageInput!) {
    sendMessage(input: $input) {
      stopReason
      usage { promptTokens completionTokens totalTokens stepCount }
      run { id status stopReason background steps { id status promptTokens completionTokens stepMs } }
      messages {
        __typename id seqId runId
        ... on AssistantMessage { content }
        ... on ReasoningMessage { reasoning }
        ... on UserMessage { content }
        ... on ToolCallMessage { toolCall { name arguments toolCallId } }
        ... on ToolReturnMessage { toolReturn status toolCallId }
        ... on ApprovalRequestMessage { toolCalls { name arguments toolCallId } }
      }
    }
  }
`);
const SendAsync = graphql(`
  mutation SendAsync($input: SendMessageAsyncInput!) { sendMessageAsync(input: $input) { run { id status background } } }
`);
const RunById = graphql(`
  query RunById($id: ID!) { run(id: $id) { id status stopReason completedAt usage { totalTokens stepCount } messages { __typename } } }
`);
const History = graphql(`
  query History($id: ID!, $first: Int, $after: String, $last: Int, $before: String, $options: MessageListOptions) {
    agent(id: $id) {
      lastStopReason
      block(label: "human") { value }
      systemPrompt
      pendingApproval { id ... on ApprovalRequestMessage { toolCalls { toolCallId name } } }
      runs(first: 50) { edges { node { id status } } }
      messages(first: $first, after: $after, last: $last, before: $before, options: $options) {
        edges {
          cursor
          node {
            __typename seqId
            ... on AssistantMessage { content }
            ... on UserMessage { content }
            ... on ToolCallMessage { toolCall { name } }
            ... on ToolReturnMessage { toolReturn status }
          }
        }
        pageInfo { hasNextPage hasPreviousPage }
      }
    }
  }
`);
const Approve = graphql(`
  mutation SetApproval($agentId: ID!, $toolName: String!) { setToolApproval(input: { agentId: $agentId, toolName: $toolName, requiresApproval: true }) { requiresApproval } }
`);
const Reset = graphql(`
  mutation Reset($agentId: ID!) { resetMessages(input: { agentId: $agentId }) { agent { id systemPrompt } } }
`);
const ClientTool = graphql(`
  mutation ClientTool($input: CreateToolInput!) { createTool(input: $input) { tool { id } } }
`);

const types = (messages: Array<{ __typename: string }>) => messages.map((message) => message.__typename);

describe('the agent runtime', () => {
  let model: ModelServer;
  let t: TestServer;
  beforeAll(async () => {
    ({ model, t } = await startWithScriptedModel());
  });
  afterAll(() => closeAll(t, model));

  const newAgent = async (input: Record<string, unknown> = {}) =>
    (await t.ok(NewAgent, { input: { model: 'test/scripted', memoryBlocks: [{ label: 'human', value: 'Name: unknown' }], ...input } })).createAgent.agent.id;

  it('thinks, edits its memory with a tool, and answers (letta_v1_agent)', async () => {
    const agentId = await newAgent();
    model.enqueue(
      { reasoning: 'The user told me their name.', toolCalls: [{ name: 'memory_replace', arguments: { label: 'human', old_string: 'Name: unknown', new_string: 'Name: Ada' } }], usage: { prompt_tokens: 100, completion_tokens: 20 } },
      { text: 'Nice to meet you, Ada!', usage: { prompt_tokens: 130, completion_tokens: 8 } },
    );
    const { sendMessage } = await t.ok(Send, { input: { agentId, input: 'my name is Ada' } });
    expect(sendMessage.stopReason).toBe('END_TURN');
    expect(sendMessage.run.status).toBe('COMPLETED');
    expect(sendMessage.usage).toEqual({ promptTokens: 230, completionTokens: 28, totalTokens: 258, stepCount: 2 });
    expect(sendMessage.run.steps).toHaveLength(2);
    expect(sendMessage.run.steps[0]).toMatchObject({ status: 'SUCCESS', promptTokens: 100, completionTokens: 20 });
    expect(types(sendMessage.messages)).toEqual(['ReasoningMessage', 'ToolCallMessage', 'ToolReturnMessage', 'AssistantMessage']);
    const [, call, ret, answer] = sendMessage.messages as unknown as Array<Record<string, unknown>>;
    expect(call).toMatchObject({ toolCall: { name: 'memory_replace' } });
    expect(ret).toMatchObject({ status: 'SUCCESS' });
    expect((ret as { toolCallId: string }).toolCallId).toBe((call as unknown as { toolCall: { toolCallId: string } }).toolCall.toolCallId);
    expect(answer).toMatchObject({ content: 'Nice to meet you, Ada!' });
    expect(sendMessage.messages.every((message) => message.runId === sendMessage.run.id)).toBe(true);

    const history = await t.ok(History, { id: agentId });
    expect(history.agent?.block?.value).toBe('Name: Ada');
    expect(history.agent?.systemPrompt).toContain('Name: Ada');
    expect(history.agent?.lastStopReason).toBe('END_TURN');
    expect(types(history.agent!.messages.edges.map((edge) => edge.node))).toEqual([
      'SystemMessage', 'UserMessage', 'ReasoningMessage', 'ToolCallMessage', 'ToolReturnMessage', 'AssistantMessage',
    ]);
    // The second model request saw the edited memory and the tool result.
    const second = model.requests.at(-1)!.body as { messages: Array<{ role: string; content: unknown }> };
    expect(String(second.messages[0]!.content)).toContain('Name: Ada');
    expect(second.messages.map((message) => message.role)).toEqual(['system', 'user', 'assistant', 'tool']);
  });

  it('replies through send_message with heartbeats (memgpt_v2_agent)', async () => {
    const agentId = await newAgent({ agentType: 'MEMGPT_V2_AGENT' });
    model.enqueue(
      { toolCalls: [{ name: 'memory_insert', arguments: { label: 'human', new_string: 'Likes tea.', request_heartbeat: true } }] },
      { toolCalls: [{ name: 'send_message', arguments: { message: 'Noted: you like tea.', request_heartbeat: false } }] },
    );
    const { sendMessage } = await t.ok(Send, { input: { agentId, input: 'I like tea' } });
    expect(sendMessage.stopReason).toBe('TOOL_RULE');
    expect(types(sendMessage.messages)).toEqual(['ToolCallMessage', 'ToolReturnMessage', 'UserMessage', 'AssistantMessage']);
    expect(sendMessage.messages.at(-1)).toMatchObject({ content: 'Noted: you like tea.' });
    const tools = (model.requests.at(-1)!.body as { tools: Array<{ function: { name: string; parameters: { properties: Record<string, unknown> } } }> }).tools;
    expect(tools.find((tool) => tool.function.name === 'memory_insert')?.function.parameters.properties).toHaveProperty('request_heartbeat');
    // A memgpt agent must answer with a tool; plain text (the default brain's echo) is no_tool_call.
    const plain = await t.ok(Send, { input: { agentId, input: 'and coffee' } });
    expect(plain.sendMessage).toMatchObject({ stopReason: 'NO_TOOL_CALL', run: { status: 'FAILED' } });
    expect((model.requests.at(-1)!.body as { tool_choice?: unknown }).tool_choice).toBe('required');
  });

  it("starts memgpt agents with Letta's boot exchange and login event, also after a reset", async () => {
    const agentId = await newAgent({ agentType: 'MEMGPT_V2_AGENT' });
    const kinds = async () => (await t.ok(History, { id: agentId })).agent!.messages.edges.map((edge) => edge.node.__typename);
    expect(await kinds()).toEqual(['SystemMessage', 'ReasoningMessage', 'AssistantMessage', 'UserMessage']);
    const boot = (await t.ok(History, { id: agentId })).agent!.messages.edges[2]!.node as { content: string };
    expect(boot.content).toBe('More human than human is our motto.');
    await t.ok(graphql(`mutation ResetWithInitial($agentId: ID!) { resetMessages(input: { agentId: $agentId, addDefaultInitialMessages: true }) { agent { id } } }`), { agentId });
    model.enqueue({ toolCalls: [{ name: 'send_message', arguments: { message: 'hi again' } }] });
    await t.ok(Send, { input: { agentId, input: 'hello' } });
    const prompt = model.requests.at(-1)!.body as { messages: Array<{ role: string }> };
    expect(prompt.messages.map((message) => message.role)).toEqual(['system', 'assistant', 'tool', 'user', 'user']);
  });

  it('pages the history chronologically, as Letta does', async () => {
    const agentId = await newAgent();
    for (const word of ['one', 'two', 'three']) {
      model.enqueue({ text: `ack ${word}` });
      await t.ok(Send, { input: { agentId, input: word } });
    }
    const all = (await t.ok(History, { id: agentId })).agent!.messages.edges;
    expect(all.map((edge) => (edge.node as { content?: string }).content ?? edge.node.__typename)).toEqual([
      'SystemMessage', 'one', 'ack one', 'two', 'ack two', 'three', 'ack three',
    ]);
    const seqs = all.map((edge) => edge.node.seqId);
    expect([...seqs].sort((a, b) => a - b)).toEqual(seqs);

    const newest = (await t.ok(History, { id: agentId, last: 2 })).agent!.messages;
    expect(newest.edges.map((edge) => (edge.node as { content: string }).content)).toEqual(['three', 'ack three']);
    expect(newest.pageInfo.hasPreviousPage).toBe(true);
    const after = (await t.ok(History, { id: agentId, first: 2, after: all[2]!.cursor })).agent!.messages;
    expect(after.edges.map((edge) => (edge.node as { content: string }).content)).toEqual(['two', 'ack two']);
    const before = (await t.ok(History, { id: agentId, last: 2, before: all[3]!.cursor })).agent!.messages;
    expect(before.edges.map((edge) => (edge.node as { content: string }).content)).toEqual(['one', 'ack one']);

    const filtered = (await t.ok(History, { id: agentId, options: { includeReturnMessageTypes: ['ASSISTANT_MESSAGE'] } })).agent!.messages;
    expect(filtered.edges.map((edge) => edge.node.__typename)).toEqual(['AssistantMessage', 'AssistantMessage', 'AssistantMessage']);
    const unknown = await t.request(History, { id: agentId, after: 'message-00000000-0000-4000-8000-000000000000' });
    expect(unknown.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
  });

  it('runs sends of one agent one at a time, in arrival order', async () => {
    const agentId = await newAgent();
    const count = 20;
    for (let i = 0; i < count; i++) model.enqueue({ text: `reply ${i}`, chunkDelayMs: 1 });
    const results = await Promise.all(
      Array.from({ length: count }, (_, i) => t.ok(Send, { input: { agentId, input: `message ${i}` } })),
    );
    expect(results.every((result) => result.sendMessage.run.status === 'COMPLETED')).toBe(true);
    const edges = (await t.ok(History, { id: agentId, last: 100 })).agent!.messages.edges;
    const contents = edges.slice(1).map((edge) => (edge.node as { content: string }).content);
    expect(contents).toHaveLength(count * 2);
    // Each user message is followed by the reply of its own run: no interleaving, nothing lost.
    for (let i = 0; i < count; i++) {
      const user = contents[2 * i]!;
      const reply = contents[2 * i + 1]!;
      expect(user).toMatch(/^message \d+$/);
      expect(reply).toBe(`reply ${i}`);
    }
    expect(new Set(contents.filter((text) => text.startsWith('message'))).size).toBe(count);
  });

  it('refuses a send with failIfBusy while the agent runs (AGENT_BUSY)', async () => {
    const agentId = await newAgent();
    model.enqueue({ text: 'slow', delayMs: 800 });
    const first = await t.ok(SendAsync, { input: { agentId, input: 'take your time' } });
    expect(first.sendMessageAsync.run).toMatchObject({ background: true });
    const busy = await t.request(Send, { input: { agentId, input: 'hurry', failIfBusy: true } });
    expect(busy.errors?.[0]?.extensions?.code).toBe('AGENT_BUSY');
    let run = (await t.ok(RunById, { id: first.sendMessageAsync.run.id })).run;
    for (let i = 0; i < 100 && run?.status !== 'COMPLETED'; i++) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      run = (await t.ok(RunById, { id: first.sendMessageAsync.run.id })).run;
    }
    expect(run).toMatchObject({ status: 'COMPLETED', stopReason: 'END_TURN' });
    expect(run?.messages.map((message) => message.__typename)).toEqual(['UserMessage', 'AssistantMessage']);
    const runs = (await t.ok(History, { id: agentId })).agent!.runs.edges;
    expect(runs.map((edge) => edge.node.id)).toContain(first.sendMessageAsync.run.id);
  });

  it('waits for approval of a tool call, refuses other messages meanwhile, then runs it', async () => {
    const agentId = await newAgent();
    await t.ok(Approve, { agentId, toolName: 'memory_replace' });
    model.enqueue({ toolCalls: [{ id: 'call_approve_1', name: 'memory_replace', arguments: { label: 'human', old_string: 'Name: unknown', new_string: 'Name: Grace' } }] });
    const asked = await t.ok(Send, { input: { agentId, input: 'I am Grace' } });
    expect(asked.sendMessage.stopReason).toBe('REQUIRES_APPROVAL');
    expect(asked.sendMessage.run.status).toBe('COMPLETED');
    expect(asked.sendMessage.messages.at(-1)).toMatchObject({ __typename: 'ApprovalRequestMessage', toolCalls: [{ name: 'memory_replace', toolCallId: 'call_approve_1' }] });
    expect((await t.ok(History, { id: agentId })).agent?.pendingApproval).toMatchObject({ toolCalls: [{ toolCallId: 'call_approve_1' }] });

    const meanwhile = await t.request(Send, { input: { agentId, input: 'hello?' } });
    expect(meanwhile.errors?.[0]?.extensions).toMatchObject({ code: 'PENDING_APPROVAL' });
    const wrongIds = await t.request(Send, { input: { agentId, approvals: [{ toolCallId: 'call_other', approve: true }] } });
    expect(wrongIds.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    expect(wrongIds.errors?.[0]?.message).toContain('call_approve_1');
    expect((await t.ok(History, { id: agentId })).agent?.block?.value).toBe('Name: unknown');

    model.enqueue({ text: 'Saved, Grace.' });
    const approved = await t.ok(Send, { input: { agentId, approvals: [{ toolCallId: 'call_approve_1', approve: true }] } });
    expect(approved.sendMessage.stopReason).toBe('END_TURN');
    expect(types(approved.sendMessage.messages)).toEqual(['ToolReturnMessage', 'AssistantMessage']);
    const after = await t.ok(History, { id: agentId });
    expect(after.agent?.block?.value).toBe('Name: Grace');
    expect(after.agent?.pendingApproval).toBeNull();
  });

  it('turns a denial into an error result the model sees', async () => {
    const agentId = await newAgent();
    await t.ok(Approve, { agentId, toolName: 'memory_replace' });
    model.enqueue({ toolCalls: [{ id: 'call_deny_1', name: 'memory_replace', arguments: { label: 'human', old_string: 'Name: unknown', new_string: 'Name: Mallory' } }] });
    await t.ok(Send, { input: { agentId, input: 'call me Mallory' } });
    model.enqueue({ text: 'Understood, I will not change it.' });
    const denied = await t.ok(Send, { input: { agentId, approvals: [{ toolCallId: 'call_deny_1', approve: false, reason: 'not your name' }] } });
    expect(denied.sendMessage.messages[0]).toMatchObject({ __typename: 'ToolReturnMessage', status: 'ERROR' });
    expect((denied.sendMessage.messages[0] as { toolReturn: string }).toolReturn).toContain('not your name');
    expect((await t.ok(History, { id: agentId })).agent?.block?.value).toBe('Name: unknown');
  });

  it('hands client-side tool calls to the client and continues with its result', async () => {
    const tool = (await t.ok(ClientTool, { input: { name: 'get_weather', description: 'Weather', parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] } } })).createTool.tool;
    const agentId = await newAgent({ toolIds: [tool.id] });
    model.enqueue({ toolCalls: [{ id: 'call_weather_1', name: 'get_weather', arguments: { city: 'Paris' } }] });
    const asked = await t.ok(Send, { input: { agentId, input: 'weather in Paris?' } });
    expect(asked.sendMessage.stopReason).toBe('REQUIRES_APPROVAL');
    model.enqueue({ text: 'It is sunny in Paris.' });
    const answered = await t.ok(Send, { input: { agentId, toolReturns: [{ toolCallId: 'call_weather_1', toolReturn: 'sunny, 21°C' }] } });
    expect(answered.sendMessage.stopReason).toBe('END_TURN');
    expect(answered.sendMessage.messages[0]).toMatchObject({ __typename: 'ToolReturnMessage', toolReturn: 'sunny, 21°C', status: 'SUCCESS' });
    const lastRequest = model.requests.at(-1)!.body as { messages: Array<{ role: string; content: unknown }> };
    expect(lastRequest.messages.at(-1)).toMatchObject({ role: 'tool' });
    expect(String(lastRequest.messages.at(-1)!.content)).toContain('sunny');
  });

  it('stops at maxSteps', async () => {
    const agentId = await newAgent();
    model.enqueue(
      { toolCalls: [{ name: 'conversation_search', arguments: { query: 'anything' } }] },
      { toolCalls: [{ name: 'conversation_search', arguments: { query: 'more' } }] },
    );
    const { sendMessage } = await t.ok(Send, { input: { agentId, input: 'search forever', maxSteps: 2 } });
    expect(sendMessage.stopReason).toBe('MAX_STEPS');
    expect(sendMessage.usage.stepCount).toBe(2);
  });

  it('resets the context to the system message and keeps the history searchable', async () => {
    const agentId = await newAgent();
    model.enqueue({ text: 'first answer' });
    await t.ok(Send, { input: { agentId, input: 'remember the password is swordfish' } });
    await t.ok(Reset, { agentId });
    model.enqueue({ toolCalls: [{ name: 'conversation_search', arguments: { query: 'swordfish' } }] }, { text: 'found it' });
    const { sendMessage } = await t.ok(Send, { input: { agentId, input: 'what was the password?' } });
    const firstRequest = model.requests.at(-2)!.body as { messages: Array<{ role: string }> };
    expect(firstRequest.messages.map((message) => message.role)).toEqual(['system', 'user']);
    const search = sendMessage.messages.find((message) => message.__typename === 'ToolReturnMessage') as { toolReturn: string } | undefined;
    expect(search?.toolReturn).toContain('swordfish');
    const history = (await t.ok(History, { id: agentId })).agent!.messages.edges;
    expect(history.some((edge) => (edge.node as { content?: string }).content === 'remember the password is swordfish')).toBe(true);
  });
});
