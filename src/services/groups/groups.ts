import { z } from 'zod';
import { Prisma, type Group } from '../../generated/prisma/client.js';
import { newId } from '../../ids.js';
import { assertId, badInput, notFound, parseInput } from '../../errors.js';
import type { ServiceContext } from '../platform/context.js';
import { createAgent, getAgent, type AgentInput } from '../agents/agents.js';

/**
 * Letta's multi-agent groups (`group-`): a manager agent and member agents. Sleeptime groups run
 * (sleeptime.ts); the other manager types are kept and round-trip in agent files, but this server
 * does not route messages through them (docs/groups.md says why).
 */

export const MANAGER_TYPES = ['round_robin', 'supervisor', 'dynamic', 'sleeptime', 'voice_sleeptime', 'swarm'] as const;
export type ManagerType = (typeof MANAGER_TYPES)[number];
/** Letta's default sleeptime_agent_frequency. */
export const DEFAULT_SLEEPTIME_FREQUENCY = 5;

const agentIdList = z.array(z.string()).max(100);
const frequency = z.number().int().min(1, 'must be at least 1').max(1000, 'must be at most 1000');

const createGroupInput = z.object({
  managerType: z.enum(MANAGER_TYPES),
  managerAgentId: z.string().nullish(),
  agentIds: agentIdList,
  description: z.string().max(10_000).nullish(),
  sleeptimeAgentFrequency: frequency.nullish(),
});

const updateGroupInput = z.object({
  id: z.string(),
  agentIds: agentIdList.optional(),
  description: z.string().max(10_000).optional(),
  sleeptimeAgentFrequency: frequency.optional(),
});

export type GroupWithMembers = Group & { agents: Array<{ agentId: string }> };

const withMembers = { agents: { orderBy: [{ position: 'asc' }, { agentId: 'asc' }] } } satisfies Prisma.GroupInclude;

async function assertAgents(ctx: ServiceContext, ids: string[], path: string) {
  ids.forEach((id, index) => assertId('Agent', id, `${path}.${index}`));
  const found = await ctx.prisma.agent.findMany({ where: { id: { in: ids }, organizationId: ctx.orgId }, select: { id: true } });
  const known = new Set(found.map((agent) => agent.id));
  const missing = ids.find((id) => !known.has(id));
  if (missing) throw notFound('Agent', missing);
}

export async function getGroup(ctx: ServiceContext, id: string): Promise<GroupWithMembers> {
  assertId('Group', id, 'id');
  const group = await ctx.prisma.group.findFirst({ where: { id, organizationId: ctx.orgId }, include: withMembers });
  if (!group) throw notFound('Group', id);
  return group;
}

/** Groups of the organization, or those an agent manages or belongs to (Letta's list_agent_groups), newest first. */
export async function listGroups(ctx: ServiceContext, filter: { agentId?: string | null; managerType?: ManagerType | null }): Promise<GroupWithMembers[]> {
  const where: Prisma.GroupWhereInput = { organizationId: ctx.orgId };
  if (filter.managerType) where.managerType = filter.managerType;
  if (filter.agentId) where.OR = [{ managerAgentId: filter.agentId }, { agents: { some: { agentId: filter.agentId } } }];
  return ctx.prisma.group.findMany({ where, include: withMembers, orderBy: [{ createdAt: 'desc' }, { id: 'desc' }], take: 500 });
}

export async function createGroup(ctx: ServiceContext, raw: unknown): Promise<GroupWithMembers> {
  const input = parseInput(createGroupInput, raw);
  const members = [...new Set(input.agentIds)];
  await assertAgents(ctx, members, 'input.agentIds');
  if (input.managerAgentId) await assertAgents(ctx, [input.managerAgentId], 'input.managerAgentId');
  if (input.managerType === 'sleeptime' && !input.managerAgentId) throw badInput('input.managerAgentId', 'a sleeptime group needs its main agent');
  if (input.managerAgentId && members.includes(input.managerAgentId)) throw badInput('input.agentIds', 'the manager agent cannot also be a member');
  const id = newId('Group');
  const sleeptime = input.managerType === 'sleeptime' || input.managerType === 'voice_sleeptime';
  await ctx.prisma.group.create({
    data: {
      id,
      organizationId: ctx.orgId,
      managerType: input.managerType,
      managerAgentId: input.managerAgentId ?? null,
      description: input.description ?? '',
      managerConfig: sleeptime ? { sleeptime_agent_frequency: input.sleeptimeAgentFrequency ?? DEFAULT_SLEEPTIME_FREQUENCY } : Prisma.DbNull,
      agents: { create: members.map((agentId, position) => ({ agentId, position })) },
    },
  });
  return getGroup(ctx, id);
}

