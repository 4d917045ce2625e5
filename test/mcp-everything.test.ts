import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { graphql } from '../src/generated/gql/index.js';
import { closeAll, eventually, startWithScriptedModel, type TestServer } from './helpers/server.js';
import { EVERYTHING_ENTRY, startEverythingHttp, type ChildServer } from './helpers/mcp-servers.js';
import type { ModelServer } from './model-server/server.js';

/**
 * @modelcontextprotocol/server-everything (the reference test server) over streamable HTTP, and
 * over stdio with MCP_STDIO=enabled, with a small stdio script of our own for a server that dies.
 */

const Create = graphql(`
  mutation EverythingCreate($input: CreateMcpServerInput!) {
    createMcpServer(input: $input) { mcpServer { id name transport status lastError envNames tools { name tool { id name } } } }
  }
`);
const Status = graphql(`
  query EverythingStatus($id: ID!) { mcpServer(id: $id) { status lastError } }
`);
const NewAgent = graphql(`
  mutation EverythingAgent($input: CreateAgentInput!) { createAgent(input: $input) { agent { id } } }
`);
const Attach = graphql(`
  mutation EverythingAttach($agentId: ID!, $toolId: ID!) { attachTool(input: { agentId: $agentId, toolId: $toolId }) { changed } }
`);
const Send = graphql(`
  mutation EverythingSend($input: SendMessageInput!) {
    sendMessage(input: $input) {
      stopReason
      messages { __typename ... on ToolReturnMessage { toolReturn status } ... on AssistantMessage { content } }
    }
  }
`);
const SendAsync = graphql(`
  mutation EverythingSendAsync($input: SendMessageAsyncInput!) { sendMessageAsync(input: $input) { run { id } } }
`);
const Cancel = graphql(`
  mutation EverythingCancel($runId: ID!) { cancelRun(input: { runId: $runId }) { run { status } } }
`);
const RunById = graphql(`
  query EverythingRun($id: ID!) { run(id: $id) { status stopReason } }
`);

const returns = (messages: Array<{ __typename: string; toolReturn?: string; status?: string }>) => messages.filter((message) => message.__typename === 'ToolReturnMessage');
const STDIO_SCRIPT = fileURLToPath(new URL('./helpers/mcp-stdio-server.mjs', import.meta.url));

