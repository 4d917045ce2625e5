/**
 * MCP tool call overhead: what calling a tool on an MCP server adds to an agent step, beyond the
 * MCP server's own time, against a built-in tool in the same run.
 *
 *   npm run bench:mcp          (embedded mode; BENCH_MESSAGES per agent, default 100)
 *
 * One server process (auth disabled, rate limits off, logs silent, in-memory PGlite), the scripted model server,
 * and an MCP server built on the SDK's McpServer over streamable HTTP, all in this process. The
 * model's script per message: call the tool, then answer. Two agents, messages alternating:
 *   - baseline: the built-in `memory_insert` (executed in memory);
 *   - mcp:      `add` on the MCP server (a registered MCP tool).
 * For the tool step (step 1) of each message the server records stepMs and llmRequestMs;
 * stepMs − llmRequestMs is the server's work in the step, tool execution included. For the MCP
 * agent the MCP server's handling of the tools/call request (first byte in → last byte out, as
 * its HTTP server sees it) is subtracted: what remains is our side of the call (the tool and
 * server lookup, the SDK client, the HTTP round trip on loopback, rendering). Reported: p50 and
 * p95 of both, the added time (mcp − baseline) and the ratio. Target: added p50 < 5 ms.
 */
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import os from 'node:os';
import { randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { z } from 'zod';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { isInitializeRequest } from '@modelcontextprotocol/sdk/types.js';
import { closeAppContext, createAppContext } from '../src/app.js';
import { loadConfig } from '../src/config.js';
import { createLogger } from '../src/logger.js';
import { startServer } from '../src/server.js';
import { startModelServer } from '../test/model-server/server.js';

const MESSAGES = Number(process.env.BENCH_MESSAGES ?? 100);
const nowMs = () => Number(process.hrtime.bigint()) / 1e6;

/** The MCP server, timing its handling of each tools/call request. */
async function startMcpServer() {
  const callTimes: number[] = [];
  const transports = new Map<string, StreamableHTTPServerTransport>();
  const build = () => {
    const server = new McpServer({ name: 'bench', version: '1.0.0' });
    server.registerTool('add', { description: 'Adds two numbers', inputSchema: { a: z.number(), b: z.number() } }, async ({ a, b }) => ({
      content: [{ type: 'text', text: `The sum of ${a} and ${b} is ${a + b}.` }],
    }));
    return server;
  };
  const readBody = (req: IncomingMessage) =>
    new Promise<unknown>((resolve) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => resolve(chunks.length ? JSON.parse(Buffer.concat(chunks).toString('utf8')) : undefined));
    });
  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const start = nowMs();
    const body = req.method === 'POST' ? await readBody(req) : undefined;
    if ((body as { method?: string } | undefined)?.method === 'tools/call') res.once('finish', () => callTimes.push(nowMs() - start));
    const sessionId = req.headers['mcp-session-id'];
    let transport = typeof sessionId === 'string' ? transports.get(sessionId) : undefined;
    if (!transport && isInitializeRequest(body)) {
      const created = new StreamableHTTPServerTransport({ sessionIdGenerator: () => randomUUID(), onsessioninitialized: (id) => void transports.set(id, created) });
      await build().connect(created);
      transport = created;
    }
    if (!transport) return void res.writeHead(404).end();
    await transport.handleRequest(req, res, body);
  };
  const server = http.createServer((req, res) => void handle(req, res));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/mcp`, callTimes, close: () => new Promise((resolve) => server.close(resolve)) };
}

const percentile = (values: number[], p: number) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
};

async function main() {
  const mcp = await startMcpServer();
  let fact = 0;
  const model = await startModelServer({
    brain: (request) => {
      const usage = { prompt_tokens: 1000, completion_tokens: 10 };
      if (request.messages.at(-1)?.role === 'tool') return { text: 'Done.', usage };
      const mcpAgent = (request.tools ?? []).some((tool) => tool.function.name === 'add');
      fact += 1;
      return mcpAgent
        ? { toolCalls: [{ name: 'add', arguments: { a: fact, b: 1 } }], usage }
        : { toolCalls: [{ name: 'memory_insert', arguments: { label: 'human', new_string: `Fact ${fact}.` } }], usage };
    },
  });
  const config = loadConfig({ HOST: '127.0.0.1', PORT: '0', DATA_DIR: 'memory://', AUTH_MODE: 'disabled', LOG_LEVEL: 'silent', RATE_LIMIT_PER_MINUTE: '0', RATE_LIMIT_RUNS_PER_MINUTE: '0', LLM_PROVIDERS: JSON.stringify([{ name: 'test', baseUrl: model.url }]) });
  const app = await createAppContext(config, createLogger(config));
  const server = await startServer(app);
  const request = async <T>(query: string, variables: Record<string, unknown> = {}): Promise<T> => {
    const response = await fetch(server.url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query, variables }) });
    const body = (await response.json()) as { data?: T; errors?: unknown };
    if (body.errors || !body.data) throw new Error(JSON.stringify(body.errors));
    return body.data;
  };
  try {
    const created = await request<{ createMcpServer: { mcpServer: { tools: Array<{ name: string; tool: { id: string } }> } } }>(
      `mutation ($url: String!) { createMcpServer(input: { name: "bench", transport: STREAMABLE_HTTP, url: $url }) { mcpServer { tools { name tool { id } } } } }`,
      { url: mcp.url },
    );
    const addId = created.createMcpServer.mcpServer.tools.find((tool) => tool.name === 'add')!.tool.id;
    const newAgent = async () =>
      (await request<{ createAgent: { agent: { id: string } } }>(`mutation { createAgent(input: { model: "test/scripted", includeBaseTools: false, memoryBlocks: [{ label: "human", value: "" }] }) { agent { id } } }`)).createAgent.agent.id;
    const baseline = await newAgent();
    const mcpAgent = await newAgent();
    const insertId = (await request<{ tools: { edges: Array<{ node: { id: string } }> } }>(`{ tools(first: 1, filter: { name: "memory_insert" }) { edges { node { id } } } }`)).tools.edges[0]!.node.id;
    await request(`mutation ($a: ID!, $t: ID!) { attachTool(input: { agentId: $a, toolId: $t }) { changed } }`, { a: baseline, t: insertId });
    await request(`mutation ($a: ID!, $t: ID!) { attachTool(input: { agentId: $a, toolId: $t }) { changed } }`, { a: mcpAgent, t: addId });

    type Sent = { sendMessage: { stopReason: string; run: { steps: Array<{ stepMs: number; llmRequestMs: number }> } } };
    const send = (agentId: string) =>
      request<Sent>(`mutation ($id: ID!) { sendMessage(input: { agentId: $id, input: "go" }) { stopReason run { steps { stepMs llmRequestMs } } } }`, { id: agentId });
    const work = (sent: Sent) => {
      if (sent.sendMessage.stopReason !== 'END_TURN' || sent.sendMessage.run.steps.length !== 2) throw new Error(`unexpected run: ${JSON.stringify(sent)}`);
      const step = sent.sendMessage.run.steps[0]!;
      return step.stepMs - step.llmRequestMs;
    };
    for (let i = 0; i < 10; i++) work(await send(baseline)), work(await send(mcpAgent)); // warm-up
    mcp.callTimes.length = 0;
    const base: number[] = [];
    const withMcp: number[] = [];
    for (let i = 0; i < MESSAGES; i++) {
      base.push(work(await send(baseline)));
      const before = mcp.callTimes.length;
      const total = work(await send(mcpAgent));
      withMcp.push(total - (mcp.callTimes[before] ?? 0));
    }
    const row = (name: string, values: number[]) => `${name.padEnd(34)} p50 ${percentile(values, 50).toFixed(2).padStart(7)} ms   p95 ${percentile(values, 95).toFixed(2).padStart(7)} ms`;
    const added = percentile(withMcp, 50) - percentile(base, 50);
    console.log(`MCP tool call overhead (${MESSAGES} messages per agent, ${os.cpus().length} CPUs, load average ${os.loadavg()[0]!.toFixed(1)})`);
    console.log(row('built-in tool step (server work)', base));
    console.log(row('MCP tool step minus MCP server time', withMcp));
    console.log(row('MCP server handling of tools/call', mcp.callTimes));
    console.log(`added by the MCP call: p50 ${added.toFixed(2)} ms (target < 5 ms); ratio of p50s ${(percentile(withMcp, 50) / percentile(base, 50)).toFixed(2)}`);
  } finally {
    await server.close();
    await closeAppContext(app);
    await model.close();
    await mcp.close();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
