import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { graphql } from '../src/generated/gql/index.js';
import { closeAll, startWithScriptedModel, type TestServer } from './helpers/server.js';
import type { ModelServer } from './model-server/server.js';

const NewAgent = graphql(`
  mutation NewSearchAgent($input: CreateAgentInput!) { createAgent(input: $input) { agent { id } } }
`);
const Send = graphql(`
  mutation SearchSend($input: SendMessageInput!) { sendMessage(input: $input) { stopReason } }
`);
const Search = graphql(`
  query SearchMessages($input: SearchMessagesInput!) {
    searchMessages(input: $input) {
      mode note
      results { messageId agentId role createdAt embeddedText ftsRank vectorRank rrfScore messages { __typename ... on UserMessage { content } ... on AssistantMessage { content } } }
    }
  }
`);
const Summarize = graphql(`
  mutation SearchSummarize($agentId: ID!) { summarizeConversation(input: { agentId: $agentId, mode: ALL }) { compacted } }
`);

const FACTS = [
  'My sister Lucia plants tomatoes in her garden every spring.',
  'The quarterly budget review is scheduled for Thursday afternoon.',
  'I adopted a grey cat named Pixel from the shelter.',
  'Our team deploys the billing service with blue-green releases.',
  'Remember that the wifi password is on the fridge.',
];

