import { Ajv } from 'ajv';
import { z } from 'zod';
import { Prisma, type Tool } from '../../generated/prisma/client.js';
import { BUILTIN_TOOLS } from '../../agent/tools/builtin.js';
import type { PrismaClient } from '../../db/client.js';
import { newId } from '../../ids.js';
import type { ServiceContext } from '../platform/context.js';
import { AppError, assertId, badInput, conflict, notFound, parseInput } from '../../errors.js';
import { isUniqueViolation } from '../../db/errors.js';
import { paginate, type Page, type PageArgs } from '../platform/pagination.js';
import { assertAgentInOrg, type Db } from '../platform/scope.js';

/**
 * Tools: the built-in ones (defined in code, registered in every organization) and client-side
 * tools that callers declare with a JSON schema. No tool code ever runs on the server.
 */

/** Registers or refreshes the built-in tools of one organization; safe to run at every start. */
export async function syncBuiltinTools(prisma: PrismaClient, orgId: string): Promise<void> {
  await prisma.$transaction(
    BUILTIN_TOOLS.map((tool) => {
      const fields = {
        description: tool.description,
        toolType: tool.toolType,
        sourceType: 'builtin',
        jsonSchema: tool.jsonSchema as unknown as Prisma.InputJsonValue,
        returnCharLimit: tool.returnCharLimit ?? 50_000,
        defaultRequiresApproval: tool.defaultRequiresApproval ?? false,
      };
      return prisma.tool.upsert({
        where: { organizationId_name: { organizationId: orgId, name: tool.name } },
        create: { id: newId('Tool'), organizationId: orgId, name: tool.name, ...fields },
        update: fields,
      });
    }),
  );
}

export async function syncBuiltinToolsEverywhere(prisma: PrismaClient): Promise<void> {
  for (const { id } of await prisma.organization.findMany({ select: { id: true } })) await syncBuiltinTools(prisma, id);
}

const ajv = new Ajv({ strict: false, allErrors: true });

const toolName = z
  .string()
  .min(1, 'must not be empty')
  .max(48, 'must be at most 48 characters')
  .regex(/^[A-Za-z_][A-Za-z0-9_-]*$/, 'must start with a letter or "_" and contain only letters, digits, "_" and "-"');

/** The JSON Schema of a tool's arguments: valid JSON Schema, describing an object. */
const parametersSchema = z.record(z.string(), z.unknown()).superRefine((schema, issue) => {
  if (!ajv.validateSchema(schema)) {
    const first = ajv.errors?.[0];
    issue.addIssue({ code: 'custom', message: `is not valid JSON Schema: ${first?.instancePath || '/'} ${first?.message ?? ''}`.trim() });
    return;
  }
  if (schema.type !== 'object') issue.addIssue({ code: 'custom', message: 'must describe an object (type: "object")' });
});

export const createToolInput = z.object({
  name: toolName,
  description: z.string().min(1, 'must not be empty').max(10_000),
  parameters: parametersSchema.optional().transform((schema) => schema ?? { type: 'object', properties: {}, required: [] }),
  tags: z.array(z.string().trim().min(1).max(100)).max(100).nullish(),
  returnCharLimit: z.number().int().min(1).max(1_000_000).nullish(),
  defaultRequiresApproval: z.boolean().nullish(),
});

export async function createTool(ctx: ServiceContext, raw: Record<string, unknown>): Promise<Tool> {
  const input = parseInput(createToolInput, raw ?? {});
  const existing = await ctx.prisma.tool.findUnique({ where: { organizationId_name: { organizationId: ctx.orgId, name: input.name } }, select: { id: true } });
  if (existing) throw conflict(`A tool named '${input.name}' already exists`, { name: input.name, toolId: existing.id });
  const jsonSchema = { name: input.name, description: input.description, parameters: input.parameters };
  try {
    return await ctx.prisma.tool.create({
      data: {
        id: newId('Tool'),
        organizationId: ctx.orgId,
        name: input.name,
        description: input.description,
        toolType: 'custom',
        sourceType: 'json',
        jsonSchema: jsonSchema as Prisma.InputJsonValue,
        tags: input.tags ?? [],
        returnCharLimit: input.returnCharLimit ?? 50_000,
        defaultRequiresApproval: input.defaultRequiresApproval ?? false,
      },
    });
  } catch (error) {
    if (isUniqueViolation(error)) {
      throw conflict(`A tool named '${input.name}' already exists`, { name: input.name });
    }
    throw error;
  }
}

export async function deleteTool(ctx: ServiceContext, id: string): Promise<string> {
  const tool = await getTool(ctx, id);
  if (tool.toolType === 'external_mcp') {
    throw new AppError('FORBIDDEN', `'${tool.name}' is served by an MCP server; refresh or delete the server (refreshMcpServer, deleteMcpServer) instead`);
  }
  if (tool.toolType !== 'custom') throw new AppError('FORBIDDEN', `'${tool.name}' is a built-in tool and cannot be deleted`);
  await ctx.prisma.tool.delete({ where: { id } });
  return id;
}

