import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { graphql } from '../src/generated/gql/index.js';
import { closeAll, eventually, startWithScriptedModel, type TestServer } from './helpers/server.js';
import { startToolServer, TINY_PNG, type ToolServer } from './helpers/mcp-servers.js';
import type { ModelServer } from './model-server/server.js';

/**
 * MCP servers through the public API, against the SDK's own McpServer class served in-process
 * over streamable HTTP and SSE; the model is the scripted model server.
 */

const CreateServer = graphql(`
  mutation McpCreate($input: CreateMcpServerInput!) {
    createMcpServer(input: $input) {
      mcpServer {
        id name transport url headerNames status lastError
        tools { name description inputSchema tool { id name toolType mcpToolName tags mcpServer { id } } }
      }
    }
  }
`);
const ServerById = graphql(`
  query McpServerById($id: ID!) {
    mcpServer(id: $id) { id name status lastError headerNames tools { name tool { id name tags } } }
    node(id: $id) { __typename id }
  }
`);
const Servers = graphql(`
  query McpServers($first: Int, $after: String) {
    mcpServers(first: $first, after: $after) { totalCount nodes { id name } edges { cursor node { id } } pageInfo { hasNextPage endCursor } }
  }
`);
const UpdateServer = graphql(`
  mutation McpUpdate($input: UpdateMcpServerInput!) { updateMcpServer(input: $input) { mcpServer { id name headerNames status tools { name tool { name tags } } } } }
`);
const DeleteServer = graphql(`
  mutation McpDelete($input: DeleteMcpServerInput!) { deleteMcpServer(input: $input) { deletedMcpServerId deletedToolIds } }
`);
const RefreshServer = graphql(`
  mutation McpRefresh($input: RefreshMcpServerInput!) { refreshMcpServer(input: $input) { mcpServer { id status lastError tools { name } } } }
`);
const NewAgent = graphql(`
  mutation McpNewAgent($input: CreateAgentInput!) { createAgent(input: $input) { agent { id } } }
`);
const Attach = graphql(`
  mutation McpAttach($agentId: ID!, $toolId: ID!) { attachTool(input: { agentId: $agentId, toolId: $toolId }) { changed agent { tools { name toolType } } } }
`);
const Detach = graphql(`
  mutation McpDetach($agentId: ID!, $toolId: ID!) { detachTool(input: { agentId: $agentId, toolId: $toolId }) { changed } }
`);
const Send = graphql(`
  mutation McpSend($input: SendMessageInput!) {
    sendMessage(input: $input) {
      stopReason
      run { id status }
      messages {
        __typename
        ... on AssistantMessage { content }
        ... on ToolCallMessage { toolCall { name arguments toolCallId } }
        ... on ToolReturnMessage { toolReturn status }
        ... on ApprovalRequestMessage { toolCalls { name toolCallId } }
      }
    }
  }
`);
const SendAsync = graphql(`
  mutation McpSendAsync($input: SendMessageAsyncInput!) { sendMessageAsync(input: $input) { run { id } } }
`);
const Cancel = graphql(`
  mutation McpCancel($runId: ID!) { cancelRun(input: { runId: $runId }) { run { id status } } }
`);
const RunById = graphql(`
  query McpRun($id: ID!) { run(id: $id) { status stopReason } }
`);
const Approval = graphql(`
  mutation McpApproval($agentId: ID!, $toolName: String!) { setToolApproval(input: { agentId: $agentId, toolName: $toolName, requiresApproval: true }) { requiresApproval } }
`);
const Rules = graphql(`
  mutation McpRules($id: ID!, $rules: JSON) { updateAgent(input: { id: $id, toolRules: $rules }) { agent { id } } }
`);
const Preview = graphql(`
  query McpPreview($agentId: ID!) { previewRawPayload(agentId: $agentId) { payload } }
`);
const DeleteTool = graphql(`
  mutation McpDeleteTool($id: ID!) { deleteTool(input: { id: $id }) { deletedToolId } }
`);

type Message = { __typename: string; toolReturn?: string; status?: string; content?: string };
const returns = (messages: Message[]) => messages.filter((message) => message.__typename === 'ToolReturnMessage');