describe('searchMessages', () => {
  let model: ModelServer;
  let t: TestServer;
  let agentId: string;
  let other: string;
  beforeAll(async () => {
    ({ model, t } = await startWithScriptedModel());
    agentId = (await t.ok(NewAgent, { input: { model: 'test/scripted' } })).createAgent.agent.id;
    other = (await t.ok(NewAgent, { input: { model: 'test/scripted' } })).createAgent.agent.id;
    for (const fact of FACTS) await t.ok(Send, { input: { agentId, input: fact } });
    await t.ok(Send, { input: { agentId: other, input: 'Tomatoes need a lot of sun.' } });
  });
  afterAll(() => closeAll(t, model));

  const search = async (input: Record<string, unknown>) => (await t.ok(Search, { input })).searchMessages;

  it('finds words with full-text search (stemmed, ranked), across the organization or for one agent', async () => {
    const all = await search({ query: 'tomato', mode: 'FTS', roles: ['USER'] });
    expect(all.mode).toBe('FTS');
    expect(all.results.map((r) => r.embeddedText).sort()).toEqual(['My sister Lucia plants tomatoes in her garden every spring.', 'Tomatoes need a lot of sun.']);
    expect(all.results.map((r) => r.ftsRank)).toEqual([1, 2]);
    expect(all.results.every((r) => r.vectorRank === null)).toBe(true);
    expect(all.results.map((r) => r.rrfScore)).toEqual([1, 0.5]);
    const mine = await search({ query: 'tomato', mode: 'FTS', roles: ['USER'], agentId });
    expect(mine.results).toHaveLength(1);
    expect(mine.results[0]!.agentId).toBe(agentId);
    expect(mine.results[0]!.role).toBe('USER');
    expect(mine.results[0]!.messages).toEqual([{ __typename: 'UserMessage', content: FACTS[0] }]);
  });

  it('finds misspelt words and fragments by vector similarity, where full-text search finds nothing', async () => {
    expect((await search({ query: 'adoptd Pixl', mode: 'FTS', roles: ['USER'], agentId })).results).toEqual([]);
    const result = await search({ query: 'adoptd Pixl', mode: 'VECTOR', roles: ['USER'], agentId, limit: 3 });
    expect(result.mode).toBe('VECTOR');
    expect(result.results[0]!.embeddedText).toBe(FACTS[2]);
    expect(result.results.map((r) => r.vectorRank)).toEqual([1, 2, 3]);
    expect(result.results.every((r) => r.ftsRank === null)).toBe(true);
  });

  it('fuses both lists by reciprocal rank (k = 60, equal weights) in HYBRID mode', async () => {
    const result = await search({ query: 'deploying billing releases', roles: ['USER'], agentId, limit: 5 });
    expect(result.mode).toBe('HYBRID');
    const top = result.results[0]!;
    expect(top.embeddedText).toBe(FACTS[3]);
    expect(top.ftsRank).toBe(1);
    expect(top.vectorRank).toBe(1);
    for (const r of result.results) {
      const expected = (r.vectorRank ? 0.5 / (60 + r.vectorRank) : 0) + (r.ftsRank ? 0.5 / (60 + r.ftsRank) : 0);
      expect(r.rrfScore).toBeCloseTo(expected, 12);
    }
    const scores = result.results.map((r) => r.rrfScore);
    expect([...scores].sort((a, b) => b - a)).toEqual(scores);
  });

  it('lists the newest messages without a query, and filters by role and dates', async () => {
    const recent = await search({ agentId, roles: ['USER'], limit: 2 });
    expect(recent.mode).toBe('TIMESTAMP');
    expect(recent.results.map((r) => r.embeddedText)).toEqual([FACTS[4], FACTS[3]]);
    const assistant = await search({ agentId, roles: ['ASSISTANT'], query: 'tomatoes', mode: 'FTS' });
    expect(assistant.results.every((r) => r.role === 'ASSISTANT')).toBe(true);
    expect(assistant.results[0]!.embeddedText).toContain('tomatoes');
    const future = await search({ agentId, query: 'tomatoes', startDate: new Date(Date.now() + 86_400_000).toISOString() });
    expect(future.results).toEqual([]);
    // An end date at exactly midnight covers that whole day.
    const today = new Date();
    const midnight = new Date(Date.UTC(today.getUTCFullYear(), today.getUTCMonth(), today.getUTCDate())).toISOString();
    expect((await search({ agentId, query: 'tomatoes', mode: 'FTS', endDate: midnight })).results.length).toBeGreaterThan(0);
  });

  it('keeps evicted messages searchable', async () => {
    await t.ok(Summarize, { agentId });
    const result = await search({ query: 'wifi password', mode: 'FTS', roles: ['USER'], agentId });
    expect(result.results[0]!.embeddedText).toBe(FACTS[4]);
  });

  it('refuses bad input clearly', async () => {
    const cases: Array<[Record<string, unknown>, RegExp]> = [
      [{ query: 'x', limit: 101 }, /limit: must be at most 100/],
      [{ query: 'x', limit: 0 }, /limit: must be at least 1/],
      [{ query: 'x', startDate: '2026-02-01T00:00:00Z', endDate: '2026-01-01T00:00:00Z' }, /startDate: must not be after endDate/],
      [{ query: 'x', agentId: 'agent-nope' }, /agentId: malformed id/],
    ];
    for (const [input, message] of cases) {
      const result = await t.request(Search, { input });
      expect(result.errors?.[0]?.extensions?.code, JSON.stringify(input)).toBe('BAD_USER_INPUT');
      expect(result.errors?.[0]?.message).toMatch(message);
    }
    const mode = await t.request(Search, { input: { query: 'x', mode: 'SEMANTIC' } } as never);
    expect(mode.status).toBeLessThan(500);
    expect(mode.errors?.length).toBeGreaterThan(0);
  });

  // Last: a key now exists, so this server requires one from here on.
  it('stays inside the caller’s organization', async () => {
    const { token } = await t.newOrganization();
    const foreign = await t.request(Search, { input: { query: 'tomatoes' } }, { token });
    expect(foreign.data?.searchMessages.results).toEqual([]);
    const byAgent = await t.request(Search, { input: { query: 'tomatoes', agentId } }, { token });
    expect(byAgent.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
  });
});

describe('searchMessages without message embeddings (MESSAGE_EMBEDDINGS=off)', () => {
  let model: ModelServer;
  let t: TestServer;
  beforeAll(async () => {
    ({ model, t } = await startWithScriptedModel({ MESSAGE_EMBEDDINGS: 'off' }));
    const agentId = (await t.ok(NewAgent, { input: { model: 'test/scripted' } })).createAgent.agent.id;
    await t.ok(Send, { input: { agentId, input: 'The harbour opens at dawn.' } });
  });
  afterAll(() => closeAll(t, model));

  it('refuses VECTOR with a clear error and runs HYBRID as FTS with a note', async () => {
    const vector = await t.request(Search, { input: { query: 'harbour', mode: 'VECTOR' } });
    expect(vector.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    expect(vector.errors?.[0]?.message).toMatch(/MESSAGE_EMBEDDINGS=off/);
    const hybrid = (await t.ok(Search, { input: { query: 'harbour', roles: ['USER'] } })).searchMessages;
    expect(hybrid.mode).toBe('FTS');
    expect(hybrid.note).toMatch(/fell back to FTS/);
    expect(hybrid.results.map((r) => r.embeddedText)).toEqual(['The harbour opens at dawn.']);
  });
});
