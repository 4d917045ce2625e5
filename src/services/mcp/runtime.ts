import type { PrismaClient } from '../../db/client.js';
import type { Logger } from '../../logger.js';
import { McpConnections, type McpServerTarget, type McpTransportKind } from './connections.js';
import { openSecrets } from './secrets.js';

/** The MCP part of the runtime: the connection pool and the operator's settings. */
export interface McpRuntime {
  readonly connections: McpConnections;
  readonly secretsKey: Buffer | undefined;
  readonly toolTimeoutMs: number;
  readonly allowPrivate: boolean;
  readonly stdioEnabled: boolean;
}

export interface McpSettings {
  secretsKey: Buffer | undefined;
  toolTimeoutMs: number;
  connectTimeoutMs: number;
  allowPrivate: boolean;
  stdioEnabled: boolean;
  maxConnections: number;
  idleMs: number;
  maxTools: number;
}

/** The stored row fields a connection needs. */
export interface StoredMcpServer {
  id: string;
  name: string;
  transport: string;
  url: string | null;
  command: string | null;
  args: string[];
  configVersion: number;
  secrets: string | null;
}

export function targetOf(server: StoredMcpServer, secretsKey: Buffer | undefined): McpServerTarget {
  return {
    id: server.id,
    name: server.name,
    transport: server.transport as McpTransportKind,
    url: server.url,
    command: server.command,
    args: server.args,
    configVersion: server.configVersion,
    secrets: openSecrets(server.secrets, secretsKey),
  };
}

/** Records what an instance saw of a server; writes only when the status or error changed. */
export async function recordStatus(prisma: PrismaClient, serverId: string, error: string | null): Promise<void> {
  const status = error === null ? 'connected' : 'failed';
  await prisma.mcpServer.updateMany({
    where: { id: serverId, NOT: { status, lastError: error } },
    data: { status, lastError: error, statusChangedAt: new Date() },
  });
}

/**
 * Builds the pool. `refreshTools` is called when a server announces tools/list_changed (wired by
 * the caller to the service that lists and stores them).
 */
export function createMcpRuntime(
  prisma: PrismaClient,
  settings: McpSettings,
  logger: Logger,
  refreshTools: (runtime: McpRuntime, serverId: string) => Promise<unknown>,
): McpRuntime {
  const statusWrites = new Map<string, Promise<void>>();
  const connections: McpConnections = new McpConnections({
    allowPrivate: settings.allowPrivate,
    stdioEnabled: settings.stdioEnabled,
    connectTimeoutMs: settings.connectTimeoutMs,
    maxConnections: settings.maxConnections,
    idleMs: settings.idleMs,
    maxTools: settings.maxTools,
    onStatus: (serverId, error) => {
      // One write at a time per server, so the last status seen is the one that stays.
      const previous = statusWrites.get(serverId) ?? Promise.resolve();
      const write = previous
        .then(() => recordStatus(prisma, serverId, error))
        .catch((failure: unknown) => logger.warn({ err: failure, serverId }, 'could not record MCP server status'))
        .finally(() => {
          if (statusWrites.get(serverId) === write) statusWrites.delete(serverId);
        });
      statusWrites.set(serverId, write);
    },
    onToolsChanged: (serverId) => {
      refreshTools(runtime, serverId).catch((failure: unknown) => logger.warn({ err: failure, serverId }, 'MCP tools/list_changed refresh failed'));
    },
  });
  const runtime: McpRuntime = {
    connections,
    secretsKey: settings.secretsKey,
    toolTimeoutMs: settings.toolTimeoutMs,
    allowPrivate: settings.allowPrivate,
    stdioEnabled: settings.stdioEnabled,
  };
  return runtime;
}
