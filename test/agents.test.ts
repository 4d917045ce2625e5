import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { graphql } from '../src/generated/gql/index.js';
import { startTestServer, type TestServer } from './helpers/server.js';

const CreateAgent = graphql(`
  mutation CreateAgent($input: CreateAgentInput!) {
    createAgent(input: $input) {
      agent { id name description system agentType tags metadata model embedding timezone createdAt updatedAt }
    }
  }
`);

const UpdateAgent = graphql(`
  mutation UpdateAgent($input: UpdateAgentInput!) {
    updateAgent(input: $input) {
      agent { id name description system tags metadata model timezone updatedAt }
    }
  }
`);

const DeleteAgent = graphql(`
  mutation DeleteAgent($id: ID!) {
    deleteAgent(input: { id: $id }) { deletedAgentId }
  }
`);

const GetAgent = graphql(`
  query GetAgent($id: ID!) {
    agent(id: $id) { id name description tags metadata }
  }
`);

const ListAgents = graphql(`
  query ListAgents($first: Int, $after: String, $last: Int, $before: String, $filter: AgentFilter, $orderBy: AgentOrder) {
    agents(first: $first, after: $after, last: $last, before: $before, filter: $filter, orderBy: $orderBy) {
      totalCount
      edges { cursor node { id name } }
      pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
    }
  }
`);

const CountAgents = graphql(`
  query CountAgents($filter: AgentFilter) { agentCount(filter: $filter) }
`);

const NodeLookup = graphql(`
  query NodeLookup($id: ID!, $ids: [ID!]!) {
    node(id: $id) { id __typename ... on Agent { name } }
    nodes(ids: $ids) { id }
  }
`);

