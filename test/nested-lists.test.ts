import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closeAll, startTestServer, type TestServer } from './helpers/server.js';

/**
 * Nested lists of records (Agent.blocks ↔ Block.agents) through GraphQL HTTP: Agent.blocks loads
 * in its agent's statement, Block.agents for all the blocks of a level at once (a shared block
 * once), and a large answer is completed in paced batches (src/schema/pacing.ts). Whatever the
 * loading, the answer must be exactly what the data says: each agent's first blocks in
 * attachment order, each block's first agents, oldest attachment first, at every depth.
 */

interface Seeded {
  names: string[]; // agents, oldest first
  blocksOf: Map<string, string[]>; // agent name → its block labels, in attachment order
}

/** The query with `takes[k]` as the page of the k-th nested list (alternately blocks and agents). */
function deepQuery(agents: number, takes: number[], agentType = true): string {
  const agentFields = agentType ? 'name agentType' : 'name';
  const level = (k: number): string => {
    if (k === takes.length) return '';
    return k % 2 === 0 ? ` blocks(first: ${takes[k]}) { label${level(k + 1)} }` : ` agents(first: ${takes[k]}) { ${agentFields}${level(k + 1)} }`;
  };
  return `{ agents(first: ${agents}, orderBy: { direction: ASC }) { edges { node { ${agentFields}${level(0)} } } } }`;
}

/** What deepQuery must answer, from the seeded data alone. */
function expected(seeded: Seeded, agents: number, takes: number[], agentType = true) {
  const agentsOf = (label: string) => seeded.names.filter((name) => seeded.blocksOf.get(name)!.includes(label));
  const agentAt = (name: string, k: number): Record<string, unknown> => ({
    name,
    ...(agentType ? { agentType: 'LETTA_V1_AGENT' } : {}),
    ...(k < takes.length ? { blocks: seeded.blocksOf.get(name)!.slice(0, takes[k]).map((label) => blockAt(label, k + 1)) } : {}),
  });
  const blockAt = (label: string, k: number): Record<string, unknown> => ({
    label,
    ...(k < takes.length ? { agents: agentsOf(label).slice(0, takes[k]).map((name) => agentAt(name, k + 1)) } : {}),
  });
  return { agents: { edges: seeded.names.slice(0, agents).map((name) => ({ node: agentAt(name, 0) })) } };
}

async function seed(t: TestServer, blockCount: number, agentCount: number, labelsOf: (agent: number) => number[]): Promise<Seeded> {
  const blockIds: string[] = [];
  for (let j = 0; j < blockCount; j++) {
    const created = await t.request<{ createBlock: { block: { id: string } } }, unknown>(`mutation($l: String!) { createBlock(input: { label: $l, value: "v" }) { block { id } } }`, { l: `b${j}` });
    blockIds.push(created.data!.createBlock.block.id);
  }
  const seeded: Seeded = { names: [], blocksOf: new Map() };
  for (let i = 0; i < agentCount; i++) {
    const labels = labelsOf(i);
    const name = `agent_${String(i).padStart(3, '0')}`;
    const created = await t.request(`mutation($n: String!, $ids: [ID!]) { createAgent(input: { name: $n, blockIds: $ids, includeBaseTools: false, agentType: LETTA_V1_AGENT }) { agent { id } } }`, {
      n: name,
      ids: labels.map((j) => blockIds[j]),
    } as never);
    expect(created.errors).toBeUndefined();
    seeded.names.push(name);
    seeded.blocksOf.set(name, labels.map((j) => `b${j}`));
  }
  return seeded;
}

