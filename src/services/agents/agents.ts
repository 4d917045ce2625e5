import { z } from 'zod';
import { Prisma, type Agent } from '../../generated/prisma/client.js';
import { AGENT_TYPES, defaultSystemPrompt } from '../../agent/prompts.js';
import { newId, isIdOf } from '../../ids.js';
import type { ServiceContext } from '../platform/context.js';
import { assertId, badInput, conflict, notFound, parseInput } from '../../errors.js';
import { paginate, type Page, type PageArgs, type SortDirection, type SortKey } from '../platform/pagination.js';
import { randomAgentName } from '../platform/names.js';
import { baseToolNames } from '../../agent/tools/builtin.js';
import { baseToolRules } from '../../agent/tools/base-tool-rules.js';
import { toolRulesSchema } from '../../agent/tool-rules.js';
import { blockData, createBlockInput } from '../memory/blocks.js';
import { resolveTools } from '../tools/tools.js';
import { rebuildSystemPrompt } from '../memory/system-prompt.js';
import { publishAgentEvent } from '../platform/events.js';
import { initialMessages } from '../../agent/initial-messages.js';
import { insertMessages, messageRows } from '../messages/message-store.js';
import { attachListRelations, splitListRelations } from './list-relations.js';

// ---- input schemas (shared by every surface that creates or edits agents) ----

const agentName = z
  .string()
  .trim()
  .min(1, 'must not be empty')
  .max(100, 'must be at most 100 characters')
  .regex(/^[\p{L}\p{N} _'-]+$/u, "may contain only letters, digits, spaces, '-', '_' and \"'\"");

const handle = z
  .string()
  .trim()
  .regex(/^[^/\s]+\/\S+$/, "must be a handle of the form 'provider/model'");

const timezone = z.string().refine((value) => {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: value });
    return true;
  } catch {
    return false;
  }
}, 'must be an IANA time zone such as "UTC" or "Europe/Paris"');

const tags = z
  .array(z.string().trim().min(1, 'a tag must not be empty').max(100, 'a tag must be at most 100 characters'))
  .max(100, 'at most 100 tags')
  .transform((list) => [...new Set(list)]);

const jsonObject = z.record(z.string(), z.unknown());

const agentFields = {
  name: agentName,
  description: z.string().max(10_000).nullable(),
  system: z.string().max(200_000),
  agentType: z.enum(AGENT_TYPES),
  tags,
  metadata: jsonObject.nullable(),
  model: handle.nullable(),
  embedding: handle.nullable(),
  timezone,
  maxFilesOpen: z.number().int().min(1).max(1000).nullable(),
  perFileViewWindowCharLimit: z.number().int().min(1).max(2_147_483_647).nullable(),
  toolRules: toolRulesSchema.nullable(),
  // Letta's context_window_limit, kept in llmConfig.context_window.
  contextWindowLimit: z.number().int().min(100, 'must be at least 100 tokens').max(10_000_000).nullable(),
};

const idList = z.array(z.string()).max(1000);

export const createAgentInput = z.object({
  name: agentFields.name.optional(),
  description: agentFields.description.optional(),
  system: agentFields.system.optional(),
  agentType: agentFields.agentType.optional(),
  tags: agentFields.tags.optional(),
  metadata: agentFields.metadata.optional(),
  model: agentFields.model.optional(),
  embedding: agentFields.embedding.optional(),
  timezone: agentFields.timezone.optional(),
  maxFilesOpen: agentFields.maxFilesOpen.optional(),
  perFileViewWindowCharLimit: agentFields.perFileViewWindowCharLimit.optional(),
  toolRules: agentFields.toolRules.optional(),
  contextWindowLimit: agentFields.contextWindowLimit.optional(),
  memoryBlocks: z.array(createBlockInput).max(100).optional(),
  blockIds: idList.optional(),
  toolIds: idList.optional(),
  tools: z.array(z.string().min(1)).max(1000).optional(),
  includeBaseTools: z.boolean().optional(),
  includeBaseToolRules: z.boolean().optional(),
});

/** Partial: an omitted field is kept; null clears a nullable field and is refused for the others. */
export const updateAgentInput = z.object({
  name: agentFields.name.optional(),
  description: agentFields.description.optional(),
  system: agentFields.system.optional(),
  tags: agentFields.tags.optional(),
  metadata: agentFields.metadata.optional(),
  model: agentFields.model.optional(),
  embedding: agentFields.embedding.optional(),
  timezone: agentFields.timezone.optional(),
  maxFilesOpen: agentFields.maxFilesOpen.optional(),
  perFileViewWindowCharLimit: agentFields.perFileViewWindowCharLimit.optional(),
  toolRules: agentFields.toolRules.optional(),
  contextWindowLimit: agentFields.contextWindowLimit.optional(),
});

/** Untrusted input as any surface receives it; the schemas above check it. */
export type AgentInput = Record<string, unknown>;

