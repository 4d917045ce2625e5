import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { graphql } from '../src/generated/gql/index.js';
import { closeAll, startWithScriptedModel, type TestServer } from './helpers/server.js';
import { startToolServer, type ToolServer } from './helpers/mcp-servers.js';
import type { ModelServer } from './model-server/server.js';

/** `mcp_servers` in agent files: exported in Letta's shape without secrets, imported and re-linked. */

const Create = graphql(`
  mutation AfMcpCreate($input: CreateMcpServerInput!) { createMcpServer(input: $input) { mcpServer { id tools { name tool { id } } } } }
`);
const Servers = graphql(`
  query AfMcpServers { mcpServers(first: 50) { totalCount nodes { id name transport url status headerNames tools { name tool { id name } } } } }
`);
const NewAgent = graphql(`
  mutation AfMcpAgent($input: CreateAgentInput!) { createAgent(input: $input) { agent { id } } }
`);
const Attach = graphql(`
  mutation AfMcpAttach($agentId: ID!, $toolId: ID!) { attachTool(input: { agentId: $agentId, toolId: $toolId }) { changed } }
`);
const Export = graphql(`
  query AfMcpExport($id: ID!) { exportAgent(id: $id) }
`);
const Import = graphql(`
  mutation AfMcpImport($json: JSON) { importAgent(input: { json: $json }) { agentIds agents { tools { name toolType mcpToolName mcpServer { name } } } } }
`);
const Send = graphql(`
  mutation AfMcpSend($input: SendMessageInput!) {
    sendMessage(input: $input) { stopReason messages { __typename ... on ToolReturnMessage { toolReturn status } } }
  }
`);

type Json = Record<string, any>;

/** A file as a Letta server writes it for an agent with one MCP tool (no tool_name in the metadata). */
function lettaFile(url: string): Json {
  return {
    agents: [
      {
        id: 'agent-0',
        name: 'weather_agent',
        agent_type: 'letta_v1_agent',
        system: 'You are helpful.',
        tool_ids: ['tool-0'],
        block_ids: [],
        messages: [],
        in_context_message_ids: [],
        llm_config: { model: 'scripted', model_endpoint_type: 'openai', context_window: 32000, handle: 'test/scripted' },
      },
    ],
    blocks: [],
    files: [],
    sources: [],
    groups: [],
    tools: [
      {
        id: 'tool-0',
        name: 'add',
        tool_type: 'external_mcp',
        description: 'Adds two numbers',
        json_schema: { name: 'add', description: 'Adds two numbers', parameters: { type: 'object', properties: { a: { type: 'number' }, b: { type: 'number' } }, required: ['a', 'b'] } },
        tags: ['mcp:weather'],
        metadata_: { mcp: { server_name: 'weather', server_id: 'mcp_server-5f0e43a5-2d7b-4c4a-9a43-0c8d7ad9f2a1' } },
      },
    ],
    mcp_servers: [{ id: 'mcp_server-0', server_type: 'streamable_http', server_name: 'weather', server_url: url, stdio_config: null, metadata_: {} }],
    metadata: { revision_id: 'x' },
  };
}

