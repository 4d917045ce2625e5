import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { graphql } from '../src/generated/gql/index.js';
import { SERVICES_MODE, startTestServer, type TestServer } from './helpers/server.js';
import { uploadFile } from './helpers/upload.js';

// Statements are counted per server: keep its background work (queue polls, heartbeats, file
// recovery, and claims woken by runs of other test servers on the shared Redis) out of the count.
const QUIET = {
  RUN_QUEUE_POLL_MS: '600000',
  RUN_HEARTBEAT_MS: '600000',
  FILE_PROCESSING_STALE_MS: '3600000',
  ...(SERVICES_MODE ? { RUN_WORKERS: '0' } : {}),
};

const Seed = graphql(`
  mutation Seed($input: CreateAgentInput!) { createAgent(input: $input) { agent { id } } }
`);
const NestedAgents = graphql(`
  query NestedAgents {
    agents(first: 50) { edges { node { id blocks { label value } tools { name } } } }
  }
`);

const NpFolder = graphql(`
  mutation NpFolder($input: CreateFolderInput!) { createFolder(input: $input) { folder { id } } }
`);
const NpAttach = graphql(`
  mutation NpAttach($agentId: ID!, $folderId: ID!) { attachFolder(input: { agentId: $agentId, folderId: $folderId }) { changed } }
`);
const AgentsWithFiles = graphql(`
  query AgentsWithFiles {
    agents(first: 50) {
      edges { node { id files(first: 10) { edges { node { fileName isOpen file { id processingStatus } folder { name } } } pageInfo { hasNextPage } } } }
    }
  }
`);
const FoldersWithFiles = graphql(`
  query FoldersWithFiles {
    folders(first: 50) {
      edges { node { id name agents { name } files(first: 10) { edges { node { fileName processingStatus folder { name } } } pageInfo { hasNextPage } } } }
    }
  }
`);

/** Statements the server ran for one request: independent of page size means no N+1. */
async function statementsFor(t: TestServer) {
  const before = t.app.db.statementCount();
  const data = await t.ok(NestedAgents, {});
  return { statements: t.app.db.statementCount() - before, agents: data.agents.edges };
}

async function counted<T>(t: TestServer, run: () => Promise<T>): Promise<{ statements: number; data: T }> {
  const before = t.app.db.statementCount();
  const data = await run();
  return { statements: t.app.db.statementCount() - before, data };
}

async function seed(t: TestServer, count: number, withFiles = false) {
  for (let i = 0; i < count; i++) {
    const agent = await t.ok(Seed, {
      input: {
        name: `agent ${i}`,
        agentType: i % 2 ? 'MEMGPT_V2_AGENT' : 'LETTA_V1_AGENT',
        memoryBlocks: Array.from({ length: 5 }, (_, j) => ({ label: `block_${j}`, value: `value ${i}.${j}` })),
      },
    });
    if (!withFiles) continue;
    // Each agent has a folder of two files attached.
    const folder = (await t.ok(NpFolder, { input: { name: `folder ${i}` } })).createFolder.folder;
    for (const name of ['a.txt', 'b.md']) await uploadFile(t, folder.id, name, `file ${name} of folder ${i}`);
    await t.app.runtime.fileJobs.idle();
    await t.ok(NpAttach, { agentId: agent.createAgent.agent.id, folderId: folder.id });
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

describe('files of agents and folders resolve without N+1', () => {
  let small: TestServer;
  let large: TestServer;
  beforeAll(async () => {
    [small, large] = await Promise.all([startTestServer(QUIET), startTestServer(QUIET)]);
    await Promise.all([seed(small, 5, true), seed(large, 50, true)]);
  }, 120_000);
  afterAll(async () => {
    await Promise.all([small?.close(), large?.close()]);
  });

  it('agents { files { file folder } } costs the same for 5 and for 50 agents', async () => {
    const five = await counted(small, () => small.ok(AgentsWithFiles, {}));
    const fifty = await counted(large, () => large.ok(AgentsWithFiles, {}));
    expect(five.data.agents.edges).toHaveLength(5);
    expect(fifty.data.agents.edges).toHaveLength(50);
    for (const { node } of fifty.data.agents.edges) {
      expect(node.files.edges.map((edge) => edge.node.fileName)).toEqual([expect.stringMatching(/^folder \d+\/a\.txt$/), expect.stringMatching(/^folder \d+\/b\.md$/)]);
      expect(node.files.edges[0]!.node).toMatchObject({ isOpen: true, file: { processingStatus: 'COMPLETED' }, folder: { name: node.files.edges[0]!.node.fileName.split('/')[0] } });
      expect(node.files.pageInfo.hasNextPage).toBe(false);
    }
    expect(fifty.statements).toBe(five.statements);
    expect(fifty.statements).toBeLessThanOrEqual(5);
  });

  it('folders { agents files { folder } } costs the same for 5 and for 50 folders', async () => {
    const five = await counted(small, () => small.ok(FoldersWithFiles, {}));
    const fifty = await counted(large, () => large.ok(FoldersWithFiles, {}));
    expect(five.data.folders.edges).toHaveLength(5);
    expect(fifty.data.folders.edges).toHaveLength(50);
    for (const { node } of fifty.data.folders.edges) {
      expect(node.files.edges.map((edge) => edge.node.fileName)).toEqual(['a.txt', 'b.md']);
      expect(node.files.edges.every((edge) => edge.node.processingStatus === 'COMPLETED' && edge.node.folder?.name === node.name)).toBe(true);
      expect(node.agents).toEqual([{ name: `agent ${node.name.split(' ')[1]}` }]);
    }
    expect(fifty.statements).toBe(five.statements);
    expect(fifty.statements).toBeLessThanOrEqual(5);
  });
});
