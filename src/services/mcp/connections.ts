import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { SSEClientTransport } from '@modelcontextprotocol/sdk/client/sse.js';
import { StdioClientTransport, getDefaultEnvironment } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import { ErrorCode, McpError, type Tool as McpToolDefinition } from '@modelcontextprotocol/sdk/types.js';
import { AddressRefused, guardedFetch } from './address-guard.js';
import type { McpSecrets } from './secrets.js';

/**
 * Connections to MCP servers, one per server per instance, reused across calls and runs.
 * Bounded: at most `maxConnections` open (the least recently used idle one is closed to make
 * room), and one unused for `idleMs` is closed. A connection whose server's configuration
 * changed (configVersion) or that broke is replaced at the next use, which is how an instance
 * reconnects by itself.
 */

export type McpTransportKind = 'streamable_http' | 'sse' | 'stdio';

/** What it takes to connect to one server (secrets opened). */
export interface McpServerTarget {
  id: string;
  name: string;
  transport: McpTransportKind;
  url: string | null;
  command: string | null;
  args: string[];
  configVersion: number;
  secrets: McpSecrets;
}

export interface McpConnectionOptions {
  allowPrivate: boolean;
  stdioEnabled: boolean;
  connectTimeoutMs: number;
  maxConnections: number;
  idleMs: number;
  maxTools: number;
  /** The server said its tools changed (tools/list_changed). */
  onToolsChanged?: (serverId: string) => void;
  /** A connection opened, failed or broke: `error` null means connected. */
  onStatus?: (serverId: string, error: string | null) => void;
}

/** A failure to reach or talk to a server, with a message for the model and for McpServer.lastError. */
export class McpUnavailable extends Error {
  override name = 'McpUnavailable';
}

interface Entry {
  target: McpServerTarget;
  ready: Promise<Client>;
  client?: Client;
  inFlight: number;
  lastUsed: number;
  closing: boolean;
  probing: boolean;
  close: () => Promise<void>;
}

const STDERR_TAIL = 2000;

export class McpConnections {
  private readonly entries = new Map<string, Entry>();
  private readonly sweeper: NodeJS.Timeout;

  constructor(private readonly options: McpConnectionOptions) {
    this.sweeper = setInterval(() => this.sweepIdle(), Math.max(1000, Math.min(options.idleMs / 2, 60_000)));
    this.sweeper.unref();
  }

  /** Lists every tool (following cursors), at most `maxTools`. */
  async listTools(target: McpServerTarget, signal?: AbortSignal): Promise<McpToolDefinition[]> {
    return this.use(target, async (client) => {
      const tools: McpToolDefinition[] = [];
      let cursor: string | undefined;
      do {
        const page = await client.listTools(cursor ? { cursor } : undefined, { signal, timeout: this.options.connectTimeoutMs });
        tools.push(...page.tools);
        cursor = page.nextCursor;
      } while (cursor && tools.length < this.options.maxTools);
      return tools.slice(0, this.options.maxTools);
    });
  }

  /** Calls a tool. Aborting `signal` (or the timeout) sends notifications/cancelled to the server. */
  async callTool(target: McpServerTarget, name: string, args: Record<string, unknown>, options: { signal?: AbortSignal; timeoutMs: number }) {
    return this.use(target, (client) => client.callTool({ name, arguments: args }, undefined, { signal: options.signal, timeout: options.timeoutMs }));
  }

  /** Closes the server's connection here (its configuration changed or it was deleted). */
  async forget(serverId: string): Promise<void> {
    const entry = this.entries.get(serverId);
    if (entry) await this.dispose(serverId, entry);
  }

  async closeAll(): Promise<void> {
    clearInterval(this.sweeper);
    await Promise.allSettled([...this.entries].map(([id, entry]) => this.dispose(id, entry)));
  }

  private async use<T>(target: McpServerTarget, work: (client: Client) => Promise<T>): Promise<T> {
    const entry = await this.entryFor(target);
    entry.inFlight++;
    entry.lastUsed = Date.now();
    try {
      const client = await entry.ready;
      return await work(client);
    } catch (error) {
      // A closed connection is replaced at the next use.
      if (error instanceof McpError && error.code === ErrorCode.ConnectionClosed && !entry.closing) {
        this.options.onStatus?.(target.id, `connection closed: ${error.message}`);
        void this.dispose(target.id, entry);
      }
      throw error;
    } finally {
      entry.inFlight--;
      entry.lastUsed = Date.now();
    }
  }

  private async entryFor(target: McpServerTarget): Promise<Entry> {
    const existing = this.entries.get(target.id);
    if (existing && !existing.closing && existing.target.configVersion === target.configVersion) return existing;
    if (existing) await this.dispose(target.id, existing);
    this.makeRoom();
    const entry = this.open(target);
    this.entries.set(target.id, entry);
    entry.ready.catch(() => {
      if (this.entries.get(target.id) === entry) this.entries.delete(target.id);
    });
    return entry;
  }

  private makeRoom() {
    if (this.entries.size < this.options.maxConnections) return;
    const idle = [...this.entries].filter(([, entry]) => entry.inFlight === 0).sort((a, b) => a[1].lastUsed - b[1].lastUsed);
    const oldest = idle[0];
    if (!oldest) {
      throw new McpUnavailable(`every one of this server's ${this.options.maxConnections} MCP connections is busy (MCP_MAX_CONNECTIONS); try again later`);
    }
    void this.dispose(oldest[0], oldest[1]);
  }