describe.each(['streamable_http', 'sse'] as const)('MCP tools over %s', (transport) => {
  let model: ModelServer;
  let t: TestServer;
  let tools: ToolServer;
  let serverId: string;
  const toolIds = new Map<string, string>();

  beforeAll(async () => {
    tools = await startToolServer(transport);
    ({ model, t } = await startWithScriptedModel({ MCP_TOOL_TIMEOUT_MS: '1500', SECRETS_KEY: 'a'.repeat(64) }));
  });
  afterAll(() => closeAll(t, model, tools));

  const newAgent = async () => (await t.ok(NewAgent, { input: { model: 'test/scripted', includeBaseTools: false } })).createAgent.agent.id;
  const agentWith = async (...names: string[]) => {
    const agentId = await newAgent();
    for (const name of names) await t.ok(Attach, { agentId, toolId: toolIds.get(name)! });
    return agentId;
  };

  it('registers a server and lists its tools into the organization; header values are write-only', async () => {
    const enumName = transport === 'sse' ? 'SSE' : 'STREAMABLE_HTTP';
    const { createMcpServer } = await t.ok(CreateServer, {
      input: { name: 'toolbox', transport: enumName, url: tools.url, headers: [{ name: 'Authorization', value: 'Bearer sekrit-123' }] },
    });
    const server = createMcpServer.mcpServer;
    serverId = server.id;
    expect(server).toMatchObject({ name: 'toolbox', transport: enumName, url: tools.url, headerNames: ['Authorization'], status: 'CONNECTED', lastError: null });
    expect(JSON.stringify(createMcpServer)).not.toContain('sekrit');
    const add = server.tools.find((tool) => tool.name === 'add')!;
    expect(add.description).toBe('Adds two numbers');
    expect(add.inputSchema).toMatchObject({ type: 'object', properties: { a: { type: 'number' }, b: { type: 'number' } }, required: ['a', 'b'] });
    expect(add.tool).toMatchObject({ name: 'add', toolType: 'EXTERNAL_MCP', mcpToolName: 'add', tags: ['mcp:toolbox'], mcpServer: { id: server.id } });
    // 'weather.now' is not a name models accept: the tool takes a sanitized one.
    expect(server.tools.find((tool) => tool.name === 'weather.now')?.tool).toMatchObject({ name: 'weather_now', mcpToolName: 'weather.now' });
    for (const tool of server.tools) toolIds.set(tool.name, tool.tool!.id);
    // Sealed at rest with SECRETS_KEY.
    const row = await t.app.db.prisma.mcpServer.findUniqueOrThrow({ where: { id: server.id } });
    expect(row.secrets).toMatch(/^v1:/);
    expect(row.secrets).not.toContain('sekrit');

    const byId = await t.ok(ServerById, { id: server.id });
    expect(byId.node).toEqual({ __typename: 'McpServer', id: server.id });
    const list = await t.ok(Servers, { first: 10 });
    expect(list.mcpServers).toMatchObject({ totalCount: 1, nodes: [{ id: server.id, name: 'toolbox' }] });
  });

  it('runs an MCP tool in an agent turn, with the headers given', async () => {
    const agentId = await agentWith('add', 'whoami');
    model.enqueue({ toolCalls: [{ name: 'add', arguments: { a: 2, b: 3 } }] }, { toolCalls: [{ name: 'whoami', arguments: {} }] }, { text: 'It is 5.' });
    const before = model.requests.length;
    const { sendMessage } = await t.ok(Send, { input: { agentId, input: 'what is 2 + 3?' } });
    expect(sendMessage.stopReason).toBe('END_TURN');
    expect(returns(sendMessage.messages)).toEqual([
      { __typename: 'ToolReturnMessage', toolReturn: 'The sum of 2 and 3 is 5.', status: 'SUCCESS' },
      { __typename: 'ToolReturnMessage', toolReturn: 'Bearer sekrit-123', status: 'SUCCESS' },
    ]);
    // The model was offered the MCP tool and saw its result.
    const first = model.requests[before]!.body;
    expect(first.tools?.map((tool) => tool.function.name).sort()).toEqual(['add', 'whoami']);
    expect(JSON.stringify(model.requests[before + 1]!.body.messages)).toContain('The sum of 2 and 3 is 5.');
  });

  it('renders tool errors, images, structured content and long results as Letta does; the run goes on', async () => {
    const agentId = await agentWith('fail', 'picture', 'weather.now', 'long_text');
    model.enqueue(
      { toolCalls: [{ name: 'fail', arguments: {} }] },
      { toolCalls: [{ name: 'picture', arguments: {} }] },
      { toolCalls: [{ name: 'weather_now', arguments: { city: 'Oslo' } }] },
      { toolCalls: [{ name: 'long_text', arguments: { size: 60_000 } }] },
      { text: 'done' },
    );
    const { sendMessage } = await t.ok(Send, { input: { agentId, input: 'try everything' } });
    expect(sendMessage.stopReason).toBe('END_TURN');
    const [failed, picture, weather, long] = returns(sendMessage.messages);
    expect(failed).toMatchObject({ toolReturn: 'the widget is broken', status: 'ERROR' });
    expect(picture).toMatchObject({ status: 'SUCCESS', toolReturn: `Here is a picture: type='image' data='${TINY_PNG}' mimeType='image/png' annotations=None meta=None` });
    expect(JSON.parse(weather!.toolReturn!)).toEqual({ city: 'Oslo', temperature: 21.5, unit: 'C' });
    expect(long!.toolReturn!.length).toBeLessThan(50_200);
    expect(long!.toolReturn).toContain('[NOTE: function output was truncated since it exceeded the character limit (60000 > 50000)]');
  });

  it('times out a call (MCP_TOOL_TIMEOUT_MS), tells the server, and the model sees a tool error', async () => {
    const agentId = await agentWith('slow');
    const cancelledBefore = tools.cancelled.length;
    model.enqueue({ toolCalls: [{ name: 'slow', arguments: { ms: 30_000 } }] }, { text: 'it timed out' });
    const { sendMessage } = await t.ok(Send, { input: { agentId, input: 'wait' } });
    expect(sendMessage.stopReason).toBe('END_TURN');
    expect(returns(sendMessage.messages)[0]).toMatchObject({ status: 'ERROR', toolReturn: "Error: MCP tool 'slow' on server 'toolbox' timed out after 1500 ms" });
    await eventually(() => tools.cancelled.length > cancelledBefore);
  });

  it('cancelRun aborts a running MCP call and sends the cancellation on to the server', async () => {
    const agentId = await agentWith('slow');
    const startedBefore = tools.started.filter((name) => name === 'slow').length;
    const cancelledBefore = tools.cancelled.length;
    // Shorter than the timeout (1500 ms): only the cancel can end it early.
    model.enqueue({ toolCalls: [{ name: 'slow', arguments: { ms: 1200 } }] });
    const { sendMessageAsync } = await t.ok(SendAsync, { input: { agentId, input: 'wait' } });
    await eventually(() => tools.started.filter((name) => name === 'slow').length > startedBefore);
    await t.ok(Cancel, { runId: sendMessageAsync.run.id });
    await eventually(() => tools.cancelled.length > cancelledBefore);
    let run = (await t.ok(RunById, { id: sendMessageAsync.run.id })).run;
    await eventually(
      () => run?.stopReason === 'CANCELLED',
      async () => {
        run = (await t.ok(RunById, { id: sendMessageAsync.run.id })).run;
      },
    );
    expect(run).toMatchObject({ status: 'CANCELLED', stopReason: 'CANCELLED' });
  });

  it('MCP tools take approvals, tool rules and payload previews like any tool', async () => {
    const agentId = await agentWith('add');
    expect(JSON.stringify((await t.ok(Preview, { agentId })).previewRawPayload.payload)).toContain('Adds two numbers');
    await t.ok(Approval, { agentId, toolName: 'add' });
    model.enqueue({ toolCalls: [{ id: 'call_mcp_ok', name: 'add', arguments: { a: 20, b: 22 } }] });
    const asked = await t.ok(Send, { input: { agentId, input: 'add please' } });
    expect(asked.sendMessage.stopReason).toBe('REQUIRES_APPROVAL');
    expect(tools.started.filter((name) => name === 'add').length).toBeGreaterThan(0);
    const addsBefore = tools.started.filter((name) => name === 'add').length;
    await t.ok(Rules, { id: agentId, rules: [{ type: 'exit_loop', tool_name: 'add' }] });
    const approved = await t.ok(Send, { input: { agentId, approvals: [{ toolCallId: 'call_mcp_ok', approve: true }] } });
    expect(returns(approved.sendMessage.messages)[0]).toMatchObject({ toolReturn: 'The sum of 20 and 22 is 42.', status: 'SUCCESS' });
    // exit_loop on the MCP tool ends the turn without another model call.
    expect(approved.sendMessage.stopReason).toBe('TOOL_RULE');
    expect(tools.started.filter((name) => name === 'add').length).toBe(addsBefore + 1);
    expect((await t.ok(Detach, { agentId, toolId: toolIds.get('add')! })).detachTool.changed).toBe(true);
    const refused = await t.request(DeleteTool, { id: toolIds.get('add')! });
    expect(refused.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
  });

  it("refreshes the tools on the server's tools/list_changed notification, and on refreshMcpServer", async () => {
    tools.addTool('new_tool', 'Appeared later');
    let names: string[] = [];
    await eventually(
      () => names.includes('new_tool'),
      async () => {
        names = (await t.ok(ServerById, { id: serverId })).mcpServer!.tools.map((tool) => tool.name);
      },
    );
    const refreshed = await t.ok(RefreshServer, { input: { id: serverId } });
    expect(refreshed.refreshMcpServer.mcpServer).toMatchObject({ status: 'CONNECTED', lastError: null });
    expect(refreshed.refreshMcpServer.mcpServer.tools.map((tool) => tool.name)).toContain('new_tool');
  });

  it('renames and re-keys a server; deleting it deletes its tools everywhere', async () => {
    const agentId = await agentWith('add');
    const renamed = await t.ok(UpdateServer, { input: { id: serverId, name: 'kit', headers: [{ name: 'Authorization', value: 'Bearer other' }] } });
    expect(renamed.updateMcpServer.mcpServer).toMatchObject({ name: 'kit', headerNames: ['Authorization'], status: 'CONNECTED' });
    expect(renamed.updateMcpServer.mcpServer.tools.find((tool) => tool.name === 'add')?.tool?.tags).toEqual(['mcp:kit']);
    model.enqueue({ toolCalls: [{ name: 'whoami', arguments: {} }] }, { text: 'ok' });
    await t.ok(Attach, { agentId, toolId: toolIds.get('whoami')! });
    const { sendMessage } = await t.ok(Send, { input: { agentId, input: 'who?' } });
    expect(returns(sendMessage.messages)[0]).toMatchObject({ toolReturn: 'Bearer other' });

    const deleted = await t.ok(DeleteServer, { input: { id: serverId } });
    expect(deleted.deleteMcpServer.deletedMcpServerId).toBe(serverId);
    expect(deleted.deleteMcpServer.deletedToolIds).toEqual(expect.arrayContaining([toolIds.get('add'), toolIds.get('whoami')]));
    expect((await t.request(ServerById, { id: serverId })).errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
    const detachedEverywhere = await t.request(Attach, { agentId, toolId: toolIds.get('add')! });
    expect(detachedEverywhere.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
  });
});

describe('MCP servers: failures, validation and tenancy', () => {
  let model: ModelServer;
  let t: TestServer;
  let tools: ToolServer;
  beforeAll(async () => {
    tools = await startToolServer('streamable_http');
    ({ model, t } = await startWithScriptedModel({ MCP_TOOL_TIMEOUT_MS: '5000' }));
  });
  afterAll(() => closeAll(t, model, tools));

  it('a server that dies mid-call gives the model a tool error, the run goes on, and the status shows it; a new server is reached again', async () => {
    const tools = await startToolServer('streamable_http');
    const { createMcpServer } = await t.ok(CreateServer, { input: { name: 'fragile', transport: 'STREAMABLE_HTTP', url: tools.url } });
    const server = createMcpServer.mcpServer;
    const slow = server.tools.find((tool) => tool.name === 'slow')!.tool!.id;
    const add = server.tools.find((tool) => tool.name === 'add')!.tool!.id;
    const agentId = (await t.ok(NewAgent, { input: { model: 'test/scripted', includeBaseTools: false } })).createAgent.agent.id;
    await t.ok(Attach, { agentId, toolId: slow });
    await t.ok(Attach, { agentId, toolId: add });
    model.enqueue({ toolCalls: [{ name: 'slow', arguments: { ms: 20_000 } }] }, { text: 'the server is down' });
    const started = tools.started.length;
    const pending = t.ok(Send, { input: { agentId, input: 'go' } });
    await eventually(() => tools.started.length > started);
    await tools.kill();
    const { sendMessage } = await pending;
    expect(sendMessage.stopReason).toBe('END_TURN');
    const [failed] = returns(sendMessage.messages);
    expect(failed!.status).toBe('ERROR');
    expect(failed!.toolReturn).toMatch(/^Error: /);
    const status = await t.ok(ServerById, { id: server.id });
    expect(status.mcpServer).toMatchObject({ status: 'FAILED' });
    expect(status.mcpServer?.lastError).toBeTruthy();

    // A server back on the same address is reconnected by itself at the next call.
    const again = await startToolServer('streamable_http', tools.port);
    try {
      model.enqueue({ toolCalls: [{ name: 'add', arguments: { a: 1, b: 2 } }] }, { text: 'back' });
      const next = await t.ok(Send, { input: { agentId, input: 'add' } });
      expect(returns(next.sendMessage.messages)[0]).toMatchObject({ status: 'SUCCESS', toolReturn: 'The sum of 1 and 2 is 3.' });
      expect((await t.ok(ServerById, { id: server.id })).mcpServer?.status).toBe('CONNECTED');
    } finally {
      await again.close();
    }
  });

  it('a server that cannot be reached is created with status FAILED and refreshed later', async () => {
    const dead = await startToolServer('streamable_http');
    await dead.close();
    const { createMcpServer } = await t.ok(CreateServer, { input: { name: 'later', transport: 'STREAMABLE_HTTP', url: dead.url } });
    expect(createMcpServer.mcpServer).toMatchObject({ status: 'FAILED', tools: [] });
    expect(createMcpServer.mcpServer.lastError).toContain("could not connect to MCP server 'later'");
    const back = await startToolServer('streamable_http', dead.port);
    try {
      const refreshed = await t.ok(RefreshServer, { input: { id: createMcpServer.mcpServer.id } });
      expect(refreshed.refreshMcpServer.mcpServer.status).toBe('CONNECTED');
      expect(refreshed.refreshMcpServer.mcpServer.tools.map((tool) => tool.name)).toContain('add');
    } finally {
      await back.close();
    }
  });

  it('refuses bad input with typed errors', async () => {
    const cases: Array<[Record<string, unknown>, string, string]> = [
      [{ name: 'x', transport: 'STREAMABLE_HTTP' }, 'BAD_USER_INPUT', 'input.url'],
      [{ name: 'x', transport: 'STREAMABLE_HTTP', url: 'ftp://example.com/mcp' }, 'BAD_USER_INPUT', 'input.url'],
      [{ name: 'x', transport: 'SSE', url: 'not a url' }, 'BAD_USER_INPUT', 'input.url'],
      [{ name: 'has space', transport: 'SSE', url: tools.url }, 'BAD_USER_INPUT', 'input.name'],
      [{ name: 'x', transport: 'STREAMABLE_HTTP', url: tools.url, headers: [{ name: 'bad header', value: 'v' }] }, 'BAD_USER_INPUT', 'input.headers.0.name'],
      [{ name: 'x', transport: 'STREAMABLE_HTTP', url: tools.url, command: 'ls' }, 'BAD_USER_INPUT', 'input.command'],
      [{ name: 'x', transport: 'STDIO', command: 'node' }, 'FORBIDDEN', 'input.transport'],
    ];
    for (const [input, code, path] of cases) {
      const result = await t.request(CreateServer, { input } as never);
      expect(result.errors?.[0]?.extensions, JSON.stringify(input)).toMatchObject({ code, path });
    }
    expect((await t.request(CreateServer, { input: { name: 'x', transport: 'STDIO', command: 'node' } })).errors?.[0]?.message).toContain('MCP_STDIO');
    await t.ok(CreateServer, { input: { name: 'twice', transport: 'STREAMABLE_HTTP', url: tools.url } });
    const twice = await t.request(CreateServer, { input: { name: 'twice', transport: 'STREAMABLE_HTTP', url: tools.url } });
    expect(twice.errors?.[0]?.extensions?.code).toBe('CONFLICT');
    const malformed = await t.request(ServerById, { id: 'mcp_server-1' });
    expect(malformed.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
  });

  it("another organization's server ids are NOT_FOUND", async () => {
    const { createMcpServer } = await t.ok(CreateServer, { input: { name: 'mine', transport: 'STREAMABLE_HTTP', url: tools.url } });
    const id = createMcpServer.mcpServer.id;
    expect((await t.ok(ServerById, { id })).mcpServer?.name).toBe('mine');
    const other = await t.newOrganization();
    const token = other.token;
    const read = await t.request(ServerById, { id }, { token });
    expect(read.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
    for (const [document, variables] of [
      [UpdateServer, { input: { id, name: 'stolen' } }],
      [DeleteServer, { input: { id } }],
      [RefreshServer, { input: { id } }],
    ] as const) {
      const result = await t.request(document as never, variables as never, { token });
      expect(result.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
    }
    expect((await t.ok(Servers, { first: 10 }, { token })).mcpServers.totalCount).toBe(0);
    const toolId = createMcpServer.mcpServer.tools[0]!.tool!.id;
    const agentId = (await t.ok(NewAgent, { input: { includeBaseTools: false } }, { token })).createAgent.agent.id;
    expect((await t.request(Attach, { agentId, toolId }, { token })).errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
  });
});
