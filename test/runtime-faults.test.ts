import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { messageText, type ModelServer, type Reply } from './model-server/server.js';
import { closeAll, startWithScriptedModel, uniqueName, type GraphQLResult, type TestServer } from './helpers/server.js';

/**
 * Faults of the agent runtime seen through GraphQL: model failures and unusable model answers end
 * the run as `failed` with Letta's stop reason and leave a consistent history; bad input is refused
 * before a run exists; cancellation stops a run mid-stream, between steps or while queued.
 */

// ---- documents (plain strings; results typed by the interfaces below) ----

const MESSAGE_FIELDS = `
  __typename id messageType isErr runId stepId
  ... on UserMessage { content }
  ... on AssistantMessage { content }
  ... on ToolCallMessage { toolCall { toolCallId name arguments } }
  ... on ToolReturnMessage { toolCallId status toolReturn }
`;
const RUN_FIELDS = `id agentId status stopReason background startedAt completedAt totalDurationMs metadata error { code message } steps { id stopReason }`;

const CREATE_AGENT = `mutation ($input: CreateAgentInput!) { createAgent(input: $input) { agent { id model } } }`;
const SEND = `mutation ($input: SendMessageInput!) {
  sendMessage(input: $input) { stopReason run { ${RUN_FIELDS} } messages { ${MESSAGE_FIELDS} } }
}`;
const SEND_ASYNC = `mutation ($input: SendMessageAsyncInput!) { sendMessageAsync(input: $input) { run { ${RUN_FIELDS} } } }`;
const CANCEL_RUN = `mutation ($runId: ID!) { cancelRun(input: { runId: $runId }) { run { ${RUN_FIELDS} } } }`;
const CANCEL_AGENT_RUNS = `mutation ($agentId: ID!, $runIds: [ID!]) { cancelAgentRuns(input: { agentId: $agentId, runIds: $runIds }) { runs { ${RUN_FIELDS} } } }`;
const GET_RUN = `query ($id: ID!) { run(id: $id) { ${RUN_FIELDS} messages { ${MESSAGE_FIELDS} } } }`;
const AGENT_STATE = `query ($id: ID!) {
  agent(id: $id) { id lastStopReason block(label: "human") { value } messages(last: 100) { nodes { ${MESSAGE_FIELDS} } } }
}`;

interface Msg {
  __typename: string;
  id: string;
  messageType: string;
  isErr: boolean;
  runId: string | null;
  stepId: string | null;
  content?: string;
  toolCall?: { toolCallId: string; name: string; arguments: string };
  toolCallId?: string;
  status?: string;
  toolReturn?: string;
}
interface RunView {
  id: string;
  agentId: string;
  status: string;
  stopReason: string | null;
  background: boolean;
  startedAt: string | null;
  completedAt: string | null;
  totalDurationMs: number | null;
  metadata: { run_type?: string; error?: { error_type: string; message: string; detail: string | null } } | null;
  steps: Array<{ id: string; stopReason: string | null }>;
  messages?: Msg[];
}
interface AgentState {
  id: string;
  lastStopReason: string | null;
  block: { value: string } | null;
  messages: { nodes: Msg[] };
}

const UNKNOWN_AGENT = 'agent-00000000-0000-4000-8000-000000000000';
const UNKNOWN_RUN = 'run-00000000-0000-4000-8000-000000000000';
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

// ---- helpers ----

async function ok<T>(t: TestServer, query: string, variables: Record<string, unknown>): Promise<T> {
  const result = (await t.request(query, variables as never)) as GraphQLResult<T>;
  if (result.errors?.length || !result.data) throw new Error(`GraphQL request failed: ${JSON.stringify(result.errors ?? result)}`);
  return result.data;
}

function errorOf(result: GraphQLResult<unknown>) {
  expect(result.errors, 'expected a GraphQL error').toBeDefined();
  return { code: result.errors![0]!.extensions?.code, message: result.errors![0]!.message };
}

async function createAgent(t: TestServer, input: Record<string, unknown> = {}): Promise<string> {
  const data = await ok<{ createAgent: { agent: { id: string } } }>(t, CREATE_AGENT, {
    input: { name: uniqueName('faulty'), model: 'test/scripted', memoryBlocks: [{ label: 'human', value: 'Name: Ada' }], ...input },
  });
  return data.createAgent.agent.id;
}