/** Prisma include/select chosen by the caller (the GraphQL layer plans nested relations with it). */
export type ToolQueryShape = Pick<Prisma.ToolFindManyArgs, 'include' | 'select'>;

export async function getTool(ctx: ServiceContext, id: string, shape: ToolQueryShape = {}): Promise<Tool> {
  assertId('Tool', id, 'id');
  const tool = await ctx.prisma.tool.findFirst({ ...shape, where: { id, organizationId: ctx.orgId } } as Prisma.ToolFindFirstArgs);
  if (!tool) throw notFound('Tool', id);
  return tool;
}

export interface ToolFilter {
  name?: string | null;
  toolTypes?: string[] | null;
  search?: string | null;
}

export async function listTools(
  ctx: ServiceContext,
  args: PageArgs & { filter?: ToolFilter | null },
  shape: ToolQueryShape = {},
): Promise<Page<Tool>> {
  const filter = args.filter ?? {};
  const where: Prisma.ToolWhereInput = { organizationId: ctx.orgId };
  if (filter.name != null) where.name = filter.name;
  if (filter.toolTypes?.length) where.toolType = { in: filter.toolTypes };
  if (filter.search?.trim()) {
    const text = filter.search.trim();
    where.OR = [{ name: { contains: text, mode: 'insensitive' } }, { description: { contains: text, mode: 'insensitive' } }];
  }
  for (const key of ['after', 'before'] as const) {
    if (args[key] != null) assertId('Tool', args[key]!, key);
  }
  return paginate(
    args,
    { field: 'name', nullable: false, direction: 'asc' },
    where as Record<string, unknown>,
    async (id) => {
      const row = await ctx.prisma.tool.findFirst({ where: { id, organizationId: ctx.orgId }, select: { id: true, name: true } });
      return row ? { id: row.id, value: row.name } : undefined;
    },
    (query) => ctx.prisma.tool.findMany({ ...shape, ...query } as Prisma.ToolFindManyArgs) as Promise<Tool[]>,
    (where) => ctx.prisma.tool.count({ where: where as Prisma.ToolWhereInput }),
  );
}

/** Resolves tool ids and names of the caller's organization; every one must exist. */
export async function resolveTools(db: Db, orgId: string, ids: string[], names: string[]): Promise<Tool[]> {
  ids.forEach((id, index) => assertId('Tool', id, `input.toolIds.${index}`));
  const found = await db.tool.findMany({ where: { organizationId: orgId, OR: [{ id: { in: ids } }, { name: { in: names } }] } });
  for (const id of ids) if (!found.some((tool) => tool.id === id)) throw notFound('Tool', id);
  for (const name of names) {
    if (!found.some((tool) => tool.name === name)) throw new AppError('NOT_FOUND', `No tool named '${name}'`, { name });
  }
  return found;
}

/** Attaches a tool; attaching it again is a no-op (`changed: false`). */
export async function attachTool(ctx: ServiceContext, agentId: string, toolId: string): Promise<{ changed: boolean; tool: Tool }> {
  return ctx.prisma.$transaction(async (tx) => {
    await assertAgentInOrg(tx, ctx.orgId, agentId);
    const [tool] = await resolveTools(tx, ctx.orgId, [toolId], []);
    const { count } = await tx.toolAgent.createMany({
      data: [{ agentId, toolId: tool!.id, requiresApproval: tool!.defaultRequiresApproval }],
      skipDuplicates: true,
    });
    return { changed: count > 0, tool: tool! };
  });
}

/** Detaches a tool; detaching one that is not attached is a no-op (`changed: false`). */
export async function detachTool(ctx: ServiceContext, agentId: string, toolId: string): Promise<{ changed: boolean; tool: Tool }> {
  return ctx.prisma.$transaction(async (tx) => {
    await assertAgentInOrg(tx, ctx.orgId, agentId);
    const [tool] = await resolveTools(tx, ctx.orgId, [toolId], []);
    const { count } = await tx.toolAgent.deleteMany({ where: { agentId, toolId: tool!.id } });
    return { changed: count > 0, tool: tool! };
  });
}

/** Sets whether calls to an attached tool wait for a human's approval. */
export async function setToolApproval(ctx: ServiceContext, agentId: string, name: string, requiresApproval: boolean) {
  if (!name.trim()) throw badInput('toolName', 'must not be empty');
  return ctx.prisma.$transaction(async (tx) => {
    await assertAgentInOrg(tx, ctx.orgId, agentId);
    const link = await tx.toolAgent.findFirst({ where: { agentId, tool: { name } }, include: { tool: true } });
    if (!link) throw new AppError('NOT_FOUND', `No tool named '${name}' is attached to agent ${agentId}`, { name });
    await tx.toolAgent.update({ where: { agentId_toolId: { agentId, toolId: link.toolId } }, data: { requiresApproval } });
    return { tool: link.tool, requiresApproval };
  });
}