export async function updateGroup(ctx: ServiceContext, raw: unknown): Promise<GroupWithMembers> {
  const input = parseInput(updateGroupInput, raw);
  const group = await getGroup(ctx, input.id);
  if (input.agentIds) await assertAgents(ctx, input.agentIds, 'input.agentIds');
  if (input.sleeptimeAgentFrequency !== undefined && group.managerType !== 'sleeptime' && group.managerType !== 'voice_sleeptime') {
    throw badInput('input.sleeptimeAgentFrequency', `only sleeptime groups have one; this is a ${group.managerType} group`);
  }
  await ctx.prisma.$transaction(async (tx) => {
    await tx.group.update({
      where: { id: group.id },
      data: {
        ...(input.description !== undefined ? { description: input.description } : {}),
        ...(input.sleeptimeAgentFrequency !== undefined
          ? { managerConfig: { ...((group.managerConfig as Record<string, unknown> | null) ?? {}), sleeptime_agent_frequency: input.sleeptimeAgentFrequency } }
          : {}),
      },
    });
    if (input.agentIds) {
      await tx.groupAgent.deleteMany({ where: { groupId: group.id } });
      await tx.groupAgent.createMany({ data: [...new Set(input.agentIds)].map((agentId, position) => ({ groupId: group.id, agentId, position })) });
    }
  });
  return getGroup(ctx, group.id);
}

/** Deletes the group; its agents stay. */
export async function deleteGroup(ctx: ServiceContext, id: string): Promise<string> {
  const group = await getGroup(ctx, id);
  await ctx.prisma.group.delete({ where: { id: group.id } });
  return group.id;
}

export function sleeptimeFrequencyOf(group: Pick<Group, 'managerConfig'>): number {
  const value = (group.managerConfig as { sleeptime_agent_frequency?: unknown } | null)?.sleeptime_agent_frequency;
  return typeof value === 'number' && value >= 1 ? value : DEFAULT_SLEEPTIME_FREQUENCY;
}

/** Letta's base tools of a main agent with sleeptime enabled. */
const SLEEPTIME_MAIN_TOOLS = ['send_message', 'conversation_search', 'archival_memory_search'];

/**
 * createAgent with enableSleeptime, as Letta does it: the agent, `<name>-sleeptime` (a
 * sleeptime_agent showing the same blocks, on the same model) and a sleeptime group of the two.
 */
export async function createAgentWithSleeptime(ctx: ServiceContext, raw: AgentInput) {
  const base = raw.includeBaseTools === false ? [] : SLEEPTIME_MAIN_TOOLS;
  const main = await createAgent(ctx, { ...raw, includeBaseTools: false, tools: [...((raw.tools as string[] | undefined) ?? []), ...base] });
  const blocks = await ctx.prisma.blockAgent.findMany({ where: { agentId: main.id }, select: { blockId: true } });
  const full = await ctx.prisma.agent.findUniqueOrThrow({ where: { id: main.id }, select: { name: true, model: true, embedding: true, timezone: true } });
  const sleeptime = await createAgent(ctx, {
    name: `${full.name}-sleeptime`,
    agentType: 'sleeptime_agent',
    model: full.model,
    embedding: full.embedding,
    timezone: full.timezone,
    blockIds: blocks.map((link) => link.blockId),
  });
  await createGroup(ctx, { managerType: 'sleeptime', managerAgentId: main.id, agentIds: [sleeptime.id] });
  return getAgent(ctx, main.id);
}
