import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closeAll, collect, eventually, startTestServer, type GraphQLResult, type TestServer } from './helpers/server.js';

/**
 * Isolation (issue 13): no query may exhaust the instance. An operation's cost grows with the list
 * sizes it asks for (nested lists, variables, aliases) and one over MAX_QUERY_COST is refused
 * before it runs, on every transport; a query has a deadline; a result has a size ceiling.
 */

const NESTED = '{ agents(first: 500) { edges { node { id blocks { id agents { id blocks { id agents { id } } } } } } } }';

const errorOf = (result: GraphQLResult<unknown>) => result.errors?.[0] as { message: string; extensions?: Record<string, unknown> } | undefined;

describe('query cost', () => {
  let t: TestServer;
  let agentIds: string[];

  beforeAll(async () => {
    t = await startTestServer();
    const blockIds: string[] = [];
    for (let i = 0; i < 5; i++) {
      const created = await t.request<{ createBlock: { block: { id: string } } }, unknown>(
        `mutation($label: String!) { createBlock(input: { label: $label, value: "shared" }) { block { id } } }`,
        { label: `shared_${i}` },
      );
      blockIds.push(created.data!.createBlock.block.id);
    }
    agentIds = [];
    for (let batch = 0; batch < 2; batch++) {
      const aliases = Array.from({ length: 20 }, (_, i) => `a${i}: createAgent(input: { blockIds: $ids, includeBaseTools: false }) { agent { id } }`);
      const created = await t.request<Record<string, { agent: { id: string } }>, unknown>(`mutation($ids: [ID!]) { ${aliases.join(' ')} }`, { ids: blockIds });
      expect(created.errors).toBeUndefined();
      agentIds.push(...Object.values(created.data!).map((payload) => payload.agent.id));
    }
  }, 180_000);
  afterAll(() => closeAll(t));

  it("refuses the issue's nested query at once, naming its cost and the limit, and keeps serving", async () => {
    const started = Date.now();
    const result = await t.request(NESTED);
    const elapsed = Date.now() - started;
    expect(result.data ?? null).toBeNull();
    const error = errorOf(result)!;
    expect(error.extensions).toMatchObject({ code: 'QUERY_TOO_COSTLY', limit: 50_000 });
    expect(error.extensions!.cost as number).toBeGreaterThan(50_000);
    expect(error.message).toContain(`costs ${error.extensions!.cost as number}`);
    expect(error.message).toContain('limit of 50000');
    expect(elapsed).toBeLessThan(2_000); // the target; it ran the process out of heap before
    const after = await t.request<{ agents: { totalCount: number } }, unknown>('{ agents { totalCount } }');
    expect(after.data?.agents.totalCount).toBe(40);
  });

  it('answers the same shape when it asks for little', async () => {
    const small = `{ agents(first: 2) { edges { node { id blocks(first: 2) { id agents(first: 3) { id } } } } } }`;
    const result = await t.request<{ agents: { edges: Array<{ node: { blocks: Array<{ agents: unknown[] }> } }> } }, unknown>(small);
    expect(result.errors).toBeUndefined();
    expect(result.data!.agents.edges).toHaveLength(2);
    for (const edge of result.data!.agents.edges) {
      expect(edge.node.blocks).toHaveLength(2);
      for (const block of edge.node.blocks) expect(block.agents).toHaveLength(3);
    }
  });

  it('counts page sizes given as variables, for each request of the same document', async () => {
    const query = `query($n: Int, $m: Int) { agents(first: $n) { edges { node { id blocks(first: $m) { id agents(first: $m) { id } } } } } }`;
    const costly = { n: 500, m: 100 };
    const cheap = { n: 5, m: 5 };
    // Both orders: a verdict cached with the document must not leak to the other variables.
    for (const variables of [costly, cheap, costly, cheap]) {
      const result = await t.request(query, variables as never);
      if (variables === costly) expect(errorOf(result)?.extensions?.code).toBe('QUERY_TOO_COSTLY');
      else expect(result.errors).toBeUndefined();
    }
  });

  it('counts every alias', async () => {
    const one = (i: number) => `a${i}: agents(first: 100) { edges { node { id blocks(first: 100) { id } } } }`;
    const few = await t.request(`{ ${[0, 1, 2].map(one).join(' ')} }`);
    expect(few.errors).toBeUndefined();
    const many = await t.request(`{ ${[0, 1, 2, 3, 4, 5, 6, 7, 8, 9].map(one).join(' ')} }`);
    expect(errorOf(many)?.extensions?.code).toBe('QUERY_TOO_COSTLY');
  });

  it('refuses 30 aliases of exportAgent', async () => {
    const query = `query($id: ID!) { ${Array.from({ length: 30 }, (_, i) => `e${i}: exportAgent(id: $id)`).join(' ')} }`;
    const result = await t.request(query, { id: agentIds[0] } as never);
    expect(errorOf(result)?.extensions?.code).toBe('QUERY_TOO_COSTLY');
  });

  it('refuses a costly query over graphql-ws on its own id and keeps the socket open', async () => {
    const client = t.ws();
    const refused = collect(client, { query: NESTED });
    await eventually(() => refused.errors.length > 0 || refused.completed);
    expect(JSON.stringify(refused.errors)).toContain('QUERY_TOO_COSTLY');
    const fine = collect<{ agents: { totalCount: number } }>(client, { query: '{ agents { totalCount } }' });
    await eventually(() => fine.completed || fine.errors.length > 0);
    expect(fine.errors).toEqual([]);
    expect(fine.values[0]?.agents.totalCount).toBe(40);
  });
});