export interface AgentFilter {
  name?: string | null;
  tags?: string[] | null;
  tagMatchMode?: 'any' | 'all' | null;
  search?: string | null;
}

export type AgentSortField = 'createdAt' | 'updatedAt' | 'lastRunCompletion';

export interface AgentOrder {
  field?: AgentSortField | null;
  direction?: SortDirection | null;
}

/** Prisma include/select chosen by the caller (the GraphQL layer plans nested relations with it). */
export type AgentQueryShape = Pick<Prisma.AgentFindManyArgs, 'include' | 'select'>;

const jsonValue = (value: Record<string, unknown> | null | undefined) =>
  value === null ? Prisma.DbNull : (value as Prisma.InputJsonValue | undefined);

// ---- use cases ----

/**
 * Creates an agent with its memory blocks (new ones and shared existing ones), its tools (the
 * base set of its type unless includeBaseTools is false, plus ids and names) and its system
 * message, in one transaction.
 */
export async function createAgent(ctx: ServiceContext, rawInput: AgentInput): Promise<Agent> {
  // On create, null and omitted mean the same: the default.
  const given = Object.fromEntries(Object.entries(rawInput ?? {}).filter(([, value]) => value !== null));
  const input = parseInput(createAgentInput, given);
  const agentType = input.agentType ?? 'letta_v1_agent';
  const blockIds = [...new Set(input.blockIds ?? [])];
  blockIds.forEach((id, index) => assertId('Block', id, `input.blockIds.${index}`));

  const agentId = await ctx.prisma.$transaction(async (tx) => {
    const shared = await tx.block.findMany({ where: { id: { in: blockIds }, organizationId: ctx.orgId } });
    for (const id of blockIds) if (!shared.some((block) => block.id === id)) throw notFound('Block', id);
    const created = (input.memoryBlocks ?? []).map((block) => blockData(ctx.orgId, block));
    const labels = new Set<string>();
    for (const { label } of [...shared, ...created]) {
      if (labels.has(label)) throw conflict(`More than one block of the new agent is labelled '${label}'`, { label });
      labels.add(label);
    }

    const baseNames = input.includeBaseTools === false ? [] : baseToolNames(agentType);
    const tools = await resolveTools(tx, ctx.orgId, [...new Set(input.toolIds ?? [])], [...new Set([...(input.tools ?? []), ...baseNames])]);
    const rules = [
      ...baseToolRules(agentType, input.model ?? '', tools.map((tool) => tool.name), {
        includeBaseToolRules: input.includeBaseToolRules,
        hasUserToolRules: (input.toolRules?.length ?? 0) > 0,
      }),
      ...(input.toolRules ?? []),
    ];

    const id = newId('Agent');
    await tx.agent.create({
      data: {
        id,
        organizationId: ctx.orgId,
        name: input.name ?? randomAgentName(),
        description: input.description ?? null,
        system: input.system ?? defaultSystemPrompt(agentType),
        agentType,
        tags: input.tags ?? [],
        metadata: jsonValue(input.metadata),
        model: input.model ?? ctx.runtime.defaultModel ?? null,
        embedding: input.embedding ?? null,
        timezone: input.timezone ?? 'UTC',
        maxFilesOpen: input.maxFilesOpen ?? null,
        perFileViewWindowCharLimit: input.perFileViewWindowCharLimit ?? null,
        toolRules: rules as Prisma.InputJsonValue,
        ...(input.contextWindowLimit ? { llmConfig: { context_window: input.contextWindowLimit } } : {}),
      },
    });
    if (created.length) await tx.block.createMany({ data: created });
    const links = [...shared, ...created].map((block) => ({ agentId: id, blockId: block.id!, blockLabel: block.label }));
    if (links.length) await tx.blockAgent.createMany({ data: links });
    if (tools.length) {
      await tx.toolAgent.createMany({
        data: tools.map((tool) => ({ agentId: id, toolId: tool.id, requiresApproval: tool.defaultRequiresApproval })),
      });
    }
    await rebuildSystemPrompt(tx, id);
    const initial = messageRows(ctx.orgId, id, null, null, initialMessages(agentType, new Date(), input.timezone ?? 'UTC'));
    if (initial.length) {
      await insertMessages(tx, initial);
      await tx.agent.update({ where: { id }, data: { messageIds: { push: initial.map((row) => row.id) } } });
    }
    return id;
  });
  return getAgent(ctx, agentId);
}

