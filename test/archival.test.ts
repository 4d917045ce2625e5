import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { graphql } from '../src/generated/gql/index.js';
import { closeAll, startWithScriptedModel, type TestServer } from './helpers/server.js';
import { EMBEDDING_DIMENSIONS, type ModelServer } from './model-server/server.js';

const NewArchivalAgent = graphql(`
  mutation NewArchivalAgent($input: CreateAgentInput!) { createAgent(input: $input) { agent { id } } }
`);
const AddPassage = graphql(`
  mutation AddPassage($input: CreatePassageInput!) {
    createPassage(input: $input) { passage { id text tags createdAt embedding embeddingDim fileId } }
  }
`);
const RemovePassage = graphql(`
  mutation RemovePassage($id: ID!) { deletePassage(input: { id: $id }) { deletedPassageId } }
`);
const ListPassages = graphql(`
  query ListPassages($id: ID!, $first: Int, $after: String, $search: String, $orderBy: PassageOrder) {
    agent(id: $id) {
      passages(first: $first, after: $after, search: $search, orderBy: $orderBy) {
        edges { cursor node { id text } }
        pageInfo { hasNextPage endCursor }
      }
    }
  }
`);
const SearchArchival = graphql(`
  query SearchArchival($id: ID!, $query: String!, $tags: [String!], $mode: TagMatchMode, $topK: Int, $start: DateTime, $end: DateTime) {
    agent(id: $id) {
      archivalSearch(query: $query, tags: $tags, tagMatchMode: $mode, topK: $topK, startDatetime: $start, endDatetime: $end) {
        id content tags timestamp score
      }
    }
  }
`);
const ArchivalPrompt = graphql(`
  query ArchivalPrompt($id: ID!) { agent(id: $id) { systemPrompt } }
`);
const SendArchival = graphql(`
  mutation SendArchival($input: SendMessageInput!) {
    sendMessage(input: $input) {
      stopReason
      messages { __typename ... on ToolReturnMessage { toolReturn status } }
    }
  }
`);

const codeOf = (result: { errors?: Array<{ extensions?: Record<string, unknown> }> }) => result.errors?.[0]?.extensions?.code;