describe('limits set low', () => {
  let t: TestServer;
  let provider: http.Server;
  let agentId: string;

  beforeAll(async () => {
    // A model provider whose model list never comes: `models` waits on it.
    provider = http.createServer(() => {});
    await new Promise<void>((resolve) => provider.listen(0, '127.0.0.1', resolve));
    const port = (provider.address() as AddressInfo).port;
    t = await startTestServer({
      MAX_QUERY_COST: '150',
      QUERY_TIMEOUT_MS: '300',
      MAX_RESPONSE_BYTES: '4096',
      PROVIDER_QUERY_TIMEOUT_MS: '20000',
      LLM_PROVIDERS: JSON.stringify([{ name: 'stuck', baseUrl: `http://127.0.0.1:${port}/v1` }]),
    });
    const created = await t.request<{ createAgent: { agent: { id: string } } }, unknown>(
      `mutation { createAgent(input: { memoryBlocks: [{ label: "human", value: "${'x'.repeat(5000)}" }] }) { agent { id } } }`,
    );
    agentId = created.data!.createAgent.agent.id;
  });
  afterAll(async () => {
    await closeAll(t);
    provider.closeAllConnections();
    await new Promise((resolve) => provider.close(resolve));
  });

  it('a subscription over the cost limit gets the error on its own id; the socket stays open', async () => {
    const client = t.ws();
    const query = `subscription($id: ID!) { agentEvents(agentId: $id) { type agent { blocks { id label } } } }`;
    const refused = collect(client, { query, variables: { id: agentId } });
    await eventually(() => refused.errors.length > 0 || refused.completed);
    expect(JSON.stringify(refused.errors)).toContain('QUERY_TOO_COSTLY');
    expect(JSON.stringify(refused.errors)).toContain('limit of 150');
    // The same connection still serves a cheap subscription.
    const cheap = collect<{ agentEvents: { type: string } }>(client, { query: `subscription($id: ID!) { agentEvents(agentId: $id) { type } }`, variables: { id: agentId } });
    await eventually(
      () => cheap.values.length > 0 || cheap.errors.length > 0,
      () => t.request(`mutation($id: ID!) { updateAgent(input: { id: $id, description: "poke" }) { agent { id } } }`, { id: agentId } as never),
    );
    expect(cheap.errors).toEqual([]);
    expect(cheap.values[0]?.agentEvents.type).toBe('AGENT_UPDATED');
  });

  it('ends a query that runs past QUERY_TIMEOUT_MS with QUERY_TIMEOUT', async () => {
    const started = Date.now();
    const result = await t.request('{ models { handle } }');
    const elapsed = Date.now() - started;
    expect(errorOf(result)?.extensions).toMatchObject({ code: 'QUERY_TIMEOUT', timeoutMs: 300 });
    expect(elapsed).toBeLessThan(5_000); // the provider would have held it 20 s
    expect((await t.request('{ agents { totalCount } }')).errors).toBeUndefined();
  });

  it('replaces a result over MAX_RESPONSE_BYTES with RESPONSE_TOO_LARGE', async () => {
    const small = await t.request(`query($id: ID!) { agent(id: $id) { id name } }`, { id: agentId } as never);
    expect(small.errors).toBeUndefined();
    const result = await t.request(`query($id: ID!) { agent(id: $id) { id block(label: "human") { value } } }`, { id: agentId } as never);
    expect(result.data ?? null).toBeNull();
    expect(errorOf(result)?.extensions).toMatchObject({ code: 'RESPONSE_TOO_LARGE', limit: 4096 });
  });
});
