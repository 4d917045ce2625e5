import { Prisma, type McpServer, type Tool } from '../../generated/prisma/client.js';
import { newId } from '../../ids.js';
import type { ServiceContext } from '../platform/context.js';
import { AppError } from '../../errors.js';
import { MCP_TRANSPORTS, checkAddress, mcpServerName, type McpTransport } from '../mcp/mcp-servers.js';
import { mcpToolMetadata } from '../mcp/mcp-tools.js';
import type { AgentFile, AgentFileTool } from './format.js';
import type { Problem } from './validate.js';

/**
 * `mcp_servers` of agent files, in Letta's shape: `{id, server_type, server_name, server_url,
 * stdio_config (without env), metadata_}`. Header and env values never leave the server: an
 * export names them (metadata_.secret_names) so that whoever imports knows what to set again.
 * Import registers each server by name (an existing server of that name is reused as it is), then
 * links the file's external_mcp tools to them by Letta's `metadata_.mcp.server_name` (or the
 * `mcp:<server>` tag). Imported servers are not contacted: status UNKNOWN until first used.
 */

type Json = Record<string, unknown>;

export function exportMcpServer(server: McpServer, localId: string): Json {
  const stdio = server.transport === 'stdio';
  return {
    id: localId,
    server_type: server.transport,
    server_name: server.name,
    server_url: stdio ? null : server.url,
    stdio_config: stdio ? { server_name: server.name, type: 'stdio', command: server.command, args: server.args } : null,
    metadata_: {
      ...((server.metadata as Json | null) ?? {}),
      ...(server.headerNames.length || server.envNames.length ? { secret_names: { headers: server.headerNames, env: server.envNames } } : {}),
    },
  };
}

/** An exported MCP tool carries its server's file-local id in Letta's metadata. */
export function exportedToolMetadata(tool: Pick<Tool, 'metadata' | 'mcpServerId' | 'mcpToolName' | 'name'>, serverLocalId: string | undefined, serverName: string | undefined): Json {
  const metadata = (tool.metadata as Json | null) ?? {};
  if (!tool.mcpServerId || !serverLocalId || !serverName) return metadata;
  return { ...metadata, mcp: { server_name: serverName, server_id: serverLocalId, tool_name: tool.mcpToolName ?? tool.name } };
}

interface PlannedServer {
  localId: string;
  name: string;
  transport: McpTransport;
  url: string | null;
  command: string | null;
  args: string[];
  metadata: Json | null;
}

const str = (value: unknown) => (typeof value === 'string' && value ? value : null);

/** Checks the file's servers (names, transports, the SSRF guard, MCP_STDIO) before anything is written. */
export async function planMcpServers(ctx: ServiceContext, file: AgentFile): Promise<{ planned: PlannedServer[]; problems: Problem[] }> {
  const problems: Problem[] = [];
  const planned: PlannedServer[] = [];
  const mcp = ctx.runtime.mcp;
  for (const [index, entry] of (file.mcp_servers ?? []).entries()) {
    const at = `mcp_servers.${index}`;
    const raw = entry as Json;
    const name = mcpServerName.safeParse(raw.server_name);
    if (!name.success) {
      problems.push({ path: `${at}.server_name`, message: name.error.issues[0]!.message });
      continue;
    }
    const transport = raw.server_type as McpTransport;
    if (!MCP_TRANSPORTS.includes(transport)) {
      problems.push({ path: `${at}.server_type`, message: `unknown server type ${JSON.stringify(raw.server_type)}; expected one of ${MCP_TRANSPORTS.join(', ')}` });
      continue;
    }
    const stdio = (raw.stdio_config ?? null) as Json | null;
    const server: PlannedServer = {
      localId: String(raw.id),
      name: name.data,
      transport,
      url: transport === 'stdio' ? null : str(raw.server_url),
      command: transport === 'stdio' ? str(stdio?.command) : null,
      args: transport === 'stdio' && Array.isArray(stdio?.args) ? stdio.args.filter((arg): arg is string => typeof arg === 'string') : [],
      metadata: raw.metadata_ && typeof raw.metadata_ === 'object' ? (raw.metadata_ as Json) : null,
    };
    const existing = await ctx.prisma.mcpServer.findFirst({ where: { organizationId: ctx.orgId, name: server.name }, select: { id: true } });
    if (!existing) {
      if (transport === 'stdio' && !mcp.stdioEnabled) {
        problems.push({ path: `${at}.server_type`, message: 'stdio MCP servers are disabled on this server (MCP_STDIO)' });
        continue;
      }
      if (transport === 'stdio' && !server.command) problems.push({ path: `${at}.stdio_config.command`, message: 'is required for a stdio server' });
      if (transport !== 'stdio') {
        if (!server.url) problems.push({ path: `${at}.server_url`, message: `is required for a ${transport} server` });
        else {
          try {
            await checkAddress(server.url, mcp, `${at}.server_url`);
          } catch (error) {
            if (!(error instanceof AppError)) throw error;
            problems.push({ path: `${at}.server_url`, message: error.message.replace(/^[^:]+: /, '') });
          }
        }
      }
    }
    planned.push(server);
  }
  return { planned, problems };
}

