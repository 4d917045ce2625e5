import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { graphql } from '../src/generated/gql/index.js';
import { SERVICES_MODE, startTestServer, type TestServer } from './helpers/server.js';

// Statements are counted per server: keep its background work (queue polls, heartbeats, file
// recovery, and claims woken by runs of other test servers on the shared Redis) out of the count.
const QUIET = {
  RUN_QUEUE_POLL_MS: '600000',
  RUN_HEARTBEAT_MS: '600000',
  FILE_PROCESSING_STALE_MS: '3600000',
  ...(SERVICES_MODE ? { RUN_WORKERS: '0' } : {}),
};

const Seed = graphql(`
  mutation Seed($input: CreateAgentInput) { createAgent(input: $input) { agent { id } } }
`);
const NestedAgents = graphql(`
  query NestedAgents {
    agents(first: 50) { edges { node { id blocks { label value } tools { name } } } }
  }
`);

/** Statements the server ran for one request: independent of page size means no N+1. */
async function statementsFor(t: TestServer) {
  const before = t.app.db.statementCount();
  const data = await t.ok(NestedAgents, {});
  return { statements: t.app.db.statementCount() - before, agents: data.agents.edges };
}

async function seed(t: TestServer, count: number) {
  for (let i = 0; i < count; i++) {
    await t.ok(Seed, {
      input: {
        name: `agent ${i}`,
        agentType: i % 2 ? 'memgpt_v2_agent' : 'letta_v1_agent',
        memoryBlocks: Array.from({ length: 5 }, (_, j) => ({ label: `block_${j}`, value: `value ${i}.${j}` })),
      },
    });
  }
}

describe('nested lists resolve without N+1', () => {
  let small: TestServer;
  let large: TestServer;
  beforeAll(async () => {
    [small, large] = await Promise.all([startTestServer(QUIET), startTestServer(QUIET)]);
    await Promise.all([seed(small, 5), seed(large, 50)]);
  });
  afterAll(async () => {
    await Promise.all([small?.close(), large?.close()]);
  });

  it('uses the same small number of SQL statements for 5 and for 50 agents', async () => {
    const five = await statementsFor(small);
    const fifty = await statementsFor(large);
    expect(five.agents).toHaveLength(5);
    expect(fifty.agents).toHaveLength(50);
    expect(fifty.agents.every((edge) => edge.node.blocks.length === 5 && edge.node.tools.length >= 3)).toBe(true);
    expect(fifty.agents[0]!.node.blocks[0]).toEqual({ label: 'block_0', value: expect.stringMatching(/^value \d+\.0$/) });
    expect(fifty.statements).toBe(five.statements);
    expect(fifty.statements).toBeLessThanOrEqual(4);
  });
});
