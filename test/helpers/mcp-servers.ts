/**
 * Real MCP servers for the tests: the SDK's own McpServer class, served in-process over
 * streamable HTTP (stateful sessions) or SSE on node:http, and
 * @modelcontextprotocol/server-everything as a child process (streamable HTTP or stdio).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { createRequire } from 'node:module';
import { z } from 'zod';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { SSEServerTransport } from '@modelcontextprotocol/sdk/server/sse.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { isInitializeRequest } from '@modelcontextprotocol/sdk/types.js';
import { freePort } from './ports.js';

/** A 1×1 PNG. */
export const TINY_PNG = 'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==';

export interface ToolServer {
  /** The endpoint to register: `/mcp` (streamable HTTP) or `/sse`. */
  readonly url: string;
  readonly port: number;
  /** Names of tool calls the server saw cancelled (notifications/cancelled). */
  readonly cancelled: string[];
  /** Tool calls that started, by tool name. */
  readonly started: string[];
  /** Headers of the requests, as the server saw them. */
  readonly headers: Array<Record<string, string | string[] | undefined>>;
  /** Sessions opened (one per client connection). */
  sessions(): number;
  /** Registers a tool on every session (each sends tools/list_changed). */
  addTool(name: string, description: string): void;
  /** Stops answering: closes every socket at once, as a server that dies. */
  kill(): Promise<void>;
  close(): Promise<void>;
}

function readBody(req: IncomingMessage): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      try {
        resolve(text ? JSON.parse(text) : undefined);
      } catch (error) {
        reject(error);
      }
    });
    req.on('error', reject);
  });
}

/** The tools of the in-process server. */
function buildServer(state: { cancelled: string[]; started: string[]; extra: Array<{ name: string; description: string }> }): McpServer {
  const server = new McpServer({ name: 'test-tools', version: '1.0.0' }, { capabilities: { tools: { listChanged: true } } });
  server.registerTool('add', { description: 'Adds two numbers', inputSchema: { a: z.number().describe('first'), b: z.number().describe('second') } }, async ({ a, b }) => {
    state.started.push('add');
    return { content: [{ type: 'text', text: `The sum of ${a} and ${b} is ${a + b}.` }] };
  });
  server.registerTool('slow', { description: 'Waits, then answers', inputSchema: { ms: z.number() } }, async ({ ms }, extra) => {
    state.started.push('slow');
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, ms);
      extra.signal.addEventListener('abort', () => {
        clearTimeout(timer);
        state.cancelled.push('slow');
        resolve();
      });
    });
    return { content: [{ type: 'text', text: `waited ${ms} ms` }] };
  });
  server.registerTool('fail', { description: 'Reports a tool error', inputSchema: {} }, async () => ({ content: [{ type: 'text', text: 'the widget is broken' }], isError: true }));
  server.registerTool('picture', { description: 'Text and an image', inputSchema: {} }, async () => ({
    content: [
      { type: 'text', text: 'Here is a picture:' },
      { type: 'image', data: TINY_PNG, mimeType: 'image/png' },
    ],
  }));
  server.registerTool('weather.now', { description: 'Structured weather (no text part)', inputSchema: { city: z.string() } }, async ({ city }) => ({
    content: [],
    structuredContent: { city, temperature: 21.5, unit: 'C' },
  }));
  server.registerTool('long_text', { description: 'A long answer', inputSchema: { size: z.number() } }, async ({ size }) => ({ content: [{ type: 'text', text: 'x'.repeat(size) }] }));
  server.registerTool('whoami', { description: 'The authorization header it received', inputSchema: {} }, async (_args, extra) => ({
    content: [{ type: 'text', text: String(extra.requestInfo?.headers?.authorization ?? 'none') }],
  }));
  for (const tool of state.extra) registerExtra(server, tool.name, tool.description);
  return server;
}

function registerExtra(server: McpServer, name: string, description: string) {
  server.registerTool(name, { description, inputSchema: {} }, async () => ({ content: [{ type: 'text', text: `${name} ran` }] }));
}