/** Step 1 of Letta's order: the servers, by name. Returns the servers by name. */
export async function importMcpServers(tx: Prisma.TransactionClient, ctx: ServiceContext, planned: PlannedServer[]): Promise<Map<string, { id: string; name: string }>> {
  const byName = new Map<string, { id: string; name: string }>();
  for (const server of planned) {
    const existing = await tx.mcpServer.findFirst({ where: { organizationId: ctx.orgId, name: server.name }, select: { id: true, name: true } });
    if (existing) {
      byName.set(server.name, existing);
      continue;
    }
    const { secret_names: _names, ...metadata } = server.metadata ?? {};
    const created = await tx.mcpServer.create({
      data: {
        id: newId('McpServer'),
        organizationId: ctx.orgId,
        name: server.name,
        transport: server.transport,
        url: server.url,
        command: server.command,
        args: server.args,
        metadata: Object.keys(metadata).length ? (metadata as Prisma.InputJsonValue) : Prisma.DbNull,
      },
      select: { id: true, name: true },
    });
    byName.set(server.name, created);
  }
  // Servers not in the file but named by its tools may exist here already.
  return byName;
}

/** The server an external_mcp tool of the file names: Letta's metadata_.mcp.server_name, else its `mcp:<server>` tag. */
export function mcpServerNameOf(tool: AgentFileTool): string | null {
  const metadata = (tool.metadata_ as Json | null | undefined)?.mcp as Json | undefined;
  const fromMetadata = str(metadata?.server_name);
  if (fromMetadata) return fromMetadata;
  const tag = (tool.tags ?? []).find((candidate) => candidate.startsWith('mcp:') && candidate.length > 4);
  return tag ? tag.slice(4) : null;
}

/** The link of a file's MCP tool to a server here, with its metadata rewritten to the new server id. */
export async function mcpLinkOf(tx: Prisma.TransactionClient, ctx: ServiceContext, tool: AgentFileTool, servers: Map<string, { id: string; name: string }>) {
  if (tool.tool_type !== 'external_mcp') return null;
  const serverName = mcpServerNameOf(tool);
  if (!serverName) return null;
  let server = servers.get(serverName);
  if (!server) {
    const found = await tx.mcpServer.findFirst({ where: { organizationId: ctx.orgId, name: serverName }, select: { id: true, name: true } });
    if (!found) return null;
    server = found;
    servers.set(serverName, found);
  }
  const toolName = str(((tool.metadata_ as Json | null | undefined)?.mcp as Json | undefined)?.tool_name) ?? tool.name;
  return { mcpServerId: server.id, mcpToolName: toolName, tags: [`mcp:${server.name}`], metadata: mcpToolMetadata(server, toolName) };
}

/** The file's MCP tools, as each server lists them (name, description, input schema), for McpServer.tools. */
export async function recordImportedServerTools(tx: Prisma.TransactionClient, serverIds: string[]): Promise<void> {
  for (const id of serverIds) {
    const server = await tx.mcpServer.findUniqueOrThrow({ where: { id }, select: { tools: true, toolsListedAt: true } });
    if (server.toolsListedAt) continue; // listed by the server itself: that list stands
    const tools = await tx.tool.findMany({ where: { mcpServerId: id }, orderBy: { name: 'asc' }, select: { mcpToolName: true, name: true, description: true, jsonSchema: true } });
    const listed = tools.map((tool) => ({
      name: tool.mcpToolName ?? tool.name,
      description: tool.description,
      inputSchema: ((tool.jsonSchema as Json | null)?.parameters ?? { type: 'object' }) as Json,
    }));
    await tx.mcpServer.update({ where: { id }, data: { tools: listed as unknown as Prisma.InputJsonValue } });
  }
}