describe('archival memory', () => {
  let model: ModelServer;
  let t: TestServer;
  beforeAll(async () => {
    ({ model, t } = await startWithScriptedModel({ AUTH_MODE: 'disabled' }));
  });
  afterAll(() => closeAll(t, model));

  const newAgent = async (input: Record<string, unknown> = {}) =>
    (await t.ok(NewArchivalAgent, { input: { model: 'test/scripted', ...input } })).createAgent.agent.id;
  const add = async (agentId: string, text: string, extra: Record<string, unknown> = {}) =>
    (await t.ok(AddPassage, { input: { agentId, text, ...extra } })).createPassage.passage;

  it('stores passages embedded by the local default, lists them chronologically and deletes them', async () => {
    const agentId = await newAgent();
    const first = await add(agentId, 'The user adopted a cat named Miso.', { tags: ['pets', 'pets'], createdAt: '2024-01-01T10:00:00Z' });
    expect(first).toMatchObject({ tags: ['pets'], embedding: 'local/hashed-ngram', embeddingDim: 384, fileId: null });
    const second = await add(agentId, 'The user works as a nurse.', { createdAt: '2024-02-01T10:00:00Z' });
    const third = await add(agentId, 'Miso the cat likes tuna.', { createdAt: '2024-03-01T10:00:00Z' });

    const all = await t.ok(ListPassages, { id: agentId });
    expect(all.agent!.passages.edges.map((edge) => edge.node.id)).toEqual([first.id, second.id, third.id]);
    const page = await t.ok(ListPassages, { id: agentId, first: 1, after: first.id });
    expect(page.agent!.passages.edges.map((edge) => edge.node.id)).toEqual([second.id]);
    expect(page.agent!.passages.pageInfo.hasNextPage).toBe(true);
    // Descending keeps chronological cursors: after = later, newest first.
    const newestAfterFirst = await t.ok(ListPassages, { id: agentId, after: first.id, orderBy: { direction: 'DESC' } });
    expect(newestAfterFirst.agent!.passages.edges.map((edge) => edge.node.id)).toEqual([third.id, second.id]);
    const searched = await t.ok(ListPassages, { id: agentId, search: '  MISO ' });
    expect(searched.agent!.passages.edges.map((edge) => edge.node.id)).toEqual([first.id, third.id]);

    const prompt = await t.ok(ArchivalPrompt, { id: agentId });
    expect(prompt.agent!.systemPrompt).toContain('- 3 total memories you created are stored in archival memory');

    expect((await t.ok(RemovePassage, { id: second.id })).deletePassage.deletedPassageId).toBe(second.id);
    const after = await t.ok(ListPassages, { id: agentId });
    expect(after.agent!.passages.edges.map((edge) => edge.node.id)).toEqual([first.id, third.id]);
    expect(codeOf(await t.request(RemovePassage, { id: second.id }))).toBe('NOT_FOUND');
    expect(codeOf(await t.request(ListPassages, { id: agentId, after: second.id }))).toBe('NOT_FOUND');
  });

  it('ranks by meaning with scores, and filters by tags and dates inside the query', async () => {
    const agentId = await newAgent();
    for (let i = 0; i < 8; i++) await add(agentId, `Cats purr and chase mice in the garden, note ${i}.`, { createdAt: `2024-05-0${i + 1}T12:00:00Z` });
    await add(agentId, 'Quarterly budget planning for the marketing team.', { tags: ['finance'], createdAt: '2024-06-01T12:00:00Z' });
    await add(agentId, 'The cat food budget doubled this year.', { tags: ['finance', 'pets'], createdAt: '2024-06-02T12:00:00Z' });
    await add(agentId, 'A stray cat slept on the porch.', { tags: ['pets'], createdAt: '2024-06-03T12:00:00Z' });

    const ranked = (await t.ok(SearchArchival, { id: agentId, query: 'cats chasing mice in a garden', topK: 3 })).agent!.archivalSearch;
    expect(ranked).toHaveLength(3);
    expect(ranked.every((hit) => hit.content.startsWith('Cats purr'))).toBe(true);
    expect(ranked[0]!.score).toBeGreaterThanOrEqual(ranked[1]!.score);
    expect(ranked[0]!.score).toBeGreaterThan(0.5);
    expect(ranked[0]!.timestamp).toMatch(/^2024-05-0\dT12:00:00\+00:00$/);

    // Letta filters tags after the limit and may return fewer; here the filter is part of the query.
    const anyTag = (await t.ok(SearchArchival, { id: agentId, query: 'cats chasing mice in a garden', tags: ['pets', 'finance'], topK: 3 })).agent!.archivalSearch;
    expect(anyTag).toHaveLength(3);
    expect(anyTag.every((hit) => hit.tags.some((tag) => ['pets', 'finance'].includes(tag)))).toBe(true);
    const allTags = (await t.ok(SearchArchival, { id: agentId, query: 'cat', tags: ['pets', 'finance'], mode: 'ALL', topK: 5 })).agent!.archivalSearch;
    expect(allTags.map((hit) => hit.content)).toEqual(['The cat food budget doubled this year.']);

    const inMay = (await t.ok(SearchArchival, { id: agentId, query: 'cat budget', start: '2024-05-03T00:00:00Z', end: '2024-05-04T23:59:59Z', topK: 10 })).agent!.archivalSearch;
    expect(inMay.map((hit) => hit.content).sort()).toEqual(['Cats purr and chase mice in the garden, note 2.', 'Cats purr and chase mice in the garden, note 3.']);
  });

  it('answers bad input with typed errors and an empty query with no results', async () => {
    const agentId = await newAgent();
    await add(agentId, 'something to find');
    for (const query of ['', '   \n\t']) {
      expect((await t.ok(SearchArchival, { id: agentId, query })).agent!.archivalSearch).toEqual([]);
    }
    const backwards = await t.request(SearchArchival, { id: agentId, query: 'x', start: '2024-06-02T00:00:00Z', end: '2024-06-01T00:00:00Z' });
    expect(codeOf(backwards)).toBe('BAD_USER_INPUT');
    expect(backwards.errors![0]!.message).toMatch(/startDatetime.*after endDatetime/);
    expect(codeOf(await t.request(SearchArchival, { id: agentId, query: 'x', start: 'yesterday' }))).toBe('BAD_USER_INPUT');
    expect(codeOf(await t.request(SearchArchival, { id: agentId, query: 'x', topK: 0 }))).toBe('BAD_USER_INPUT');

    const empty = await t.request(AddPassage, { input: { agentId, text: '   ' } });
    expect(codeOf(empty)).toBe('BAD_USER_INPUT');
    expect(empty.errors![0]!.message).toContain('input.text');
    expect(codeOf(await t.request(AddPassage, { input: { agentId: 'agent-42', text: 'x' } }))).toBe('BAD_USER_INPUT');
    expect(codeOf(await t.request(AddPassage, { input: { agentId: 'agent-00000000-0000-4000-8000-000000000000', text: 'x' } }))).toBe('NOT_FOUND');
    expect(codeOf(await t.request(RemovePassage, { id: 'passage-nope' }))).toBe('BAD_USER_INPUT');

    // Another organization neither sees nor touches the passages.
    const other = await t.newOrganization();
    expect(codeOf(await t.request(AddPassage, { input: { agentId, text: 'intrusion' } }, { token: other.token }))).toBe('NOT_FOUND');
    const list = await t.ok(ListPassages, { id: agentId });
    expect(codeOf(await t.request(RemovePassage, { id: list.agent!.passages.edges[0]!.node.id }, { token: other.token }))).toBe('NOT_FOUND');
  });

  it('embeds through an OpenAI-compatible endpoint named by the agent, and a failing endpoint stores nothing', async () => {
    const agentId = await newAgent({ embedding: 'test/scripted-embedder' });
    const passage = await add(agentId, 'alpha beta gamma');
    expect(passage).toMatchObject({ embedding: 'test/scripted-embedder', embeddingDim: EMBEDDING_DIMENSIONS });
    expect(model.embeddingRequests.at(-1)).toEqual(['alpha beta gamma']);
    await add(agentId, 'delta epsilon');
    const hits = (await t.ok(SearchArchival, { id: agentId, query: 'gamma alpha' })).agent!.archivalSearch;
    expect(hits[0]!.content).toBe('alpha beta gamma');

    const failed = await t.request(AddPassage, { input: { agentId, text: 'FAIL_EMBEDDING here' } });
    expect(codeOf(failed)).toBe('LLM_ERROR');
    expect((await t.ok(ListPassages, { id: agentId })).agent!.passages.edges).toHaveLength(2);

    const unknown = await newAgent({ embedding: 'nowhere/model' });
    const refused = await t.request(AddPassage, { input: { agentId: unknown, text: 'x' } });
    expect(codeOf(refused)).toBe('BAD_USER_INPUT');
    expect(refused.errors![0]!.message).toContain('nowhere/model');
  });

  it('gives the agent archival_memory_insert and archival_memory_search over the same store', async () => {
    const agentId = await newAgent({ tools: ['archival_memory_insert', 'archival_memory_search'] });
    model.enqueue(
      { toolCalls: [{ name: 'archival_memory_insert', arguments: { content: 'The user plans a trip to Kyoto in April.', tags: ['travel'] } }] },
      { toolCalls: [{ name: 'archival_memory_search', arguments: { query: 'trip to Kyoto', tags: ['travel'], top_k: 3 } }] },
      { toolCalls: [{ name: 'archival_memory_search', arguments: { query: 'trip', start_datetime: '2030-01-02', end_datetime: '2030-01-01' } }] },
      { toolCalls: [{ name: 'archival_memory_search', arguments: { query: '   ' } }] },
      { toolCalls: [{ name: 'archival_memory_search', arguments: { query: 'trip', top_k: 'three' } }] },
      { text: 'Done.' },
    );
    const { sendMessage } = await t.ok(SendArchival, { input: { agentId, input: 'remember my trip' } });
    expect(sendMessage.stopReason).toBe('END_TURN');
    const returns = sendMessage.messages.filter((message) => message.__typename === 'ToolReturnMessage') as Array<{ toolReturn: string; status: string }>;
    expect(returns.map((ret) => ret.status)).toEqual(['SUCCESS', 'SUCCESS', 'ERROR', 'SUCCESS', 'ERROR']);
    expect(returns[0]!.toolReturn).toBe('None');
    const found = JSON.parse(returns[1]!.toolReturn) as Array<{ content: string; tags: string[]; timestamp: string }>;
    expect(found).toEqual([expect.objectContaining({ content: 'The user plans a trip to Kyoto in April.', tags: ['travel'] })]);
    expect(returns[2]!.toolReturn).toMatch(/start_datetime.*after end_datetime/);
    expect(returns[3]!.toolReturn).toBe('[]');
    expect(returns[4]!.toolReturn).toMatch(/^Invalid arguments for archival_memory_search: top_k: /);

    const list = await t.ok(ListPassages, { id: agentId });
    expect(list.agent!.passages.edges.map((edge) => edge.node.text)).toEqual(['The user plans a trip to Kyoto in April.']);
    // The insert rebuilt the prompt: the model's next request saw the archival count.
    const lastSystem = (model.requests.at(-1)!.body as { messages: Array<{ role: string; content: unknown }> }).messages[0]!;
    expect(JSON.stringify(lastSystem.content)).toContain('1 total memories you created are stored in archival memory');

    // A failing embedding provider (a typed LLM_ERROR in the API) is a tool error for the model.
    const failing = await newAgent({ embedding: 'test/scripted-embedder', tools: ['archival_memory_insert'] });
    model.enqueue({ toolCalls: [{ name: 'archival_memory_insert', arguments: { content: 'FAIL_EMBEDDING now' } }] }, { text: 'Noted.' });
    const failed = (await t.ok(SendArchival, { input: { agentId: failing, input: 'remember this' } })).sendMessage;
    const failedReturn = failed.messages.find((message) => message.__typename === 'ToolReturnMessage') as { toolReturn: string; status: string };
    expect(failedReturn.status).toBe('ERROR');
    expect(failedReturn.toolReturn).toContain("Error: Embedding with 'test/scripted-embedder' failed");
  });
});