/** The SDK's McpServer over streamable HTTP (`/mcp`) or SSE (`/sse` + `/messages`). */
export async function startToolServer(kind: 'streamable_http' | 'sse', listenPort = 0): Promise<ToolServer> {
  const state = { cancelled: [] as string[], started: [] as string[], extra: [] as Array<{ name: string; description: string }> };
  const servers: McpServer[] = [];
  const headers: ToolServer['headers'] = [];
  const httpTransports = new Map<string, StreamableHTTPServerTransport>();
  const sseTransports = new Map<string, SSEServerTransport>();
  const sockets = new Set<Socket>();

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    headers.push({ ...req.headers });
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    if (kind === 'streamable_http' && path === '/mcp') {
      const sessionId = req.headers['mcp-session-id'];
      const body = req.method === 'POST' ? await readBody(req) : undefined;
      let transport = typeof sessionId === 'string' ? httpTransports.get(sessionId) : undefined;
      if (!transport && req.method === 'POST' && isInitializeRequest(body)) {
        const created = new StreamableHTTPServerTransport({
          sessionIdGenerator: () => randomUUID(),
          onsessioninitialized: (id) => void httpTransports.set(id, created),
          onsessionclosed: (id) => void httpTransports.delete(id),
        });
        const server = buildServer(state);
        servers.push(server);
        await server.connect(created);
        transport = created;
      }
      if (!transport) {
        res.writeHead(404, { 'content-type': 'application/json' }).end(JSON.stringify({ jsonrpc: '2.0', error: { code: -32001, message: 'Session not found' }, id: null }));
        return;
      }
      await transport.handleRequest(req, res, body);
      return;
    }
    if (kind === 'sse' && path === '/sse' && req.method === 'GET') {
      const transport = new SSEServerTransport('/messages', res);
      sseTransports.set(transport.sessionId, transport);
      res.on('close', () => sseTransports.delete(transport.sessionId));
      const server = buildServer(state);
      servers.push(server);
      await server.connect(transport);
      return;
    }
    if (kind === 'sse' && path === '/messages' && req.method === 'POST') {
      const transport = sseTransports.get(new URL(req.url ?? '/', 'http://x').searchParams.get('sessionId') ?? '');
      if (!transport) {
        res.writeHead(404).end('unknown session');
        return;
      }
      await transport.handlePostMessage(req, res, await readBody(req));
      return;
    }
    res.writeHead(404).end();
  };

  const httpServer = http.createServer((req, res) => {
    handle(req, res).catch(() => {
      if (!res.headersSent) res.writeHead(500).end();
    });
  });
  httpServer.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => httpServer.listen(listenPort, '127.0.0.1', resolve));
  const port = (httpServer.address() as AddressInfo).port;
  const kill = async () => {
    httpServer.close();
    for (const socket of sockets) socket.destroy();
  };
  return {
    url: `http://127.0.0.1:${port}${kind === 'sse' ? '/sse' : '/mcp'}`,
    port,
    cancelled: state.cancelled,
    started: state.started,
    headers,
    sessions: () => servers.length,
    addTool(name, description) {
      state.extra.push({ name, description });
      for (const server of servers) if (server.isConnected()) registerExtra(server, name, description);
    },
    kill,
    async close() {
      await kill();
      await Promise.allSettled(servers.map((server) => server.close()));
    },
  };
}

const require = createRequire(import.meta.url);
/** The entry point of @modelcontextprotocol/server-everything. */
export const EVERYTHING_ENTRY = require.resolve('@modelcontextprotocol/server-everything/dist/index.js');

export interface ChildServer {
  readonly url: string;
  readonly process: ChildProcess;
  kill(): Promise<void>;
}

/** server-everything over streamable HTTP, as a child process on a free port. */
export async function startEverythingHttp(): Promise<ChildServer> {
  const port = await freePort();
  const child = spawn(process.execPath, [EVERYTHING_ENTRY, 'streamableHttp'], { env: { ...process.env, PORT: String(port) }, stdio: ['ignore', 'pipe', 'pipe'] });
  const url = `http://127.0.0.1:${port}/mcp`;
  const deadline = Date.now() + 20_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`server-everything exited with ${child.exitCode}`);
    try {
      await fetch(url, { method: 'GET' });
      break;
    } catch {
      if (Date.now() > deadline) throw new Error('server-everything did not start');
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
  return {
    url,
    process: child,
    kill: async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGKILL');
      await exited;
    },
  };
}