describe('agents', () => {
  let t: TestServer;
  beforeAll(async () => {
    t = await startTestServer();
  });
  afterAll(async () => {
    await t?.close();
  });

  it('creates an agent with defaults Letta uses', async () => {
    const { createAgent } = await t.ok(CreateAgent, { input: {} });
    const agent = createAgent.agent;
    expect(agent.id).toMatch(/^agent-[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(agent.name).toMatch(/^[A-Z][a-z]+[A-Z][a-z]+$/);
    expect(agent.agentType).toBe('LETTA_V1_AGENT');
    expect(agent.timezone).toBe('UTC');
    expect(agent.tags).toEqual([]);
    expect(agent.system).toContain('{CORE_MEMORY}');
    expect(agent.model).toBeNull();
  });

  it('creates, reads, partially updates and deletes an agent', async () => {
    const { createAgent } = await t.ok(CreateAgent, {
      input: {
        name: "Ada's helper",
        description: 'helps Ada',
        system: 'You are Ada.',
        agentType: 'MEMGPT_V2_AGENT',
        tags: ['math', 'math', 'history'],
        metadata: { team: 'blue', level: 3 },
        model: 'openai/gpt-4o-mini',
        embedding: 'local/hash-ngram',
        timezone: 'Europe/Paris',
      },
    });
    const created = createAgent.agent;
    expect(created).toMatchObject({
      name: "Ada's helper",
      description: 'helps Ada',
      system: 'You are Ada.',
      agentType: 'MEMGPT_V2_AGENT',
      tags: ['math', 'history'],
      metadata: { team: 'blue', level: 3 },
      model: 'openai/gpt-4o-mini',
      embedding: 'local/hash-ngram',
      timezone: 'Europe/Paris',
    });

    const { agent } = await t.ok(GetAgent, { id: created.id });
    expect(agent).toEqual({ id: created.id, name: "Ada's helper", description: 'helps Ada', tags: ['math', 'history'], metadata: { team: 'blue', level: 3 } });

    // Omitted fields are kept; null clears a nullable field.
    const { updateAgent } = await t.ok(UpdateAgent, { input: { id: created.id, name: 'Ada 2', description: null } });
    expect(updateAgent.agent).toMatchObject({ name: 'Ada 2', description: null, system: 'You are Ada.', tags: ['math', 'history'], timezone: 'Europe/Paris' });
    expect(new Date(updateAgent.agent.updatedAt).getTime()).toBeGreaterThanOrEqual(new Date(created.updatedAt).getTime());

    const { updateAgent: again } = await t.ok(UpdateAgent, { input: { id: created.id, metadata: null, tags: [] } });
    expect(again.agent).toMatchObject({ metadata: null, tags: [], name: 'Ada 2' });

    const { deleteAgent } = await t.ok(DeleteAgent, { id: created.id });
    expect(deleteAgent.deletedAgentId).toBe(created.id);
    const gone = await t.request(GetAgent, { id: created.id });
    expect(gone.data?.agent).toBeNull();
    expect(gone.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
  });

  it('dispatches node and nodes on the id prefix', async () => {
    const { createAgent } = await t.ok(CreateAgent, { input: { name: 'Noded' } });
    const id = createAgent.agent.id;
    const unknown = 'agent-00000000-0000-4000-8000-000000000000';
    const data = await t.ok(NodeLookup, { id, ids: [id, unknown] });
    expect(data.node).toEqual({ id, __typename: 'Agent', name: 'Noded' });
    expect(data.nodes).toEqual([{ id }, null]);
    // Ids of kinds that are no nodes, and of unknown kinds, are null too (not Pothos's "Expected ref to resolve…").
    const others = ['message', 'org', 'apikey', 'widget'].map((prefix) => `${prefix}-00000000-0000-4000-8000-000000000000`);
    for (const other of others) {
      const result = await t.request(NodeLookup, { id: other, ids: [other, id] });
      expect(result.errors, other).toBeUndefined();
      expect(result.data, other).toEqual({ node: null, nodes: [null, { id }] });
    }
  });
});

describe('agent lists', () => {
  let t: TestServer;
  const ids: string[] = []; // in creation order: oldest first
  beforeAll(async () => {
    t = await startTestServer();
    const specs = [
      { name: 'alpha', tags: ['red'], description: 'first of all' },
      { name: 'bravo', tags: ['red', 'blue'] },
      { name: 'charlie', tags: ['blue'] },
      { name: 'delta', tags: ['red', 'blue', 'green'], description: 'Has a SECRET word' },
      { name: 'echo', tags: [] },
    ];
    for (const input of specs) {
      const { createAgent } = await t.ok(CreateAgent, { input });
      ids.push(createAgent.agent.id);
      await new Promise((resolve) => setTimeout(resolve, 5)); // distinct createdAt values
    }
  });
  afterAll(async () => {
    await t?.close();
  });

  const names = (connection: { edges: Array<{ node: { name: string } }> }) => connection.edges.map((edge) => edge.node.name);

  it('lists newest first by default with totalCount and cursors relative to the sort order', async () => {
    const first = await t.ok(ListAgents, { first: 2 });
    expect(names(first.agents)).toEqual(['echo', 'delta']);
    expect(first.agents.totalCount).toBe(5);
    expect(first.agents.pageInfo).toMatchObject({ hasNextPage: true, hasPreviousPage: false, startCursor: ids[4], endCursor: ids[3] });

    // after the newest (descending) yields older agents
    const second = await t.ok(ListAgents, { first: 2, after: first.agents.pageInfo.endCursor });
    expect(names(second.agents)).toEqual(['charlie', 'bravo']);
    const third = await t.ok(ListAgents, { first: 2, after: second.agents.pageInfo.endCursor });
    expect(names(third.agents)).toEqual(['alpha']);
    expect(third.agents.pageInfo.hasNextPage).toBe(false);

    // before the oldest (descending) yields newer agents, the closest ones with last
    const back = await t.ok(ListAgents, { last: 2, before: ids[0] });
    expect(names(back.agents)).toEqual(['charlie', 'bravo']);
    expect(back.agents.pageInfo.hasPreviousPage).toBe(true);
  });

  it('sorts ascending and by update time', async () => {
    const asc = await t.ok(ListAgents, { first: 3, orderBy: { field: 'CREATED_AT', direction: 'ASC' } });
    expect(names(asc.agents)).toEqual(['alpha', 'bravo', 'charlie']);
    const afterBravo = await t.ok(ListAgents, { first: 10, after: ids[1], orderBy: { direction: 'ASC' } });
    expect(names(afterBravo.agents)).toEqual(['charlie', 'delta', 'echo']);

    await t.ok(UpdateAgent, { input: { id: ids[0]!, description: 'touched' } });
    const byUpdate = await t.ok(ListAgents, { first: 1, orderBy: { field: 'UPDATED_AT', direction: 'DESC' } });
    expect(names(byUpdate.agents)).toEqual(['alpha']);
  });

  it('sorts by last run completion with never-run agents last, in both directions', async () => {
    const base = Date.UTC(2026, 0, 1);
    await t.app.db.prisma.agent.update({ where: { id: ids[1] }, data: { lastRunCompletion: new Date(base + 2000) } });
    await t.app.db.prisma.agent.update({ where: { id: ids[2] }, data: { lastRunCompletion: new Date(base + 1000) } });
    const desc = await t.ok(ListAgents, { first: 10, orderBy: { field: 'LAST_RUN_COMPLETION', direction: 'DESC' } });
    expect(names(desc.agents).slice(0, 2)).toEqual(['bravo', 'charlie']);
    expect(names(desc.agents).slice(2).sort()).toEqual(['alpha', 'delta', 'echo']);
    const asc = await t.ok(ListAgents, { first: 10, orderBy: { field: 'LAST_RUN_COMPLETION', direction: 'ASC' } });
    expect(names(asc.agents).slice(0, 2)).toEqual(['charlie', 'bravo']);

    // Paging through the nulls and back again crosses the null boundary without loss or repeats.
    const seen: string[] = [];
    let after: string | null | undefined;
    for (;;) {
      const page = await t.ok(ListAgents, { first: 2, after, orderBy: { field: 'LAST_RUN_COMPLETION', direction: 'DESC' } });
      seen.push(...names(page.agents));
      if (!page.agents.pageInfo.hasNextPage) break;
      after = page.agents.pageInfo.endCursor;
    }
    expect(seen).toEqual(names(desc.agents));
    const lastId = desc.agents.edges.at(-1)!.node;
    const backwards = await t.ok(ListAgents, { last: 10, before: desc.agents.edges.at(-1)!.cursor, orderBy: { field: 'LAST_RUN_COMPLETION', direction: 'DESC' } });
    expect(names(backwards.agents)).toEqual(names(desc.agents).filter((name) => name !== lastId.name));
  });

  it('filters by name, tags (any or all) and search text, and counts the same way', async () => {
    const byName = await t.ok(ListAgents, { filter: { name: 'charlie' } });
    expect(names(byName.agents)).toEqual(['charlie']);

    const anyTag = await t.ok(ListAgents, { filter: { tags: ['red', 'green'] } });
    expect(names(anyTag.agents).sort()).toEqual(['alpha', 'bravo', 'delta']);
    const allTags = await t.ok(ListAgents, { filter: { tags: ['red', 'blue'], tagMatchMode: 'ALL' } });
    expect(names(allTags.agents).sort()).toEqual(['bravo', 'delta']);
    expect(allTags.agents.totalCount).toBe(2);

    const search = await t.ok(ListAgents, { filter: { search: 'secret' } });
    expect(names(search.agents)).toEqual(['delta']);
    const searchName = await t.ok(ListAgents, { filter: { search: 'HARL' } });
    expect(names(searchName.agents)).toEqual(['charlie']);

    expect((await t.ok(CountAgents, {})).agentCount).toBe(5);
    expect((await t.ok(CountAgents, { filter: { tags: ['blue'] } })).agentCount).toBe(3);
  });

  it('says that a cursor is gone instead of restarting at the first page, and rejects a malformed one', async () => {
    const gone = 'agent-00000000-0000-4000-8000-000000000000';
    for (const args of [{ first: 2, after: gone }, { last: 2, before: gone }]) {
      const page = await t.request(ListAgents, args);
      expect(page.data?.agents ?? null).toBeNull();
      expect(page.errors?.[0]?.extensions).toMatchObject({ code: 'NOT_FOUND', path: 'after' in args ? 'after' : 'before' });
    }
    // The case that matters: the last agent of a page is deleted before the next page is asked.
    const { createAgent } = await t.ok(CreateAgent, { input: { name: 'fleeting' } });
    const first = await t.ok(ListAgents, { first: 1 });
    expect(first.agents.pageInfo.endCursor).toBe(createAgent.agent.id);
    await t.ok(DeleteAgent, { id: createAgent.agent.id });
    const next = await t.request(ListAgents, { first: 2, after: first.agents.pageInfo.endCursor });
    expect(next.errors?.[0]?.extensions).toMatchObject({ code: 'NOT_FOUND', path: 'after' });
    const bad = await t.request(ListAgents, { first: 2, after: 'not-a-cursor' });
    expect(bad.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT' });
    expect(bad.errors?.[0]?.message).toContain('after');
  });

  it('refuses page sizes out of range', async () => {
    for (const variables of [{ first: -1 }, { first: 100000 }, { first: 1, last: 1 }]) {
      const result = await t.request(ListAgents, variables);
      expect(result.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    }
  });
});