export async function updateAgent(ctx: ServiceContext, id: string, rawInput: AgentInput): Promise<Agent> {
  assertId('Agent', id, 'id');
  const input = parseInput(updateAgentInput, rawInput ?? {});
  for (const field of ['name', 'system', 'tags', 'timezone'] as const) {
    if (input[field] === null) throw badInput(`input.${field}`, 'cannot be null');
  }
  const { metadata, toolRules, contextWindowLimit, ...rest } = input;
  const data = { ...rest } as Prisma.AgentUpdateManyMutationInput;
  if (metadata !== undefined) data.metadata = jsonValue(metadata);
  if (toolRules !== undefined) data.toolRules = (toolRules ?? []) as Prisma.InputJsonValue;
  await ctx.prisma.$transaction(async (tx) => {
    if (contextWindowLimit !== undefined) {
      const current = await tx.agent.findFirst({ where: { id, organizationId: ctx.orgId }, select: { llmConfig: true } });
      const { context_window: _old, ...llmConfig } = (current?.llmConfig ?? {}) as Record<string, unknown>;
      data.llmConfig = (contextWindowLimit === null ? llmConfig : { ...llmConfig, context_window: contextWindowLimit }) as Prisma.InputJsonValue;
    }
    const result = await tx.agent.updateMany({ where: { id, organizationId: ctx.orgId }, data });
    if (result.count === 0) throw notFound('Agent', id);
    // A new template, rules or time zone must reach the model now (Letta leaves it stale: #3446).
    if (input.system !== undefined || toolRules !== undefined || input.timezone !== undefined) {
      await rebuildSystemPrompt(tx, id);
    }
  });
  const agent = await getAgent(ctx, id);
  publishAgentEvent(ctx, id, { type: 'AGENT_UPDATED' });
  return agent;
}

export async function deleteAgent(ctx: ServiceContext, id: string): Promise<string> {
  assertId('Agent', id, 'id');
  await ctx.prisma.$transaction(async (tx) => {
    // Blocks that no other agent shows go with the agent; shared ones stay.
    const exclusive = await tx.block.findMany({
      where: { organizationId: ctx.orgId, agents: { some: { agentId: id }, every: { agentId: id } } },
      select: { id: true },
    });
    const result = await tx.agent.deleteMany({ where: { id, organizationId: ctx.orgId } });
    if (result.count === 0) throw notFound('Agent', id);
    if (exclusive.length) await tx.block.deleteMany({ where: { id: { in: exclusive.map((block) => block.id) } } });
  });
  publishAgentEvent(ctx, id, { type: 'AGENT_DELETED' });
  return id;
}

export async function getAgent(ctx: ServiceContext, id: string, shape: AgentQueryShape = {}): Promise<Agent> {
  assertId('Agent', id, 'id');
  const agent = await ctx.prisma.agent.findFirst({ ...shape, where: { id, organizationId: ctx.orgId } } as Prisma.AgentFindFirstArgs);
  if (!agent) throw notFound('Agent', id);
  return agent;
}

function agentWhere(ctx: ServiceContext, filter: AgentFilter = {}): Prisma.AgentWhereInput {
  const where: Prisma.AgentWhereInput = { organizationId: ctx.orgId };
  if (filter.name != null) where.name = filter.name;
  if (filter.tags?.length) where.tags = filter.tagMatchMode === 'all' ? { hasEvery: filter.tags } : { hasSome: filter.tags };
  if (filter.search?.trim()) {
    const text = filter.search.trim();
    where.OR = [
      { name: { contains: text, mode: 'insensitive' } },
      { description: { contains: text, mode: 'insensitive' } },
    ];
  }
  return where;
}

export async function listAgents(
  ctx: ServiceContext,
  args: PageArgs & { filter?: AgentFilter | null; orderBy?: AgentOrder | null },
  shape: AgentQueryShape = {},
): Promise<Page<Agent>> {
  for (const key of ['after', 'before'] as const) {
    const cursor = args[key];
    if (cursor != null && !isIdOf('Agent', cursor)) throw badInput(key, 'must be an agent id used as a cursor');
  }
  const field = args.orderBy?.field ?? 'createdAt';
  const sortKey: SortKey = {
    field,
    nullable: field === 'lastRunCompletion',
    direction: args.orderBy?.direction ?? 'desc',
  };
  // The page's blocks and tools come in one statement of their own (list-relations.ts).
  const { shape: agentShape, plans } = splitListRelations(shape as { select?: Record<string, unknown> });
  const page = await paginate(
    args,
    sortKey,
    agentWhere(ctx, args.filter ?? {}) as Record<string, unknown>,
    async (id) => {
      const row = await ctx.prisma.agent.findFirst({
        where: { id, organizationId: ctx.orgId },
        select: { id: true, [field]: true } as Prisma.AgentSelect,
      });
      return row ? { id: row.id, value: (row as Record<string, unknown>)[field] } : undefined;
    },
    (query) => ctx.prisma.agent.findMany({ ...agentShape, ...query } as Prisma.AgentFindManyArgs) as Promise<Agent[]>,
    (where) => ctx.prisma.agent.count({ where: where as Prisma.AgentWhereInput }),
  );
  await attachListRelations(ctx, page.nodes, plans);
  return page;
}

export async function countAgents(ctx: ServiceContext, filter: AgentFilter = {}): Promise<number> {
  return ctx.prisma.agent.count({ where: agentWhere(ctx, filter) });
}
