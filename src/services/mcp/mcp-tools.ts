import { ErrorCode, McpError, type Tool as McpToolDefinition } from '@modelcontextprotocol/sdk/types.js';
import { Prisma, type McpServer } from '../../generated/prisma/client.js';
import type { PrismaClient } from '../../db/client.js';
import { ToolExecutionError } from '../../errors.js';
import { newId } from '../../ids.js';
import type { ServiceContext } from '../platform/context.js';
import { McpUnavailable, describeError } from './connections.js';
import { renderToolResult } from './render.js';
import { recordStatus, targetOf } from './runtime.js';
import { SecretsUnavailable } from './secrets.js';

/**
 * MCP tools as tools of the organization (tool type external_mcp), and their execution for the
 * agent loop. A listed MCP tool becomes a Tool row linked to its server (mcpServerId,
 * mcpToolName), tagged `mcp:<server>` with Letta's metadata `{mcp: {server_name, server_id}}`,
 * so attaching, approvals, tool rules and payload previews treat it like any tool.
 */

export interface ListedMcpTool {
  name: string;
  description: string | null;
  inputSchema: Record<string, unknown>;
}

const TOOL_NAME_MAX = 48;

/** A tool name the models accept (letters, digits, _ and -, at most 48), from an MCP tool's name. */
export function sanitizeToolName(name: string): string {
  let clean = name.replace(/[^A-Za-z0-9_-]/g, '_');
  if (!/^[A-Za-z_]/.test(clean)) clean = `_${clean}`;
  return clean.slice(0, TOOL_NAME_MAX);
}

/** The arguments' JSON Schema as the model needs it: an object schema with properties and required. */
function parametersOf(schema: Record<string, unknown>): Record<string, unknown> {
  const { $schema: _ignored, ...rest } = schema;
  return { ...rest, type: 'object', properties: rest.properties ?? {}, required: Array.isArray(rest.required) ? rest.required : [] };
}

export function listedTool(tool: McpToolDefinition): ListedMcpTool {
  return {
    name: tool.name,
    description: tool.description ?? tool.title ?? null,
    inputSchema: (tool.inputSchema ?? { type: 'object' }) as Record<string, unknown>,
  };
}

/** Letta's metadata of an MCP tool (`{mcp: {server_name, server_id}}`), plus the tool's name on the server. */
export function mcpToolMetadata(server: Pick<McpServer, 'id' | 'name'>, toolName: string): Prisma.InputJsonValue {
  return { mcp: { server_name: server.name, server_id: server.id, tool_name: toolName } };
}

/** Tool row fields of one MCP tool. */
function toolFields(server: Pick<McpServer, 'id' | 'name'>, toolName: string, listed: ListedMcpTool) {
  return {
    description: listed.description,
    toolType: 'external_mcp',
    sourceType: 'mcp',
    jsonSchema: { name: toolName, description: listed.description ?? '', parameters: parametersOf(listed.inputSchema) } as Prisma.InputJsonValue,
    tags: [`mcp:${server.name}`],
    metadata: mcpToolMetadata(server, listed.name),
    mcpServerId: server.id,
    mcpToolName: listed.name,
  };
}

/**
 * Stores what the server listed: the server's tool list, and one Tool per MCP tool. An MCP tool
 * takes its own (sanitized) name; where another tool of the organization has it, it is named
 * `<server>__<tool>`; where that is taken too, it is listed on the server but not made a Tool.
 * Tools the server no longer lists are deleted (and detached).
 */
