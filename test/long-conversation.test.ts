import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { graphql } from '../src/generated/gql/index.js';
import { overviewOfRequest } from '../src/agent/context-window.js';
import { tokenizerFor } from '../src/agent/tokenizer.js';
import { closeAll, collect, eventually, startWithScriptedModel, type TestServer } from './helpers/server.js';
import { lastUserText, messageText, systemText, type ModelServer } from './model-server/server.js';

const NewAgent = graphql(`
  mutation NewLongAgent($input: CreateAgentInput!) { createAgent(input: $input) { agent { id } } }
`);
const Send = graphql(`
  mutation LongSend($input: SendMessageInput!) {
    sendMessage(input: $input) {
      stopReason
      run { id status }
      messages { __typename ... on AssistantMessage { content } ... on ToolReturnMessage { toolReturn status } ... on ToolCallMessage { toolCall { name arguments } } }
    }
  }
`);
const Window = graphql(`
  query LongWindow($id: ID!) { agent(id: $id) { contextWindow { contextWindowSizeMax contextWindowSizeCurrent numMessages numRecallMemory summaryMemory } } }
`);
const RUN_EVENTS = `subscription LongRunEvents($runId: ID!) {
  runEvents(runId: $runId) {
    __typename seq
    ... on CompactionEvent { trigger mode contextWindow contextTokensBefore messagesCountBefore }
    ... on MessageEvent { message { __typename ... on SummaryMessage { summary } } }
    ... on StopReasonEvent { stopReason }
  }
}`;

const LIMIT = 2000;
const SUMMARY = 'The user made small talk about walks in several cities and the weather.';
const CITIES = ['Lisbon', 'Oslo', 'Quito', 'Hanoi', 'Accra', 'Perth', 'Tallinn', 'Cusco', 'Osaka', 'Dakar'];
const WEATHER = ['sunny', 'rainy', 'windy', 'foggy', 'snowy'];
const say = (i: number) =>
  i === 3 ? 'Please remember this: my locker code is 7391.' : i === 300 ? 'What was my locker code?' : `Message ${i}: today I walked around ${CITIES[i % 10]} and it was ${WEATHER[i % 5]}.`;

describe('a 300-message conversation in a small context window', () => {
  let model: ModelServer;
  let t: TestServer;
  beforeAll(async () => {
    ({ model, t } = await startWithScriptedModel(
      {},
      {
        brain: (request) => {
          if (systemText(request).startsWith('You summarise')) return { text: SUMMARY };
          const last = request.messages.at(-1);
          if (last?.role === 'tool') return { text: `Here is what I found: ${messageText(last)}` };
          const text = lastUserText(request);
          if (text.includes('locker code?')) return { toolCalls: [{ name: 'conversation_search', arguments: { query: 'locker code' } }] };
          return { text: `Noted: ${text}` };
        },
      },
    ));
  });
  afterAll(() => closeAll(t, model));

  it('never overflows, compacts as it goes, and still finds message 3 at message 300', async () => {
    const agentId = (
      await t.ok(NewAgent, {
        input: {
          model: 'test/gpt-4o-mini',
          system: 'You are a helpful assistant. Use conversation_search to recall anything that is no longer in view.',
          includeBaseTools: false,
          tools: ['conversation_search'],
          contextWindowLimit: LIMIT,
        },
      })
    ).createAgent.agent.id;
    const tokenizer = await tokenizerFor('test/gpt-4o-mini');
    const isSummary = (request: { body: Parameters<typeof systemText>[0] }) => systemText(request.body).startsWith('You summarise');
    let compactedRun: string | null = null;
    let last: unknown = null;
    for (let i = 1; i <= 300; i++) {
      const summariesBefore = model.requests.filter(isSummary).length;
      const sent = (await t.ok(Send, { input: { agentId, input: say(i) } })).sendMessage;
      expect(sent.stopReason, `message ${i}`).toBe('END_TURN');
      last = sent;
      compactedRun ??= model.requests.filter(isSummary).length > summariesBefore ? sent.run.id : null;
      // Every request the model received is measured below; the overview itself every 10 messages.
      if (i % 10 !== 0) continue;
      const window = (await t.ok(Window, { id: agentId })).agent!.contextWindow;
      expect(window.contextWindowSizeCurrent, `context after message ${i}`).toBeLessThanOrEqual(window.contextWindowSizeMax);
    }
    // Every request the model received fitted the window.
    for (const request of model.requests) {
      if (isSummary(request)) continue;
      const size = overviewOfRequest(request.body as never, tokenizer, { contextWindow: LIMIT, numArchivalMemory: 0, numRecallMemory: 0 }).contextWindowSizeCurrent;
      expect(size).toBeLessThanOrEqual(LIMIT);
    }
    const summaries = model.requests.filter(isSummary);
    expect(summaries.length).toBeGreaterThan(3);

    // Message 300: the fact is long gone from the context, and conversation_search brings it back.
    const final = last as { messages: Array<{ __typename: string; toolReturn?: string; content?: string; toolCall?: { name: string } }> };
    const window = (await t.ok(Window, { id: agentId })).agent!.contextWindow;
    expect(window.summaryMemory).toContain(SUMMARY);
    expect(window.numRecallMemory).toBeGreaterThan(600);
    const search = final.messages.find((message) => message.__typename === 'ToolReturnMessage');
    expect(final.messages.find((message) => message.__typename === 'ToolCallMessage')?.toolCall?.name).toBe('conversation_search');
    expect(search?.toolReturn).toContain('my locker code is 7391');
    const context = async () => JSON.stringify((await t.request(`query($id: ID!) { agent(id: $id) { contextWindow { messages } } }`, { id: agentId })).data).slice(0, 2000);
    expect(window.summaryMemory, window.summaryMemory ? '' : `no summary first in context: ${await context()}`).toContain(SUMMARY);
    const asked = model.requests.find((request) => lastUserText(request.body) === say(300) && request.body.messages.at(-1)?.role === 'user');
    expect(JSON.stringify(asked!.body.messages)).not.toContain('7391');

    // The compaction showed on its run's event stream: an event before, the summary after.
    expect(compactedRun).not.toBeNull();
    const events = collect<{ runEvents: { __typename: string; trigger?: string; message?: { __typename: string; summary?: string } } }>(t.ws(), {
      query: RUN_EVENTS,
      variables: { runId: compactedRun },
    });
    await eventually(() => events.completed);
    const kinds = events.values.map((value) => value.runEvents);
    const at = kinds.findIndex((event) => event.__typename === 'CompactionEvent');
    expect(at).toBeGreaterThanOrEqual(0);
    expect(kinds[at]!.trigger).toBe('POST_STEP_CONTEXT_CHECK');
    const summary = kinds.slice(at + 1).find((event) => event.message?.__typename === 'SummaryMessage');
    expect(summary?.message?.summary).toContain(SUMMARY);
  }, 300_000);
});
