import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClient as createSseClient } from 'graphql-sse';
import { SSE_PATH } from '../src/server.js';
import { closeAll, collect, eventually, startWithScriptedModel, type TestServer } from './helpers/server.js';
import type { ModelServer } from './model-server/server.js';

type Event = {
  __typename: string;
  seq: number;
  runId: string;
  kind?: string;
  delta?: string;
  toolName?: string | null;
  stopReason?: string;
  status?: string;
  code?: string;
  usage?: { totalTokens: number; stepCount: number };
  message?: { __typename: string; content?: string; toolCall?: { name: string } };
};

const RUN_EVENTS = /* GraphQL */ `
  subscription RunEvents($runId: ID!, $after: Int) {
    runEvents(runId: $runId, after: $after) {
      __typename seq runId
      ... on MessageDeltaEvent { kind delta toolName }
      ... on MessageEvent { message { __typename ... on AssistantMessage { content } ... on ToolCallMessage { toolCall { name } } } }
      ... on StopReasonEvent { stopReason status }
      ... on UsageEvent { usage { totalTokens stepCount } }
      ... on ErrorEvent { code }
    }
  }
`;

const CHAT = /* GraphQL */ `
  subscription Chat($agentId: ID!, $text: String!) {
    chat(input: { agentId: $agentId, input: $text }) {
      __typename seq runId
      ... on MessageDeltaEvent { kind delta }
      ... on StopReasonEvent { stopReason }
    }
  }
`;

const events = (state: { values: Array<{ runEvents?: Event; chat?: Event }> }) => state.values.map((value) => (value.runEvents ?? value.chat)!);
const text = (list: Event[], kind: string) => list.filter((event) => event.kind === kind).map((event) => event.delta).join('');