export async function syncServerTools(prisma: PrismaClient, server: McpServer, definitions: McpToolDefinition[]): Promise<void> {
  const listed = definitions.map(listedTool);
  await prisma.$transaction(async (tx) => {
    const mine = await tx.tool.findMany({ where: { mcpServerId: server.id }, select: { id: true, name: true, mcpToolName: true } });
    const byMcpName = new Map(mine.map((tool) => [tool.mcpToolName, tool]));
    const candidates = listed.flatMap((tool) => [sanitizeToolName(tool.name), sanitizeToolName(`${server.name}__${tool.name}`)]);
    const others = await tx.tool.findMany({
      where: { organizationId: server.organizationId, name: { in: candidates }, NOT: { mcpServerId: server.id } },
      select: { name: true },
    });
    const taken = new Set(others.map((tool) => tool.name));
    const keep = new Set<string>();
    for (const tool of listed) {
      const existing = byMcpName.get(tool.name);
      const preferred = [sanitizeToolName(tool.name), sanitizeToolName(`${server.name}__${tool.name}`)];
      const toolName = existing?.name ?? preferred.find((candidate) => !taken.has(candidate));
      if (!toolName) continue;
      taken.add(toolName);
      keep.add(tool.name);
      const fields = toolFields(server, toolName, tool);
      if (existing) await tx.tool.update({ where: { id: existing.id }, data: fields });
      else await tx.tool.create({ data: { id: newId('Tool'), organizationId: server.organizationId, name: toolName, ...fields } });
    }
    const gone = mine.filter((tool) => !keep.has(tool.mcpToolName ?? '')).map((tool) => tool.id);
    if (gone.length) await tx.tool.deleteMany({ where: { id: { in: gone } } });
    await tx.mcpServer.update({
      where: { id: server.id },
      data: { tools: listed as unknown as Prisma.InputJsonValue, toolsListedAt: new Date() },
    });
  });
}

/** The loop's view of an MCP tool: which server and which tool there. */
export interface McpToolRef {
  serverId: string;
  toolName: string;
}

/**
 * Calls an MCP tool for the agent loop and returns the text the model sees. Every failure (a
 * tool error, an unreachable server, one that dies mid-call, a timeout, a cancel) is a
 * ToolExecutionError: the model sees it as a failed tool result and the run goes on.
 */
export async function executeMcpTool(ctx: ServiceContext, ref: McpToolRef, args: Record<string, unknown>, signal: AbortSignal): Promise<string> {
  const mcp = ctx.runtime.mcp;
  const server = await ctx.prisma.mcpServer.findFirst({ where: { id: ref.serverId, organizationId: ctx.orgId } });
  if (!server) throw new ToolExecutionError(`Error: the MCP server of tool '${ref.toolName}' no longer exists`);
  let result;
  try {
    result = await mcp.connections.callTool(targetOf(server, mcp.secretsKey), ref.toolName, args, { signal, timeoutMs: mcp.toolTimeoutMs });
  } catch (error) {
    throw new ToolExecutionError(`Error: ${await failureText(ctx, server, ref.toolName, error, signal)}`);
  }
  const rendered = renderToolResult(result);
  if (rendered.isError) throw new ToolExecutionError(rendered.text);
  return rendered.text;
}

async function failureText(ctx: ServiceContext, server: McpServer, toolName: string, error: unknown, signal: AbortSignal): Promise<string> {
  if (signal.aborted) return `the call to MCP tool '${toolName}' was cancelled`;
  if (error instanceof SecretsUnavailable) return `MCP server '${server.name}' cannot be used: ${error.message}`;
  if (error instanceof McpUnavailable) return error.message;
  if (error instanceof McpError) {
    if (error.code === ErrorCode.RequestTimeout) return `MCP tool '${toolName}' on server '${server.name}' timed out after ${ctx.runtime.mcp.toolTimeoutMs} ms`;
    if (error.code === ErrorCode.ConnectionClosed) return `MCP server '${server.name}' closed the connection during the call to '${toolName}'`;
    return error.message;
  }
  // A transport failure (the server went away): the server's status shows it.
  const message = `MCP server '${server.name}' failed during the call to '${toolName}': ${describeError(error)}`;
  await recordStatus(ctx.prisma, server.id, message).catch(() => {});
  return message;
}
