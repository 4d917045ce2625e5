import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closeAll, startTestServer, type TestServer } from './helpers/server.js';

/**
 * The agent list loads its agents' blocks and tools in statements of its own
 * (src/services/agents/list-relations.ts), while `agent(id:)` loads them inside the agent's
 * statement (Prisma's relation join). Both must answer the same for every field of the blocks,
 * the tools and the tool links (JSON, lists, dates, nulls), the same attachment order and the
 * same page of each nested list.
 */

const AGENT_FIELDS = `
  id name
  blocks(first: 3) { id label value limit description readOnly metadata tags charsCurrent createdAt updatedAt }
  tools(first: 2) { id name description toolType builtIn jsonSchema parameters tags returnCharLimit defaultRequiresApproval createdAt updatedAt }
`;
const LINK_FIELDS = `id attachedTools { requiresApproval attachedAt tool { name description } }`;

describe('the agent list and agent(id:) answer the same nested blocks and tools', () => {
  let t: TestServer;
  const agentIds: string[] = [];

  beforeAll(async () => {
    t = await startTestServer();
    const toolIds: string[] = [];
    for (let i = 0; i < 4; i++) {
      const created = await t.request<{ createTool: { tool: { id: string } } }, unknown>(
        'mutation ($input: CreateToolInput!) { createTool(input: $input) { tool { id } } }',
        { input: { name: `list_tool_${i}`, description: `tool ${i}`, tags: i % 2 ? [`t${i}`] : [], parameters: { type: 'object', properties: { n: { type: 'integer' } } } } },
      );
      expect(created.errors).toBeUndefined();
      toolIds.push(created.data!.createTool.tool.id);
    }
    for (let i = 0; i < 4; i++) {
      const created = await t.request<{ createAgent: { agent: { id: string } } }, unknown>(
        'mutation ($input: CreateAgentInput!) { createAgent(input: $input) { agent { id } } }',
        {
          input: {
            name: `list_agent_${i}`,
            includeBaseTools: false,
            // Each agent its own tools, in its own order, and 2 + i blocks (some past the page of 3).
            toolIds: [...toolIds.slice(i), ...toolIds.slice(0, i)].slice(0, 1 + i),
            memoryBlocks: Array.from({ length: 2 + i }, (_, j) => ({
              label: `z_block_${4 - j}`,
              value: `agent ${i} block ${j} "quoted" ✓`,
              limit: 1000 + j,
              description: j % 2 ? null : `block ${j}`,
              readOnly: j === 1,
              metadata: j === 0 ? { nested: { list: [1, 2, { deep: true }] } } : null,
              tags: j === 2 ? ['a', 'b'] : [],
            })),
          },
        },
      );
      expect(created.errors).toBeUndefined();
      agentIds.push(created.data!.createAgent.agent.id);
    }
    const approval = await t.request('mutation { setToolApproval(input: { agentId: "' + agentIds[3] + '", toolName: "list_tool_0", requiresApproval: true }) { requiresApproval } }');
    expect(approval.errors).toBeUndefined();
  }, 120_000);
  afterAll(() => closeAll(t));

  async function compare(fields: string) {
    const list = await t.request<{ agents: { edges: Array<{ node: { id: string } }> } }, unknown>(`{ agents(first: 10, orderBy: { direction: ASC }) { edges { node { ${fields} } } } }`);
    expect(list.errors).toBeUndefined();
    const listed = list.data!.agents.edges.map((edge) => edge.node);
    expect(listed.map((node) => node.id)).toEqual(agentIds);
    for (const node of listed) {
      const one = await t.request<{ agent: unknown }, unknown>(`query ($id: ID!) { agent(id: $id) { ${fields} } }`, { id: node.id } as never);
      expect(one.errors).toBeUndefined();
      expect(node).toEqual(one.data!.agent);
    }
    return listed;
  }

  it('blocks and tools with every field, each list paged per agent', async () => {
    const listed = (await compare(AGENT_FIELDS)) as unknown as Array<{ blocks: Array<{ label: string }>; tools: unknown[] }>;
    expect(listed.map((node) => node.blocks.length)).toEqual([2, 3, 3, 3]);
    expect(listed.map((node) => node.tools.length)).toEqual([1, 2, 2, 2]);
  });

  it('tool links with their approval and attachment time', async () => {
    const listed = (await compare(LINK_FIELDS)) as unknown as Array<{ attachedTools: Array<{ requiresApproval: boolean }> }>;
    expect(listed[3]!.attachedTools.some((link) => link.requiresApproval)).toBe(true);
  });
});
