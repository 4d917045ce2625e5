import { z } from 'zod';
import { Prisma, type McpServer } from '../../generated/prisma/client.js';
import type { PrismaClient } from '../../db/client.js';
import { isUniqueViolation } from '../../db/errors.js';
import { AppError, assertId, badInput, conflict, notFound, parseInput } from '../../errors.js';
import { newId } from '../../ids.js';
import type { ServiceContext } from '../platform/context.js';
import { paginate, type Page, type PageArgs } from '../platform/pagination.js';
import { AddressRefused, checkUrlAddresses } from './address-guard.js';
import { describeError } from './connections.js';
import type { McpRuntime } from './runtime.js';
import { recordStatus, targetOf } from './runtime.js';
import { sealSecrets, openSecrets, SecretsUnavailable, type McpSecrets } from './secrets.js';
import { mcpToolMetadata, syncServerTools } from './mcp-tools.js';

/**
 * MCP servers of an organization: registering them (streamable HTTP, SSE, and stdio where the
 * operator enables it), listing their tools into the organization's tools, and keeping both in
 * step. Header and env values are write-only (see secrets.ts).
 */

export const MCP_TRANSPORTS = ['streamable_http', 'sse', 'stdio'] as const;
export type McpTransport = (typeof MCP_TRANSPORTS)[number];

export const mcpServerName = z
  .string()
  .trim()
  .min(1, 'must not be empty')
  .max(64, 'must be at most 64 characters')
  .regex(/^[A-Za-z0-9_.-]+$/, 'must contain only letters, digits, "_", "." and "-"');
const pairs = (what: string, keyPattern: RegExp) =>
  z
    .array(z.object({ name: z.string().regex(keyPattern, `must be a valid ${what} name`), value: z.string().max(8192, 'must be at most 8192 characters') }))
    .max(50, `must hold at most 50 ${what}s`)
    .superRefine((list, issue) => {
      const seen = new Set<string>();
      for (const [index, entry] of list.entries()) {
        const key = what === 'header' ? entry.name.toLowerCase() : entry.name;
        if (seen.has(key)) issue.addIssue({ code: 'custom', path: [index, 'name'], message: `'${entry.name}' is given twice` });
        seen.add(key);
      }
    });
const headers = pairs('header', /^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,256}$/);
const env = pairs('environment variable', /^[A-Za-z_][A-Za-z0-9_]{0,255}$/);
const url = z
  .string()
  .max(2048, 'must be at most 2048 characters')
  .superRefine((text, issue) => {
    let parsed: URL;
    try {
      parsed = new URL(text);
    } catch {
      issue.addIssue({ code: 'custom', message: 'must be an absolute http:// or https:// URL' });
      return;
    }
    if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') issue.addIssue({ code: 'custom', message: 'must be an http:// or https:// URL' });
    if (parsed.username || parsed.password) issue.addIssue({ code: 'custom', message: 'must not carry credentials; send them as headers' });
  });
const command = z.string().min(1, 'must not be empty').max(1024);
const args = z.array(z.string().max(4096)).max(100, 'must hold at most 100 arguments');

const createInput = z.object({
  name: mcpServerName,
  transport: z.enum(MCP_TRANSPORTS),
  url: url.nullish(),
  headers: headers.nullish(),
  command: command.nullish(),
  args: args.nullish(),
  env: env.nullish(),
});

const updateInput = z.object({
  id: z.string(),
  name: mcpServerName.nullish(),
  transport: z.enum(MCP_TRANSPORTS).nullish(),
  url: url.nullish(),
  headers: headers.nullish(),
  command: command.nullish(),
  args: args.nullish(),
  env: env.nullish(),
});

export type CreateMcpServerInput = z.input<typeof createInput>;
export type UpdateMcpServerInput = z.input<typeof updateInput>;

interface Shape {
  transport: McpTransport;
  url: string | null;
  command: string | null;
  args: string[];
  headers: Array<{ name: string; value: string }> | null;
  env: Array<{ name: string; value: string }> | null;
}

/** The fields a transport needs and the ones it must not have. */
function checkShape(shape: Shape, mcp: McpRuntime) {
  if (shape.transport === 'stdio') {
    if (!mcp.stdioEnabled) {
      throw new AppError('FORBIDDEN', 'stdio MCP servers are disabled on this server; the operator enables them with MCP_STDIO=enabled', { path: 'input.transport' });
    }
    if (!shape.command) throw badInput('input.command', 'is required for a stdio server');
    if (shape.url) throw badInput('input.url', 'is not used by a stdio server; give command and args');
    if (shape.headers?.length) throw badInput('input.headers', 'are not used by a stdio server; give env');
  } else {
    if (!shape.url) throw badInput('input.url', `is required for a ${shape.transport === 'sse' ? 'SSE' : 'streamable HTTP'} server`);
    if (shape.command || shape.args.length) throw badInput('input.command', 'is only used by stdio servers');
    if (shape.env?.length) throw badInput('input.env', 'is only used by stdio servers; give headers');
  }
}