describe('server-everything and stdio servers', () => {
  let model: ModelServer;
  let t: TestServer;
  let everything: ChildServer;
  beforeAll(async () => {
    everything = await startEverythingHttp();
    ({ model, t } = await startWithScriptedModel({ MCP_STDIO: 'enabled', MCP_TOOL_TIMEOUT_MS: '20000' }));
  });
  afterAll(async () => {
    await everything?.kill();
    await closeAll(t, model);
  });

  const agentWith = async (tools: Map<string, string>, ...names: string[]) => {
    const agentId = (await t.ok(NewAgent, { input: { model: 'test/scripted', includeBaseTools: false } })).createAgent.agent.id;
    for (const name of names) await t.ok(Attach, { agentId, toolId: tools.get(name)! });
    return agentId;
  };
  const toolMap = (server: { tools: Array<{ name: string; tool?: { id: string } | null }> }) => new Map(server.tools.map((tool) => [tool.name, tool.tool!.id]));

  it('over streamable HTTP: lists its tools, echoes and adds in an agent turn, cancels a long call, and survives the server being killed mid-call', async () => {
    const { createMcpServer } = await t.ok(Create, { input: { name: 'everything', transport: 'STREAMABLE_HTTP', url: everything.url } });
    expect(createMcpServer.mcpServer.status).toBe('CONNECTED');
    const tools = toolMap(createMcpServer.mcpServer);
    expect([...tools.keys()]).toEqual(expect.arrayContaining(['echo', 'get-sum', 'trigger-long-running-operation']));
    const agentId = await agentWith(tools, 'echo', 'get-sum', 'trigger-long-running-operation');

    model.enqueue({ toolCalls: [{ name: 'echo', arguments: { message: 'hello MCP' } }] }, { toolCalls: [{ name: 'get-sum', arguments: { a: 19, b: 23 } }] }, { text: '42' });
    const { sendMessage } = await t.ok(Send, { input: { agentId, input: 'echo, then add' } });
    expect(sendMessage.stopReason).toBe('END_TURN');
    expect(returns(sendMessage.messages)).toEqual([
      { __typename: 'ToolReturnMessage', toolReturn: 'Echo: hello MCP', status: 'SUCCESS' },
      { __typename: 'ToolReturnMessage', toolReturn: 'The sum of 19 and 23 is 42.', status: 'SUCCESS' },
    ]);

    // A long call, cancelled mid-run.
    model.enqueue({ toolCalls: [{ name: 'trigger-long-running-operation', arguments: { duration: 30, steps: 30 } }] });
    let requests = model.requests.length;
    const { sendMessageAsync } = await t.ok(SendAsync, { input: { agentId, input: 'long' } });
    const runId = sendMessageAsync.run.id;
    await eventually(() => model.requests.length > requests && model.pending() === 0);
    await new Promise((resolve) => setTimeout(resolve, 300));
    await t.ok(Cancel, { runId });
    let run = (await t.ok(RunById, { id: runId })).run;
    await eventually(
      () => run?.stopReason === 'CANCELLED',
      async () => {
        run = (await t.ok(RunById, { id: runId })).run;
      },
    );
    expect(run?.status).toBe('CANCELLED');

    // Killed mid-call: the model sees a tool error and the run goes on.
    model.enqueue({ toolCalls: [{ name: 'trigger-long-running-operation', arguments: { duration: 30, steps: 30 } }] }, { text: 'the tool server died' });
    requests = model.requests.length;
    const pending = t.ok(Send, { input: { agentId, input: 'long again' } });
    await eventually(() => model.requests.length > requests);
    await new Promise((resolve) => setTimeout(resolve, 500));
    await everything.kill();
    const killed = await pending;
    expect(killed.sendMessage.stopReason).toBe('END_TURN');
    expect(returns(killed.sendMessage.messages)[0]).toMatchObject({ status: 'ERROR' });
    const status = (await t.ok(Status, { id: createMcpServer.mcpServer.id })).mcpServer;
    expect(status?.status).toBe('FAILED');
    expect(model.pending()).toBe(0);
  });

  it('over stdio (MCP_STDIO=enabled): server-everything with write-only env', async () => {
    const { createMcpServer } = await t.ok(Create, {
      input: { name: 'everything-stdio', transport: 'STDIO', command: process.execPath, args: [EVERYTHING_ENTRY, 'stdio'], env: [{ name: 'AGENTGRAPH_TEST_SECRET', value: 'stdio-s3cret' }] },
    });
    expect(createMcpServer.mcpServer).toMatchObject({ transport: 'STDIO', status: 'CONNECTED', envNames: ['AGENTGRAPH_TEST_SECRET'] });
    expect(JSON.stringify(createMcpServer)).not.toContain('stdio-s3cret');
    const tools = toolMap(createMcpServer.mcpServer);
    // The HTTP server's tools have these names already: these take `<server>__<name>`.
    const names = new Map(createMcpServer.mcpServer.tools.map((tool) => [tool.name, tool.tool!.name]));
    expect(names.get('echo')).toBe('everything-stdio__echo');
    expect(names.get('get-env')).toBe('everything-stdio__get-env');
    const agentId = await agentWith(tools, 'echo', 'get-env');
    model.enqueue({ toolCalls: [{ name: names.get('echo')!, arguments: { message: 'over stdio' } }] }, { toolCalls: [{ name: names.get('get-env')!, arguments: {} }] }, { text: 'ok' });
    const { sendMessage } = await t.ok(Send, { input: { agentId, input: 'echo' } });
    const [echo, env] = returns(sendMessage.messages);
    expect(echo).toMatchObject({ toolReturn: 'Echo: over stdio', status: 'SUCCESS' });
    expect(JSON.parse(env!.toolReturn!)).toMatchObject({ AGENTGRAPH_TEST_SECRET: 'stdio-s3cret' });
  });

  it('a stdio server that exits mid-call: a tool error, the run goes on, and the next call starts it again', async () => {
    const { createMcpServer } = await t.ok(Create, { input: { name: 'mortal', transport: 'STDIO', command: process.execPath, args: [STDIO_SCRIPT] } });
    const tools = toolMap(createMcpServer.mcpServer);
    const agentId = await agentWith(tools, 'die', 'pid');
    model.enqueue({ toolCalls: [{ name: 'pid', arguments: {} }] }, { toolCalls: [{ name: 'die', arguments: {} }] }, { toolCalls: [{ name: 'pid', arguments: {} }] }, { text: 'back' });
    const { sendMessage } = await t.ok(Send, { input: { agentId, input: 'die' } });
    expect(sendMessage.stopReason).toBe('END_TURN');
    const [before, died, after] = returns(sendMessage.messages);
    expect(before?.status).toBe('SUCCESS');
    expect(died).toMatchObject({ status: 'ERROR' });
    expect(died!.toolReturn).toMatch(/^Error: /);
    // A new process answers the next call.
    expect(after?.status).toBe('SUCCESS');
    expect(after!.toolReturn).not.toBe(before!.toolReturn);
    const status = (await t.ok(Status, { id: createMcpServer.mcpServer.id })).mcpServer;
    expect(status?.status).toBe('CONNECTED');
  });
});