interface SendResult {
  stopReason: string | null;
  run: RunView;
  messages: Msg[];
}
const send = async (t: TestServer, agentId: string, input: Record<string, unknown>) =>
  (await ok<{ sendMessage: SendResult }>(t, SEND, { input: { agentId, ...input } })).sendMessage;
const sendAsync = async (t: TestServer, agentId: string, input: Record<string, unknown>) =>
  (await ok<{ sendMessageAsync: { run: RunView } }>(t, SEND_ASYNC, { input: { agentId, ...input } })).sendMessageAsync.run;
const cancelRun = async (t: TestServer, runId: string) => (await ok<{ cancelRun: { run: RunView } }>(t, CANCEL_RUN, { runId })).cancelRun.run;
const getRun = async (t: TestServer, id: string) => (await ok<{ run: RunView }>(t, GET_RUN, { id })).run;
const agentState = async (t: TestServer, id: string) => (await ok<{ agent: AgentState }>(t, AGENT_STATE, { id })).agent;

async function waitFor<T>(what: string, probe: () => T | Promise<T>, done: (value: T) => boolean, timeoutMs = 8_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (done(value)) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; last value: ${JSON.stringify(value)}`);
    await sleep(25);
  }
}

/** Waits until the run's background work is over (finishRun records the duration). */
const runSettled = (t: TestServer, runId: string) =>
  waitFor(`run ${runId} to settle`, () => getRun(t, runId), (run) => run.totalDurationMs !== null && run.completedAt !== null);

/** Every tool call has its return (and the other way round); nothing the run stored is an unanswered call. */
function expectConsistent(messages: Msg[]) {
  const calls = messages.filter((m) => m.messageType === 'TOOL_CALL_MESSAGE').map((m) => m.toolCall!.toolCallId);
  const returns = messages.filter((m) => m.messageType === 'TOOL_RETURN_MESSAGE').map((m) => m.toolCallId!);
  expect(new Set(returns)).toEqual(new Set(calls));
  expect(messages.filter((m) => m.messageType === 'APPROVAL_REQUEST_MESSAGE')).toEqual([]);
}

/** The prompt the model saw: every assistant tool call is followed by its tool result. */
function expectPromptConsistent(model: ModelServer, index: number) {
  const messages = model.requests[index]!.body.messages;
  messages.forEach((message, i) => {
    for (const call of message.tool_calls ?? []) {
      expect(messages.slice(i + 1).some((later) => later.role === 'tool' && later.tool_call_id === call.id), `tool result for ${call.id}`).toBe(true);
    }
  });
}

/** The next send with a normal scripted reply ends well. */
async function expectRecovers(t: TestServer, model: ModelServer, agentId: string) {
  const text = uniqueName('recovered');
  model.enqueue({ text });
  const before = model.requests.length;
  const next = await send(t, agentId, { input: 'are you there?' });
  expect(next.run.status).toBe('COMPLETED');
  expect(next.stopReason).toBe('END_TURN');
  expect(next.messages.filter((m) => m.messageType === 'ASSISTANT_MESSAGE').map((m) => m.content)).toEqual([text]);
  expect(model.requests.length).toBe(before + 1);
  expectPromptConsistent(model, before);
  const state = await agentState(t, agentId);
  expect(state.lastStopReason).toBe('END_TURN');
  expectConsistent(state.messages.nodes);
  return { state, promptIndex: before };
}

// ---- 1. faults ----

interface FaultCase {
  name: string;
  replies: Reply[];
  stopReason: string;
  errorType: string;
}

// Classification as src/agent/llm/call.ts and src/agent/loop.ts make it.
const FAULTS: FaultCase[] = [
  { name: 'a model that times out', replies: [{ text: 'too late', delayMs: 4_000 }], stopReason: 'LLM_API_ERROR', errorType: 'llm_timeout' },
  // A rate limit is tried again LLM_MAX_RETRIES (2) times before the run fails.
  { name: 'HTTP 429', replies: [{ status: 429 }, { status: 429 }, { status: 429 }], stopReason: 'LLM_API_ERROR', errorType: 'llm_rate_limit' },
  { name: 'HTTP 401', replies: [{ status: 401 }], stopReason: 'LLM_API_ERROR', errorType: 'llm_authentication' },
  { name: 'HTTP 500', replies: [{ status: 500 }], stopReason: 'LLM_API_ERROR', errorType: 'llm_error' },
  {
    name: 'malformed JSON in tool arguments',
    replies: [{ toolCalls: [{ name: 'memory_insert', arguments: '{"label": ' }] }],
    stopReason: 'INVALID_TOOL_CALL',
    errorType: 'llm_error',
  },
  {
    name: 'a call to a tool the agent does not have',
    replies: [{ toolCalls: [{ name: 'launch_rockets', arguments: { target: 'moon' } }] }],
    stopReason: 'INVALID_TOOL_CALL',
    errorType: 'llm_error',
  },
  {
    name: 'a stream cut in the middle',
    replies: [{ text: 'this answer will never be finished by the model', cutAfterChunks: 4 }],
    stopReason: 'LLM_API_ERROR',
    errorType: 'llm_error',
  },
  {
    name: 'a malformed stream chunk',
    replies: [{ text: 'an answer with a broken chunk in it', malformedChunk: true }],
    stopReason: 'INVALID_LLM_RESPONSE',
    errorType: 'llm_error',
  },
];

describe('model and tool-call faults end the run cleanly', () => {
  let model: ModelServer;
  let t: TestServer;
  beforeAll(async () => {
    ({ model, t } = await startWithScriptedModel({ LLM_TIMEOUT_MS: '1500' }));
  });
  afterAll(() => closeAll(t, model));

  it.each(FAULTS)('$name → failed with $stopReason ($errorType), then recovers', async ({ replies, stopReason, errorType }) => {
    const agentId = await createAgent(t);
    // A first good exchange, so the failure happens on top of existing history.
    model.enqueue({ text: 'hello Ada' });
    expect((await send(t, agentId, { input: 'hi' })).stopReason).toBe('END_TURN');

    model.enqueue(...replies);
    const input = uniqueName('doomed input');
    const failed = await send(t, agentId, { input });
    expect(failed.run.status).toBe('FAILED');
    expect(failed.stopReason).toBe(stopReason);
    expect(failed.run.stopReason).toBe(stopReason);
    expect(failed.run.completedAt).not.toBeNull();
    expect(failed.run.metadata?.error).toMatchObject({ error_type: errorType, message: expect.any(String) });
    expect(failed.run.metadata?.error?.message.length).toBeGreaterThan(0);
    expect((failed.run as unknown as { error: { code: string } }).error.code).toBe(errorType.toUpperCase());
    expect(failed.run.steps).toEqual([]); // a failed step stores nothing
    expect(failed.messages).toEqual([]);

    const state = await agentState(t, agentId);
    expect(state.lastStopReason).toBe(stopReason);
    expectConsistent(state.messages.nodes);
    const ofRun = state.messages.nodes.filter((m) => m.runId === failed.run.id);
    // Only the caller's input may remain, marked as errored; no assistant text, call or return.
    for (const message of ofRun) expect(message).toMatchObject({ messageType: 'USER_MESSAGE', isErr: true });
    for (const message of state.messages.nodes.filter((m) => m.content?.includes(input))) expect(message.isErr).toBe(true);
    expect(state.block?.value).toBe('Name: Ada');

    // The failed input is not part of the context the next call sees, and the next call works.
    const { promptIndex } = await expectRecovers(t, model, agentId);
    const prompt = model.requests[promptIndex]!.body.messages.map(messageText).join('\n');
    expect(prompt).not.toContain(input);
    expect(prompt).toContain('hello Ada');
  });
});

describe('a failed stream is closed', () => {
  let model: ModelServer;
  let t: TestServer;
  beforeAll(async () => {
    ({ model, t } = await startWithScriptedModel());
  });
  afterAll(() => closeAll(t, model));

  it('aborts the model request when its stream goes bad, so the provider stops generating', async () => {
    const agentId = await createAgent(t);
    model.enqueue({ text: 'z'.repeat(400), chunkDelayMs: 20, malformedChunk: true });
    const failed = await send(t, agentId, { input: 'go' });
    expect(failed.stopReason).toBe('INVALID_LLM_RESPONSE');
    await waitFor('the request to be aborted', () => model.requests.at(-1)!, (request) => request.aborted === true);
    expect(model.requests.at(-1)!.completed).toBe(false);
  });

  it('cancelling an old approval run leaves it, and a newer pending approval, alone', async () => {
    const agentId = await createAgent(t);
    await ok(t, `mutation($a: ID!) { setToolApproval(input: { agentId: $a, toolName: "memory_replace", requiresApproval: true }) { requiresApproval } }`, { a: agentId });
    const call = (id: string) => ({ toolCalls: [{ id, name: 'memory_replace', arguments: { label: 'human', old_string: 'Ada', new_string: 'Grace' } }] });
    model.enqueue(call('call_old'));
    const first = await send(t, agentId, { input: 'rename me' });
    model.enqueue({ text: 'ok' });
    await send(t, agentId, { approvals: [{ toolCallId: 'call_old', approve: false, reason: 'no' }] });
    model.enqueue(call('call_new'));
    const second = await send(t, agentId, { input: 'rename me again' });
    expect(second.stopReason).toBe('REQUIRES_APPROVAL');

    const old = await cancelRun(t, first.run.id);
    expect(old).toMatchObject({ status: 'COMPLETED', stopReason: 'REQUIRES_APPROVAL' });
    const pending = await ok<{ agent: { pendingApproval: { toolCalls: Array<{ toolCallId: string }> } | null } }>(
      t,
      `query($id: ID!) { agent(id: $id) { pendingApproval { ... on ApprovalRequestMessage { toolCalls { toolCallId } } } } }`,
      { id: agentId },
    );
    expect(pending.agent.pendingApproval?.toolCalls[0]?.toolCallId).toBe('call_new');

    // Cancelling the run that waits denies its call and frees the agent.
    expect(await cancelRun(t, second.run.id)).toMatchObject({ status: 'CANCELLED', stopReason: 'CANCELLED' });
    model.enqueue({ text: 'free again' });
    expect((await send(t, agentId, { input: 'hello' })).stopReason).toBe('END_TURN');
  });
});

describe('a fault after a committed step', () => {
  let model: ModelServer;
  let t: TestServer;
  beforeAll(async () => {
    ({ model, t } = await startWithScriptedModel());
  });
  afterAll(() => closeAll(t, model));

  it('keeps the first step (call, return, memory edit) when the second model call fails', async () => {
    const agentId = await createAgent(t);
    model.enqueue({ toolCalls: [{ name: 'memory_insert', arguments: { label: 'human', new_string: 'Has a cat.', insert_line: -1 } }] }, { status: 500 });
    const failed = await send(t, agentId, { input: 'I have a cat' });
    expect(failed.run).toMatchObject({ status: 'FAILED', stopReason: 'LLM_API_ERROR' });
    expect(failed.run.metadata?.error?.error_type).toBe('llm_error');
    expect(failed.run.steps).toHaveLength(1);
    expect(failed.messages.map((m) => m.messageType)).toEqual(['TOOL_CALL_MESSAGE', 'TOOL_RETURN_MESSAGE']);

    const state = await agentState(t, agentId);
    expect(state.lastStopReason).toBe('LLM_API_ERROR');
    expect(state.block?.value).toContain('Has a cat.');
    const ofRun = state.messages.nodes.filter((m) => m.runId === failed.run.id);
    expect(ofRun.map((m) => [m.messageType, m.isErr])).toEqual([
      ['USER_MESSAGE', false],
      ['TOOL_CALL_MESSAGE', false],
      ['TOOL_RETURN_MESSAGE', false],
    ]);
    expectConsistent(state.messages.nodes);
    const { promptIndex } = await expectRecovers(t, model, agentId);
    expect(model.requests[promptIndex]!.body.messages.map(messageText).join('\n')).toContain('I have a cat');
  });
});

// ---- 2. bad input ----

describe('bad input is refused before a run starts', () => {
  let model: ModelServer;
  let t: TestServer;
  let agentId: string;
  beforeAll(async () => {
    ({ model, t } = await startWithScriptedModel());
    agentId = await createAgent(t);
  });
  afterAll(() => closeAll(t, model));

  const cases: Array<[string, () => string, Record<string, unknown>, string, RegExp?]> = [
    ['empty input', () => agentId, {}, 'BAD_USER_INPUT'],
    ['an empty message list', () => agentId, { messages: [] }, 'BAD_USER_INPUT'],
    ['messages and input together', () => agentId, { messages: [{ content: 'a' }], input: 'b' }, 'BAD_USER_INPUT'],
    ['maxSteps 0', () => agentId, { input: 'hi', maxSteps: 0 }, 'BAD_USER_INPUT', /maxSteps/],
    ['an unknown agent id', () => UNKNOWN_AGENT, { input: 'hi' }, 'NOT_FOUND'],
    ['a malformed agent id', () => 'agent-nope', { input: 'hi' }, 'BAD_USER_INPUT', /agentId/],
  ];

  it.each(cases)('%s', async (_name, agent, input, code, message) => {
    for (const document of [SEND, SEND_ASYNC]) {
      const result = await t.request(document, { input: { agentId: agent(), ...input } } as never);
      const error = errorOf(result);
      expect(error.code).toBe(code);
      if (message) expect(error.message).toMatch(message);
    }
  });

  it('refuses an agent without a model, and one whose model names no configured provider', async () => {
    const noModel = await createAgent(t, { model: null });
    const refused = errorOf(await t.request(SEND, { input: { agentId: noModel, input: 'hi' } } as never));
    expect(refused.code).toBe('BAD_USER_INPUT');
    expect(refused.message).toMatch(/model/);

    const unknownProvider = await createAgent(t, { model: 'nope/x' });
    for (const document of [SEND, SEND_ASYNC]) {
      const error = errorOf(await t.request(document, { input: { agentId: unknownProvider, input: 'hi' } } as never));
      expect(error.code).toBe('BAD_USER_INPUT');
      expect(error.message).toContain('nope/x');
      expect(error.message).toMatch(/configured providers: test\b/);
    }
  });

  it('creates no run and calls no model for refused input', async () => {
    const runs = await ok<{ agent: { runs: { edges: unknown[] } } }>(t, `query ($id: ID!) { agent(id: $id) { runs(first: 10) { edges { cursor } } } }`, { id: agentId });
    expect(runs.agent.runs.edges).toEqual([]);
    expect(model.requests).toEqual([]);
    const state = await agentState(t, agentId);
    expect(state.messages.nodes.filter((m) => m.messageType === 'USER_MESSAGE' && m.runId)).toEqual([]);
    expect(state.lastStopReason).toBeNull();
  });
});

// ---- 3. cancellation ----

describe('cancellation', () => {
  let model: ModelServer;
  let t: TestServer;
  beforeAll(async () => {
    ({ model, t } = await startWithScriptedModel());
  });
  afterAll(() => closeAll(t, model));

  it('cancels mid-stream: the model request is aborted and no partial answer is stored', async () => {
    const agentId = await createAgent(t);
    const n = model.requests.length;
    model.enqueue({ text: 'x'.repeat(2000), chunkDelayMs: 30 });
    const queued = await sendAsync(t, agentId, { input: 'write a long essay' });
    expect(queued.background).toBe(true);
    expect(['CREATED', 'RUNNING']).toContain(queued.status);
    expect(queued.metadata?.run_type).toBe('send_message_async');

    await waitFor('the model request', () => model.requests.length, (count) => count > n);
    await sleep(150); // some text has streamed
    expect(model.requests[n]!.completed).toBe(false);

    const cancelled = await cancelRun(t, queued.id);
    expect(cancelled.status).toBe('CANCELLED');
    expect(cancelled.stopReason).toBe('CANCELLED');

    const settled = await runSettled(t, queued.id);
    expect(settled).toMatchObject({ status: 'CANCELLED', stopReason: 'CANCELLED' });
    expect(settled.steps).toEqual([]);
    // What the user sent is kept (docs/runs.md); nothing of the answer is.
    expect(settled.messages?.map((m) => m.messageType)).toEqual(['USER_MESSAGE']);
    await waitFor('the model request to be aborted', () => model.requests[n]!.aborted, Boolean);
    expect(model.requests[n]!.completed).toBe(false);

    const state = await agentState(t, agentId);
    expect(state.lastStopReason).toBe('CANCELLED');
    expect(state.messages.nodes.filter((m) => m.runId === queued.id).map((m) => m.content)).toEqual(['write a long essay']);
    expect(state.messages.nodes.filter((m) => m.messageType === 'ASSISTANT_MESSAGE')).toEqual([]);

    // Cancelling again is safe and changes nothing.
    const again = await cancelRun(t, queued.id);
    expect(again).toMatchObject({ id: queued.id, status: 'CANCELLED', stopReason: 'CANCELLED', completedAt: settled.completedAt });
    const agentWide = await ok<{ cancelAgentRuns: { runs: RunView[] } }>(t, CANCEL_AGENT_RUNS, { agentId });
    expect(agentWide.cancelAgentRuns.runs).toEqual([]);

    await expectRecovers(t, model, agentId);
  });

  it('a cancelled run ends within 2 s, while its model would stall for 20 s', async () => {
    // Bounded so that the 5 s heartbeat, which also stops cancelled runs, cannot pass for the
    // immediate abort of cancelRun.
    const agentId = await createAgent(t);
    const n = model.requests.length;
    model.enqueue({ text: 'too late', delayMs: 20_000 });
    const queued = await sendAsync(t, agentId, { input: 'take your time' });
    await waitFor('the model request', () => model.requests.length, (count) => count > n);
    const cancelledAt = Date.now();
    await cancelRun(t, queued.id);
    const settled = await waitFor(`run ${queued.id} to settle`, () => getRun(t, queued.id), (run) => run.totalDurationMs !== null, 10_000);
    const latency = Date.now() - cancelledAt;
    expect(settled).toMatchObject({ status: 'CANCELLED', stopReason: 'CANCELLED' });
    expect(model.requests[n]!.aborted).toBe(true);
    expect(latency, `cancelled after ${latency} ms`).toBeLessThan(2_000);
  });

  it('a waiting sendMessage whose run is cancelled returns the cancelled run, not an error', async () => {
    const agentId = await createAgent(t);
    const n = model.requests.length;
    model.enqueue({ hang: true });
    const pending = t.request(SEND, { input: { agentId, input: 'wait for me' } } as never) as Promise<GraphQLResult<{ sendMessage: SendResult }>>;
    await waitFor('the hanging model request', () => model.requests.length, (count) => count > n);
    const [active] = (await ok<{ runs: { edges: Array<{ node: { id: string } }> } }>(t, `query ($agentId: ID!) { runs(first: 5, filter: { agentId: $agentId, active: true }) { edges { node { id } } } }`, { agentId })).runs.edges;
    await cancelRun(t, active!.node.id);
    const result = await pending;
    expect(result.errors).toBeUndefined();
    expect(result.data?.sendMessage).toMatchObject({ stopReason: 'CANCELLED', run: { id: active!.node.id, status: 'CANCELLED', background: false }, messages: [] });
    await waitFor('the hanging request to be aborted', () => model.requests[n]!.aborted, Boolean);
    await expectRecovers(t, model, agentId);
  });

  it('cancels between steps: the committed step and its memory edit stay', async () => {
    const agentId = await createAgent(t);
    const n = model.requests.length;
    model.enqueue(
      { toolCalls: [{ name: 'memory_insert', arguments: { label: 'human', new_string: 'Likes green tea.', insert_line: -1 } }] },
      { text: 'noted, and more', delayMs: 5_000 }, // aborted by the cancel long before it answers
    );
    const queued = await sendAsync(t, agentId, { input: 'remember that I like green tea' });
    await waitFor('the first step', () => getRun(t, queued.id), (run) => run.steps.length >= 1);
    await waitFor('the second model request', () => model.requests.length, (count) => count >= n + 2);

    const cancelled = await cancelRun(t, queued.id);
    expect(cancelled.status).toBe('CANCELLED');
    const settled = await runSettled(t, queued.id);
    expect(settled).toMatchObject({ status: 'CANCELLED', stopReason: 'CANCELLED' });
    expect(settled.steps).toHaveLength(1);
    await waitFor('the second model request to be aborted', () => model.requests[n + 1]!.aborted, Boolean);

    const state = await agentState(t, agentId);
    expect(state.lastStopReason).toBe('CANCELLED');
    expect(state.block?.value).toContain('Likes green tea.');
    const ofRun = state.messages.nodes.filter((m) => m.runId === queued.id);
    expect(ofRun.map((m) => m.messageType)).toEqual(['USER_MESSAGE', 'TOOL_CALL_MESSAGE', 'TOOL_RETURN_MESSAGE']);
    expect(ofRun[0]).toMatchObject({ content: 'remember that I like green tea', isErr: false });
    expect(ofRun[2]).toMatchObject({ status: 'SUCCESS', toolCallId: ofRun[1]!.toolCall!.toolCallId });
    expectConsistent(state.messages.nodes);
    expect(settled.messages?.map((m) => m.messageType)).toEqual(['USER_MESSAGE', 'TOOL_CALL_MESSAGE', 'TOOL_RETURN_MESSAGE']);

    const { promptIndex } = await expectRecovers(t, model, agentId);
    expect(messageText(model.requests[promptIndex]!.body.messages[0])).toContain('Likes green tea.');
  });

  it('cancelAgentRuns without ids cancels every active run of the agent', async () => {
    const agentId = await createAgent(t);
    const n = model.requests.length;
    model.enqueue({ hang: true });
    const runs: RunView[] = [];
    for (const input of ['one', 'two', 'three']) runs.push(await sendAsync(t, agentId, { input }));
    await waitFor('the hanging model request', () => model.requests.length, (count) => count > n);

    const { cancelAgentRuns } = await ok<{ cancelAgentRuns: { runs: RunView[] } }>(t, CANCEL_AGENT_RUNS, { agentId });
    expect(cancelAgentRuns.runs.map((run) => run.id).sort()).toEqual(runs.map((run) => run.id).sort());
    for (const run of cancelAgentRuns.runs) expect(run).toMatchObject({ status: 'CANCELLED', stopReason: 'CANCELLED' });

    await runSettled(t, runs[0]!.id);
    await waitFor('the hanging request to be aborted', () => model.requests[n]!.aborted, Boolean);
    for (const run of runs) {
      const final = await getRun(t, run.id);
      expect(final).toMatchObject({ status: 'CANCELLED', stopReason: 'CANCELLED', steps: [] });
      expect(final.messages?.map((m) => m.messageType)).toEqual(['USER_MESSAGE']); // what the user sent is kept
      expect(final.completedAt).not.toBeNull();
    }
    const active = await ok<{ runs: { edges: unknown[] } }>(t, `query ($agentId: ID!) { runs(first: 10, filter: { agentId: $agentId, active: true }) { edges { cursor } } }`, { agentId });
    expect(active.runs.edges).toEqual([]);
    await sleep(100);
    expect(model.requests.length).toBe(n + 1); // the two queued runs never reached the model

    await expectRecovers(t, model, agentId);
  });

  it('cancelAgentRuns refuses a run id of another agent or an unknown one', async () => {
    const agentId = await createAgent(t);
    const other = await createAgent(t);
    model.enqueue({ text: 'done' });
    const foreign = (await send(t, other, { input: 'hi' })).run;
    for (const runIds of [[foreign.id], [UNKNOWN_RUN]]) {
      const error = errorOf(await t.request(CANCEL_AGENT_RUNS, { agentId, runIds } as never));
      expect(error.code).toBe('NOT_FOUND');
    }
    expect(errorOf(await t.request(CANCEL_AGENT_RUNS, { agentId, runIds: ['run-nope'] } as never)).code).toBe('BAD_USER_INPUT');
    expect(errorOf(await t.request(CANCEL_RUN, { runId: UNKNOWN_RUN } as never)).code).toBe('NOT_FOUND');
    // The other agent's run is untouched.
    expect(await getRun(t, foreign.id)).toMatchObject({ status: 'COMPLETED', stopReason: 'END_TURN' });
  });

  it('a queued run that is cancelled never calls the model', async () => {
    const agentId = await createAgent(t);
    const n = model.requests.length;
    model.enqueue({ hang: true });
    const first = await sendAsync(t, agentId, { input: 'first' });
    const second = await sendAsync(t, agentId, { input: 'second, never sent' });
    await waitFor('the first model request', () => model.requests.length, (count) => count > n);
    expect((await getRun(t, second.id)).status).toBe('CREATED');

    const cancelled = await cancelRun(t, second.id);
    expect(cancelled).toMatchObject({ status: 'CANCELLED', stopReason: 'CANCELLED', startedAt: null });
    expect(cancelled.completedAt).not.toBeNull();
    expect((await getRun(t, first.id)).status).toBe('RUNNING'); // only the queued run was touched

    await cancelRun(t, first.id);
    await runSettled(t, first.id);
    await sleep(200); // the queue moves on to the cancelled run, which must not start
    expect(model.requests.length).toBe(n + 1);
    const final = await getRun(t, second.id);
    expect(final).toMatchObject({ status: 'CANCELLED', stopReason: 'CANCELLED', startedAt: null, steps: [] });

    // What the user sent is kept, in the history and the context (docs/runs.md).
    const state = await agentState(t, agentId);
    expect(state.messages.nodes.some((m) => m.content === 'second, never sent')).toBe(true);
    const { promptIndex } = await expectRecovers(t, model, agentId);
    expect(model.requests[promptIndex]!.body.messages.map(messageText).join('\n')).toContain('second, never sent');
  });
});