describe('MCP servers in agent files', () => {
  let model: ModelServer;
  let t: TestServer;
  let tools: ToolServer;
  beforeAll(async () => {
    tools = await startToolServer('streamable_http');
    ({ model, t } = await startWithScriptedModel());
  });
  afterAll(() => closeAll(t, model, tools));

  it("imports a Letta file's mcp_servers and re-links its MCP tools, which then run", async () => {
    const { importAgent } = await t.ok(Import, { json: lettaFile(tools.url) });
    expect(importAgent.agents[0]!.tools).toEqual([{ name: 'add', toolType: 'EXTERNAL_MCP', mcpToolName: 'add', mcpServer: { name: 'weather' } }]);
    const { mcpServers } = await t.ok(Servers, {});
    const weather = mcpServers.nodes.find((server) => server.name === 'weather')!;
    expect(weather).toMatchObject({ transport: 'STREAMABLE_HTTP', url: tools.url, status: 'UNKNOWN', headerNames: [] });
    expect(weather.tools).toEqual([{ name: 'add', tool: { id: expect.any(String), name: 'add' } }]);

    model.enqueue({ toolCalls: [{ name: 'add', arguments: { a: 4, b: 5 } }] }, { text: '9' });
    const { sendMessage } = await t.ok(Send, { input: { agentId: importAgent.agentIds[0]!, input: 'add' } });
    expect(sendMessage.messages.filter((message) => message.__typename === 'ToolReturnMessage')).toEqual([
      { __typename: 'ToolReturnMessage', toolReturn: 'The sum of 4 and 5 is 9.', status: 'SUCCESS' },
    ]);

    // A second import reuses the server of that name.
    await t.ok(Import, { json: lettaFile('https://elsewhere.example/mcp') });
    expect((await t.ok(Servers, {})).mcpServers.nodes.filter((server) => server.name === 'weather')).toHaveLength(1);
  });

  it('exports mcp_servers in Letta’s shape with secrets scrubbed, and the export imports into another organization', async () => {
    const { createMcpServer } = await t.ok(Create, {
      input: { name: 'keyed', transport: 'STREAMABLE_HTTP', url: tools.url, headers: [{ name: 'Authorization', value: 'Bearer export-secret' }] },
    });
    const whoami = createMcpServer.mcpServer.tools.find((tool) => tool.name === 'whoami')!.tool!.id;
    const agentId = (await t.ok(NewAgent, { input: { model: 'test/scripted', includeBaseTools: false, name: 'exporter' } })).createAgent.agent.id;
    await t.ok(Attach, { agentId, toolId: whoami });
    const file = (await t.ok(Export, { id: agentId })).exportAgent as Json;
    expect(JSON.stringify(file)).not.toContain('export-secret');
    expect(file.mcp_servers).toEqual([
      { id: 'mcp_server-0', server_type: 'streamable_http', server_name: 'keyed', server_url: tools.url, stdio_config: null, metadata_: { secret_names: { headers: ['Authorization'], env: [] } } },
    ]);
    expect(file.tools[0]).toMatchObject({ name: 'whoami', tool_type: 'external_mcp', tags: ['mcp:keyed'], metadata_: { mcp: { server_name: 'keyed', server_id: 'mcp_server-0', tool_name: 'whoami' } } });

    const other = await t.newOrganization();
    const imported = await t.ok(Import, { json: file }, { token: other.token });
    expect(imported.importAgent.agents[0]!.tools).toEqual([{ name: 'whoami', toolType: 'EXTERNAL_MCP', mcpToolName: 'whoami', mcpServer: { name: 'keyed' } }]);
    const servers = (await t.ok(Servers, {}, { token: other.token })).mcpServers;
    expect(servers.nodes).toEqual([expect.objectContaining({ name: 'keyed', headerNames: [], status: 'UNKNOWN' })]);
    // Auth must be entered again: the imported server calls without it.
    model.enqueue({ toolCalls: [{ name: 'whoami', arguments: {} }] }, { text: 'ok' });
    const { sendMessage } = await t.ok(Send, { input: { agentId: imported.importAgent.agentIds[0]!, input: 'who?' } }, { token: other.token });
    expect(sendMessage.messages.find((message) => message.__typename === 'ToolReturnMessage')).toMatchObject({ toolReturn: 'none', status: 'SUCCESS' });
  });

  it('refuses files whose servers this server may not register (stdio disabled, unknown type)', async () => {
    const { token } = await t.newOrganization();
    const file = lettaFile(tools.url);
    file.mcp_servers = [
      { id: 'mcp_server-0', server_type: 'stdio', server_name: 'local_cmd', server_url: null, stdio_config: { command: 'node', args: ['x.js'] }, metadata_: {} },
      { id: 'mcp_server-1', server_type: 'websocket', server_name: 'ws', server_url: 'ws://x' },
    ];
    const result = await t.request(Import, { json: file }, { token });
    expect(result.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    expect(result.errors?.[0]?.message).toContain('mcp_servers.0.server_type: stdio MCP servers are disabled');
    expect(result.errors?.[0]?.message).toContain('mcp_servers.1.server_type: unknown server type');
    expect((await t.ok(Servers, {}, { token })).mcpServers.totalCount).toBe(0);
  });
});