describe('nested lists of blocks and agents', () => {
  let t: TestServer;
  let overlapping: Seeded;

  beforeAll(async () => {
    t = await startTestServer();
    // 4 blocks, 12 agents; agent i shows the blocks j with (i + j) % 3 ≠ 0, so every block has
    // its own set of agents and every agent its own set of blocks.
    overlapping = await seed(t, 4, 12, (i) => [0, 1, 2, 3].filter((j) => (i + j) % 3 !== 0));
  }, 120_000);
  afterAll(() => closeAll(t));

  it('answers a deep query over shared blocks exactly, each level in a few statements', async () => {
    const takes = [2, 3, 3, 5];
    const before = t.app.db.statementCount();
    const result = await t.request(deepQuery(12, takes));
    const statements = t.app.db.statementCount() - before;
    expect(result.errors).toBeUndefined();
    expect(result.data).toEqual(expected(overlapping, 12, takes));
    // The page of agents, then about one statement per nested level (a level paced over several
    // turns may take a few; the request's key check and background work count too): not one per
    // parent (24 blocks, 72 agents, 144 blocks at the levels).
    expect(statements).toBeLessThan(12);
  });

  it('gives each parent its own page, whatever page its list asked for elsewhere', async () => {
    const takes = [1, 12, 3, 1, 2];
    const result = await t.request(deepQuery(5, takes));
    expect(result.errors).toBeUndefined();
    expect(result.data).toEqual(expected(overlapping, 5, takes));
  });
});

describe('the largest nested query the cost limit admits', () => {
  let t: TestServer;
  let shared: Seeded;

  beforeAll(async () => {
    t = await startTestServer();
    shared = await seed(t, 5, 40, () => [0, 1, 2, 3, 4]); // the issue's 40 agents sharing 5 blocks
  }, 180_000);
  afterAll(() => closeAll(t));

  it('answers exactly, completed in paced batches (14,768 records)', async () => {
    const takes = [8, 8, 8, 8];
    const result = await t.request(deepQuery(8, takes, false));
    expect(result.errors).toBeUndefined();
    expect(result.data).toEqual(expected(shared, 8, takes, false));
    expect(JSON.stringify(result.data).match(/"name"|"label"/g)).toHaveLength(8 + 40 + 320 + 1600 + 12_800);
  });
});

describe('a level of more parents than one statement loads', () => {
  let t: TestServer;
  const BLOCKS = 300; // over the 256 parents per statement of src/schema/batch.ts
  const labels = Array.from({ length: BLOCKS }, (_, j) => `b${String(j).padStart(3, '0')}`);
  const agentsOfBlock = (j: number) => ['all', ...(j % 2 === 0 ? ['even'] : []), ...(j % 3 === 0 ? ['third'] : [])];

  beforeAll(async () => {
    t = await startTestServer();
    const ids: string[] = [];
    for (let from = 0; from < BLOCKS; from += 25) {
      const batch = labels.slice(from, from + 25);
      const created = await t.request<Record<string, { block: { id: string } }>, unknown>(
        `mutation { ${batch.map((label, k) => `b${k}: createBlock(input: { label: "${label}", value: "v" }) { block { id } }`).join(' ')} }`,
      );
      expect(created.errors).toBeUndefined();
      ids.push(...batch.map((_, k) => created.data![`b${k}`]!.block.id));
    }
    for (const [name, keep] of [['all', () => true], ['even', (j: number) => j % 2 === 0], ['third', (j: number) => j % 3 === 0]] as const) {
      const created = await t.request(`mutation($n: String!, $ids: [ID!]) { createAgent(input: { name: $n, blockIds: $ids, includeBaseTools: false }) { agent { id } } }`, {
        n: name,
        ids: ids.filter((_, j) => keep(j)),
      } as never);
      expect(created.errors).toBeUndefined();
    }
  }, 180_000);
  afterAll(() => closeAll(t));

  it('gives each of 300 blocks its own agents, in attachment order, across statements', async () => {
    const before = t.app.db.statementCount();
    const result = await t.request<{ blocks: { edges: Array<{ node: { label: string; agents: Array<{ name: string }> } }> } }, unknown>(
      `{ blocks(first: ${BLOCKS}) { edges { node { label agents(first: 3) { name } } } } }`,
    );
    expect(result.errors).toBeUndefined();
    // Blocks created in the same millisecond tie on the page's order, so compare block by block.
    const answered = result.data!.blocks.edges.map(({ node }) => [node.label, node.agents.map((agent) => agent.name)]).sort(([a], [b]) => String(a).localeCompare(String(b)));
    expect(answered).toEqual(labels.map((label, j) => [label, agentsOfBlock(j)]));
    // The page of blocks, then the 300 blocks' agents in statements of at most 256 parents (two;
    // background work may add one): not one per block.
    expect(t.app.db.statementCount() - before).toBeLessThan(8);
  });
});