describe('run events', () => {
  let model: ModelServer;
  let t: TestServer;
  let agentId: string;

  beforeAll(async () => {
    ({ model, t } = await startWithScriptedModel({ RUN_EVENT_PING_MS: '200', RUN_EVENT_TTL_SECONDS: '2' }));
    const created = await t.request<{ createAgent: { agent: { id: string } } }, unknown>(
      `mutation { createAgent(input: { model: "test/scripted", memoryBlocks: [{ label: "human", value: "" }] }) { agent { id } } }`,
    );
    agentId = created.data!.createAgent.agent.id;
  });
  afterAll(() => closeAll(t, model));

  const startRun = async (input: string) => {
    const result = await t.request<{ sendMessageAsync: { run: { id: string } } }, { agentId: string; input: string }>(
      `mutation($agentId: ID!, $input: String!) { sendMessageAsync(input: { agentId: $agentId, input: $input }) { run { id } } }`,
      { agentId, input },
    );
    return result.data!.sendMessageAsync.run.id;
  };

  const streamWithPings = async (runId: string, after = 0) => {
    const state = collect<{ runEvents: Event }>(t.ws(), { query: RUN_EVENTS, variables: { runId, after } });
    await eventually(() => state.completed || state.errors.length > 0, undefined, 20_000);
    expect(state.errors).toEqual([]);
    return events(state);
  };
  // Pings are not stored events: one comes whenever the run is silent for RUN_EVENT_PING_MS.
  const stream = async (runId: string, after = 0) => (await streamWithPings(runId, after)).filter((event) => event.__typename !== 'PingEvent');

  it('subscribers of one run share executions only where the operation is the same, each getting its own answer', async () => {
    const reply = 'Shared streams still answer each subscriber as it asked.';
    model.enqueue({ text: reply, chunkDelayMs: 20 });
    const runId = await startRun('share');
    const narrow = `subscription($runId: ID!) { runEvents(runId: $runId) { seq ... on MessageDeltaEvent { delta } } }`;
    const client = t.ws();
    const same = [collect<{ runEvents: Event }>(client, { query: RUN_EVENTS, variables: { runId, after: 0 } }), collect<{ runEvents: Event }>(t.ws(), { query: RUN_EVENTS, variables: { runId, after: 0 } })];
    const later = collect<{ runEvents: Event }>(client, { query: RUN_EVENTS, variables: { runId, after: 2 } });
    const other = collect<{ runEvents: Event }>(client, { query: narrow, variables: { runId } });
    const all = [...same, later, other];
    await eventually(() => all.every((state) => state.completed), undefined, 20_000);
    for (const state of all) expect(state.errors).toEqual([]);
    const [first, second] = same.map((state) => events(state).filter((event) => event.__typename !== 'PingEvent'));
    expect(second).toEqual(first);
    expect(text(first!, 'ASSISTANT')).toBe(reply);
    expect(events(later).filter((event) => event.__typename !== 'PingEvent')).toEqual(first!.filter((event) => event.seq > 2));
    const narrowEvents = events(other).filter((event) => event.seq !== undefined && (event as { __typename?: string }).__typename !== 'PingEvent');
    expect(narrowEvents.every((event) => !('__typename' in event) && !('runId' in event))).toBe(true);
    expect(narrowEvents.map((event) => event.delta ?? '').join('')).toBe(reply);
  });

  it('streams tokens as they come, then the whole messages, the stop reason and usage, in seq order', async () => {
    const reply = 'Hello there, this reply streams token by token.';
    model.enqueue({ reasoning: 'Greet them.', text: reply, chunkDelayMs: 3, usage: { prompt_tokens: 10, completion_tokens: 12 } });
    const runId = await startRun('hi');
    const list = await stream(runId);
    expect(list.map((event) => event.seq)).toEqual(list.map((_, index) => index + 1));
    expect(list.every((event) => event.runId === runId)).toBe(true);
    expect(text(list, 'ASSISTANT')).toBe(reply);
    expect(text(list, 'REASONING')).toBe('Greet them.');
    // Tokens 3 ms apart were coalesced (15 ms window), not lost: fewer events than the model's
    // 4-character chunks, same text. (How many fewer depends on the machine's load.)
    expect(list.filter((event) => event.kind === 'ASSISTANT').length).toBeLessThan(Math.ceil(reply.length / 4));
    const lastDelta = list.findLastIndex((event) => event.__typename === 'MessageDeltaEvent');
    const message = list.findIndex((event) => event.__typename === 'MessageEvent' && event.message?.__typename === 'AssistantMessage');
    expect(message).toBeGreaterThan(lastDelta);
    expect(list[message]!.message?.content).toBe(reply);
    expect(list.at(-2)).toMatchObject({ __typename: 'StopReasonEvent', stopReason: 'END_TURN', status: 'COMPLETED' });
    expect(list.at(-1)).toMatchObject({ __typename: 'UsageEvent', usage: { totalTokens: 22, stepCount: 1 } });
  });

  it('resumes mid-run after a seq without gaps or duplicates, and replays a finished run', async () => {
    const reply = Array.from({ length: 100 }, (_, i) => `word${i}`).join(' ');
    model.enqueue({ text: reply, chunkDelayMs: 60, chunkSize: 6 });
    const runId = await startRun('count');
    const whole = collect<{ runEvents: Event }>(t.ws(), { query: RUN_EVENTS, variables: { runId, after: 0 } });
    const deltas = (state: typeof whole) => events(state).filter((event) => event.__typename === 'MessageDeltaEvent');
    // A client reads a few deltas, drops its connection, and resumes while the run still streams.
    const client = t.ws();
    const first = collect<{ runEvents: Event }>(client, { query: RUN_EVENTS, variables: { runId, after: 0 } });
    await eventually(() => deltas(first).length >= 3, undefined, 20_000);
    first.dispose();
    const seen = events(first).filter((event) => event.__typename !== 'PingEvent');
    const lastSeq = seen.at(-1)!.seq;
    expect(whole.completed).toBe(false); // still streaming
    const rest = collect<{ runEvents: Event }>(t.ws(), { query: RUN_EVENTS, variables: { runId, after: lastSeq } });
    await eventually(() => deltas(rest).length > 0, undefined, 20_000);
    expect(whole.completed).toBe(false); // it resumed while the run went on
    await eventually(() => (whole.completed && rest.completed) || whole.errors.length + rest.errors.length > 0, undefined, 30_000);
    expect([...whole.errors, ...rest.errors]).toEqual([]);
    const full = events(whole).filter((event) => event.__typename !== 'PingEvent');
    const resumed = events(rest).filter((event) => event.__typename !== 'PingEvent');
    expect([...seen, ...resumed]).toEqual(full);
    expect(text([...seen, ...resumed], 'ASSISTANT')).toBe(reply);
    expect(await stream(runId)).toEqual(full);
  });

  it('streams tool-call arguments and the tool messages of each step', async () => {
    model.enqueue(
      { toolCalls: [{ name: 'memory_insert', arguments: { label: 'human', new_string: 'Likes jazz.' } }], chunkDelayMs: 5 },
      { text: 'Noted.' },
    );
    const runId = await startRun('I like jazz');
    const list = await stream(runId);
    const args = list.filter((event) => event.kind === 'TOOL_CALL');
    expect(args.every((event) => event.toolName === 'memory_insert')).toBe(true);
    expect(JSON.parse(args.map((event) => event.delta).join(''))).toEqual({ label: 'human', new_string: 'Likes jazz.' });
    expect(list.filter((event) => event.__typename === 'MessageEvent').map((event) => event.message?.__typename)).toEqual([
      'ToolCallMessage',
      'ToolReturnMessage',
      'AssistantMessage',
    ]);
  });

  it('ends a failed run with an error event and its stop reason', async () => {
    model.enqueue({ status: 429 }, { status: 429 }, { status: 429 }); // the first attempt and LLM_MAX_RETRIES (2) retries
    const list = await stream(await startRun('fail please'));
    expect(list.find((event) => event.__typename === 'StopReasonEvent')).toMatchObject({ stopReason: 'LLM_API_ERROR', status: 'FAILED' });
    expect(list.at(-1)).toMatchObject({ __typename: 'ErrorEvent', code: 'LLM_RATE_LIMIT' });
  });

  it('pings while the run is silent', async () => {
    model.enqueue({ text: 'finally', delayMs: 700 });
    const list = await streamWithPings(await startRun('take a while'));
    const firstDelta = list.findIndex((event) => event.__typename === 'MessageDeltaEvent');
    expect(list.slice(0, firstDelta).filter((event) => event.__typename === 'PingEvent').length).toBeGreaterThanOrEqual(1);
  });

  it('replays from the database once the stored stream has expired', async () => {
    model.enqueue({ text: 'remember me' });
    const runId = await startRun('short-lived');
    const live = await stream(runId);
    await new Promise((resolve) => setTimeout(resolve, 2500)); // RUN_EVENT_TTL_SECONDS=2
    const replayed = await stream(runId);
    expect(replayed.filter((event) => event.__typename === 'MessageEvent')).toEqual(
      live.filter((event) => event.__typename === 'MessageEvent').map((event, index) => ({ ...event, seq: index + 1 })),
    );
    expect(replayed.at(-2)).toMatchObject({ __typename: 'StopReasonEvent', stopReason: 'END_TURN' });
  });

  it('starts and streams a run in one chat subscription', async () => {
    model.enqueue({ text: 'chatting along', chunkDelayMs: 10 });
    const state = collect<{ chat: Event }>(t.ws(), { query: CHAT, variables: { agentId, text: 'hello chat' } });
    await eventually(() => state.completed || state.errors.length > 0, undefined, 20_000);
    expect(state.errors).toEqual([]);
    const list = events(state);
    expect(text(list, 'ASSISTANT')).toBe('chatting along');
    expect(list.at(-1)?.__typename).toBe('UsageEvent');
  });

  it('refuses unknown, foreign and malformed run ids', async () => {
    const other = await t.newOrganization();
    const theirAgent = await t.request<{ createAgent: { agent: { id: string } } }, unknown>(
      `mutation { createAgent(input: { model: "test/scripted" }) { agent { id } } }`, undefined, { token: other.token },
    );
    model.enqueue({ text: 'theirs' });
    const theirRun = await t.request<{ sendMessage: { run: { id: string } } }, { id: string }>(
      `mutation($id: ID!) { sendMessage(input: { agentId: $id, input: "x" }) { run { id } } }`, { id: theirAgent.data!.createAgent.agent.id }, { token: other.token },
    );
    const mine = await t.newOrganization();
    const client = t.ws({ token: mine.token });
    for (const [runId, code] of [
      [theirRun.data!.sendMessage.run.id, 'NOT_FOUND'],
      ['run-00000000-0000-4000-8000-000000000000', 'NOT_FOUND'],
      ['run-1', 'BAD_USER_INPUT'],
    ] as const) {
      const state = collect(client, { query: RUN_EVENTS, variables: { runId } });
      await eventually(() => state.errors.length > 0 || state.completed);
      expect(JSON.stringify(state.errors), runId).toContain(code);
    }
  });

  it('streams over GraphQL over SSE as well', async () => {
    const { token } = await t.newOrganization();
    const own = await t.request<{ createAgent: { agent: { id: string } } }, unknown>(
      `mutation { createAgent(input: { model: "test/scripted" }) { agent { id } } }`, undefined, { token },
    );
    model.enqueue({ text: 'over sse', chunkDelayMs: 10 });
    const started = await t.request<{ sendMessageAsync: { run: { id: string } } }, { id: string }>(
      `mutation($id: ID!) { sendMessageAsync(input: { agentId: $id, input: "sse" }) { run { id } } }`, { id: own.data!.createAgent.agent.id }, { token },
    );
    const client = createSseClient({ url: new URL(SSE_PATH, t.url).toString(), headers: { authorization: `Bearer ${token}` }, retryAttempts: 0 });
    const received: Event[] = [];
    await new Promise<void>((resolve, reject) => {
      client.subscribe<{ runEvents: Event }>(
        { query: RUN_EVENTS, variables: { runId: started.data!.sendMessageAsync.run.id } },
        { next: (value) => void (value.data && received.push(value.data.runEvents)), error: reject, complete: resolve },
      );
    });
    client.dispose();
    expect(text(received, 'ASSISTANT')).toBe('over sse');
    expect(received.at(-1)?.__typename).toBe('UsageEvent');
  });
});