/** The SSRF guard at the door: a refused address is the caller's input problem. */
export async function checkAddress(rawUrl: string, mcp: McpRuntime, path = 'input.url'): Promise<void> {
  try {
    await checkUrlAddresses(new URL(rawUrl), mcp.allowPrivate);
  } catch (error) {
    if (error instanceof AddressRefused) throw badInput(path, error.message);
    throw badInput(path, `the host could not be resolved (${describeError(error)})`);
  }
}

const toRecord = (list: Array<{ name: string; value: string }> | null | undefined) => Object.fromEntries((list ?? []).map((entry) => [entry.name, entry.value]));

export async function createMcpServer(ctx: ServiceContext, raw: CreateMcpServerInput): Promise<McpServer> {
  const input = parseInput(createInput, raw ?? {});
  const mcp = ctx.runtime.mcp;
  const shape: Shape = { transport: input.transport, url: input.url ?? null, command: input.command ?? null, args: input.args ?? [], headers: input.headers ?? null, env: input.env ?? null };
  checkShape(shape, mcp);
  if (shape.url) await checkAddress(shape.url, mcp);
  const secrets: McpSecrets = { headers: toRecord(input.headers), env: toRecord(input.env) };
  let server: McpServer;
  try {
    server = await ctx.prisma.mcpServer.create({
      data: {
        id: newId('McpServer'),
        organizationId: ctx.orgId,
        name: input.name,
        transport: input.transport,
        url: shape.url,
        command: shape.command,
        args: shape.args,
        headerNames: Object.keys(secrets.headers),
        envNames: Object.keys(secrets.env),
        secrets: sealSecrets(secrets, mcp.secretsKey),
      },
    });
  } catch (error) {
    if (isUniqueViolation(error)) throw conflict(`An MCP server named '${input.name}' already exists`, { name: input.name });
    throw error;
  }
  return listAndStoreTools(ctx.prisma, mcp, server.id);
}

export async function updateMcpServer(ctx: ServiceContext, raw: UpdateMcpServerInput): Promise<McpServer> {
  const input = parseInput(updateInput, raw ?? {});
  const current = await getMcpServer(ctx, input.id);
  const mcp = ctx.runtime.mcp;
  const transport = input.transport ?? (current.transport as McpTransport);
  const transportChanged = transport !== current.transport;
  // Moving between HTTP and stdio drops the fields of the old kind unless they are given again.
  const crossed = transportChanged && (transport === 'stdio') !== (current.transport === 'stdio');
  const shape: Shape = {
    transport,
    url: input.url !== undefined && input.url !== null ? input.url : crossed ? null : current.url,
    command: input.command ?? (crossed ? null : current.command),
    args: input.args ?? (crossed ? [] : current.args),
    headers: input.headers ?? null,
    env: input.env ?? null,
  };
  checkShape(shape, mcp);
  if (shape.url && shape.url !== current.url) await checkAddress(shape.url, mcp);
  const secretsChanged = input.headers != null || input.env != null || crossed;
  let secretsField: { secrets?: string | null; headerNames?: string[]; envNames?: string[] } = {};
  if (secretsChanged) {
    let kept: McpSecrets = { headers: {}, env: {} };
    if (!crossed) {
      try {
        kept = openSecrets(current.secrets, mcp.secretsKey);
      } catch (error) {
        // Unreadable secrets can only be replaced, not partly kept.
        if (!(error instanceof SecretsUnavailable)) throw error;
      }
    }
    const secrets: McpSecrets = {
      headers: input.headers != null ? toRecord(input.headers) : kept.headers,
      env: input.env != null ? toRecord(input.env) : kept.env,
    };
    secretsField = { secrets: sealSecrets(secrets, mcp.secretsKey), headerNames: Object.keys(secrets.headers), envNames: Object.keys(secrets.env) };
  }
  const connectionChanged =
    secretsChanged || transportChanged || shape.url !== current.url || shape.command !== current.command || JSON.stringify(shape.args) !== JSON.stringify(current.args);
  const renamed = input.name != null && input.name !== current.name;
  try {
    await ctx.prisma.$transaction(async (tx) => {
      await tx.mcpServer.update({
        where: { id: current.id },
        data: {
          ...(renamed ? { name: input.name! } : {}),
          transport,
          url: shape.url,
          command: shape.command,
          args: shape.args,
          ...secretsField,
          ...(connectionChanged ? { configVersion: { increment: 1 }, status: 'unknown', lastError: null, statusChangedAt: new Date() } : {}),
        },
      });
      if (renamed) await retagTools(tx, current.id, input.name!);
    });
  } catch (error) {
    if (isUniqueViolation(error)) throw conflict(`An MCP server named '${input.name}' already exists`, { name: input.name });
    throw error;
  }
  if (!connectionChanged) return getMcpServer(ctx, current.id);
  await mcp.connections.forget(current.id);
  return listAndStoreTools(ctx.prisma, mcp, current.id);
}