  private open(target: McpServerTarget): Entry {
    const { transport, close: closeTransportResources, stderrTail } = this.transportFor(target);
    const client = new Client(
      { name: 'agentgraph', version: '0.1.0' },
      {
        capabilities: {},
        listChanged: {
          tools: {
            autoRefresh: false,
            debounceMs: 100,
            onChanged: () => this.options.onToolsChanged?.(target.id),
          },
        },
      },
    );
    const entry: Entry = {
      target,
      inFlight: 0,
      lastUsed: Date.now(),
      closing: false,
      probing: false,
      ready: undefined as unknown as Promise<Client>,
      close: async () => {
        if (transport instanceof StreamableHTTPClientTransport && transport.sessionId) {
          await Promise.race([transport.terminateSession().catch(() => {}), new Promise((resolve) => setTimeout(resolve, 500).unref())]);
        }
        await client.close().catch(() => {});
        await closeTransportResources();
      },
    };
    // A broken stream (the server died, or the network) may leave calls waiting for answers
    // that never come: a failed ping closes the connection, which fails them at once.
    client.onerror = (error) => {
      if (entry.closing || entry.probing || !entry.client) return;
      entry.probing = true;
      client.ping({ timeout: Math.min(this.options.connectTimeoutMs, 5000) }).then(
        () => {
          entry.probing = false;
        },
        () => {
          if (entry.closing) return;
          if (this.entries.get(target.id) === entry) this.entries.delete(target.id);
          entry.closing = true;
          this.options.onStatus?.(target.id, `connection lost: ${describeError(error)}`);
          void entry.close();
        },
      );
    };
    client.onclose = () => {
      // Before the handshake completes, a close is a failed connect: reported by the catch below.
      if (!entry.client || this.entries.get(target.id) !== entry || entry.closing) return;
      this.entries.delete(target.id);
      const tail = stderrTail();
      this.options.onStatus?.(target.id, `connection closed${tail ? `: ${tail}` : ''}`);
      void closeTransportResources();
    };
    entry.ready = client
      .connect(transport, { timeout: this.options.connectTimeoutMs })
      .then(() => {
        entry.client = client;
        this.options.onStatus?.(target.id, null);
        return client;
      })
      .catch(async (error: unknown) => {
        entry.closing = true;
        await client.close().catch(() => {});
        await closeTransportResources();
        const tail = stderrTail();
        const message = `could not connect to MCP server '${target.name}': ${describeError(error)}${tail ? ` (stderr: ${tail})` : ''}`;
        this.options.onStatus?.(target.id, message);
        throw new McpUnavailable(message);
      });
    return entry;
  }

  private transportFor(target: McpServerTarget): { transport: Transport; close: () => Promise<void>; stderrTail: () => string } {
    if (target.transport === 'stdio') {
      if (!this.options.stdioEnabled) throw new McpUnavailable('stdio MCP servers are disabled on this server (MCP_STDIO)');
      const transport = new StdioClientTransport({
        command: target.command ?? '',
        args: target.args,
        env: { ...getDefaultEnvironment(), ...target.secrets.env },
        stderr: 'pipe',
      });
      let tail = '';
      transport.stderr?.on('data', (chunk: Buffer) => {
        tail = (tail + chunk.toString('utf8')).slice(-STDERR_TAIL);
      });
      return { transport, close: async () => {}, stderrTail: () => tail.trim() };
    }
    const url = new URL(target.url ?? '');
    const guarded = guardedFetch(this.options.allowPrivate, this.options.connectTimeoutMs);
    const requestInit = { headers: target.secrets.headers };
    const transport =
      target.transport === 'sse'
        ? new SSEClientTransport(url, { requestInit, fetch: guarded.fetch })
        : new StreamableHTTPClientTransport(url, { requestInit, fetch: guarded.fetch, reconnectionOptions: { maxRetries: 2, initialReconnectionDelay: 500, maxReconnectionDelay: 2000, reconnectionDelayGrowFactor: 2 } });
    return { transport, close: () => guarded.close().catch(() => {}), stderrTail: () => '' };
  }

  private async dispose(serverId: string, entry: Entry) {
    if (this.entries.get(serverId) === entry) this.entries.delete(serverId);
    if (entry.closing) return;
    entry.closing = true;
    await entry.ready.then(
      () => entry.close(),
      () => {},
    );
  }

  private sweepIdle() {
    const now = Date.now();
    for (const [id, entry] of this.entries) {
      if (entry.inFlight === 0 && now - entry.lastUsed > this.options.idleMs) void this.dispose(id, entry);
    }
  }
}

/** A short, safe description of a connection or call failure. */
export function describeError(error: unknown): string {
  if (error instanceof AddressRefused) return error.message;
  if (error instanceof Error) {
    const cause = (error as { cause?: unknown }).cause;
    if (cause instanceof AddressRefused) return cause.message;
    const causeText = cause instanceof Error ? `: ${cause.message}` : '';
    return `${error.message}${causeText && !error.message.includes(causeText.slice(2)) ? causeText : ''}`.slice(0, 500);
  }
  return String(error).slice(0, 500);
}