/** Tools carry their server's name (Letta's `mcp:<server>` tag and metadata). */
async function retagTools(tx: Prisma.TransactionClient, serverId: string, serverName: string) {
  const tools = await tx.tool.findMany({ where: { mcpServerId: serverId }, select: { id: true, name: true, mcpToolName: true } });
  for (const tool of tools) {
    await tx.tool.update({ where: { id: tool.id }, data: { tags: [`mcp:${serverName}`], metadata: mcpToolMetadata({ id: serverId, name: serverName }, tool.mcpToolName ?? tool.name) } });
  }
}

export async function deleteMcpServer(ctx: ServiceContext, id: string): Promise<{ id: string; toolIds: string[] }> {
  const server = await getMcpServer(ctx, id);
  const tools = await ctx.prisma.tool.findMany({ where: { mcpServerId: server.id }, select: { id: true } });
  // Its tools (and their attachments to agents) go with it.
  await ctx.prisma.mcpServer.delete({ where: { id: server.id } });
  await ctx.runtime.mcp.connections.forget(server.id);
  return { id: server.id, toolIds: tools.map((tool) => tool.id) };
}

/** Lists the tools again. A server that cannot be reached is returned with status failed and its tools as they were. */
export async function refreshMcpServer(ctx: ServiceContext, id: string): Promise<McpServer> {
  const server = await getMcpServer(ctx, id);
  return listAndStoreTools(ctx.prisma, ctx.runtime.mcp, server.id);
}

/** Connects (or reuses the connection), lists the tools and stores them; failures become the server's status. */
export async function listAndStoreTools(prisma: PrismaClient, mcp: McpRuntime, serverId: string): Promise<McpServer> {
  const server = await prisma.mcpServer.findUniqueOrThrow({ where: { id: serverId } });
  try {
    const listed = await mcp.connections.listTools(targetOf(server, mcp.secretsKey));
    await syncServerTools(prisma, server, listed);
  } catch (error) {
    const message = error instanceof SecretsUnavailable ? error.message : describeError(error);
    await recordStatus(prisma, server.id, message);
  }
  return prisma.mcpServer.findUniqueOrThrow({ where: { id: serverId } });
}

/** Prisma include/select chosen by the GraphQL layer. */
export type McpServerQueryShape = Pick<Prisma.McpServerFindManyArgs, 'include' | 'select'>;

export async function getMcpServer(ctx: ServiceContext, id: string, shape: McpServerQueryShape = {}): Promise<McpServer> {
  assertId('McpServer', id, 'id');
  const server = await ctx.prisma.mcpServer.findFirst({ ...shape, where: { id, organizationId: ctx.orgId } } as Prisma.McpServerFindFirstArgs);
  if (!server) throw notFound('McpServer', id);
  return server;
}

export async function listMcpServers(ctx: ServiceContext, args: PageArgs, shape: McpServerQueryShape = {}): Promise<Page<McpServer>> {
  for (const key of ['after', 'before'] as const) {
    if (args[key] != null) assertId('McpServer', args[key]!, key);
  }
  const where = { organizationId: ctx.orgId };
  return paginate(
    args,
    { field: 'name', nullable: false, direction: 'asc' },
    where,
    async (id) => {
      const row = await ctx.prisma.mcpServer.findFirst({ where: { id, organizationId: ctx.orgId }, select: { id: true, name: true } });
      return row ? { id: row.id, value: row.name } : undefined;
    },
    (query) => ctx.prisma.mcpServer.findMany({ ...shape, ...query } as Prisma.McpServerFindManyArgs) as Promise<McpServer[]>,
    (where) => ctx.prisma.mcpServer.count({ where: where as Prisma.McpServerWhereInput }),
  );
}
