import type { Prisma } from '../../generated/prisma/client.js';
import type { ServiceContext } from '../platform/context.js';
import { AppError, badInput } from '../../errors.js';
import { checkPageArgs, type PageArgs } from '../platform/pagination.js';
import { assertAgentInOrg } from '../platform/scope.js';
import { rebuildSystemPrompt, systemText } from '../memory/system-prompt.js';
import { initialMessages } from '../../agent/initial-messages.js';
import { MessageViewOptions, insertMessages, messageRows, toEdges } from './message-store.js';
import { agentIsBusy } from '../runs/run-status.js';

/** Recall memory: an agent's stored messages, shown as Letta's client messages. */

export const DEFAULT_MESSAGE_PAGE = 100;

/**
 * Letta's cursor semantics: chronological by sequence whatever the direction (after = later,
 * before = earlier); without arguments the newest page, shown oldest first. An unknown cursor
 * is NOT_FOUND.
 */
export async function listMessages(
  ctx: ServiceContext,
  agentId: string,
  args: PageArgs & { options?: MessageViewOptions | null },
) {
  checkPageArgs(args);
  await assertAgentInOrg(ctx.prisma, ctx.orgId, agentId);
  const agent = await ctx.prisma.agent.findUniqueOrThrow({ where: { id: agentId }, select: { agentType: true } });
  const bound = async (cursor: string | null | undefined, name: 'after' | 'before') => {
    if (cursor == null) return undefined;
    const row = await ctx.prisma.message.findFirst({ where: { id: cursor, agentId }, select: { sequenceId: true } });
    if (!row) throw new AppError('NOT_FOUND', `${name}: no message ${cursor} in this agent's history`, { path: name });
    return row.sequenceId;
  };
  const after = await bound(args.after, 'after');
  const before = await bound(args.before, 'before');
  const where: Prisma.MessageWhereInput = {
    agentId,
    sequenceId: { ...(after !== undefined ? { gt: after } : {}), ...(before !== undefined ? { lt: before } : {}) },
  };
  const forward = args.first != null;
  const limit = forward ? args.first! : (args.last ?? DEFAULT_MESSAGE_PAGE);
  const rows = await ctx.prisma.message.findMany({ where, orderBy: { sequenceId: forward ? 'asc' : 'desc' }, take: limit + 1 });
  const more = rows.length > limit;
  const page = rows.slice(0, limit);
  if (!forward) page.reverse();
  return {
    edges: toEdges(page, agent.agentType, args.options),
    hasNextPage: forward ? more : before !== undefined,
    hasPreviousPage: forward ? after !== undefined : more,
    totalCount: () => ctx.prisma.message.count({ where: { agentId } }),
  };
}

/**
 * Letta's reset: keeps only the system message in context (older messages stay searchable as
 * recall memory), rebuilds the system prompt, and optionally re-adds the initial messages.
 */
export async function resetMessages(ctx: ServiceContext, agentId: string, addDefaultInitialMessages: boolean) {
  await assertAgentInOrg(ctx.prisma, ctx.orgId, agentId);
  if (await agentIsBusy(ctx, agentId)) {
    throw new AppError('AGENT_BUSY', `Agent ${agentId} has a run in progress; cancel it or wait before resetting`, { agentId });
  }
  await ctx.prisma.$transaction(async (tx) => {
    const agent = await tx.agent.findUniqueOrThrow({ where: { id: agentId }, select: { messageIds: true, agentType: true, timezone: true } });
    const systemId = agent.messageIds[0];
    if (!systemId) throw badInput('agentId', 'the agent has no system message to keep');
    const ids = [systemId];
    if (addDefaultInitialMessages) {
      const rows = messageRows(ctx.orgId, agentId, null, null, initialMessages(agent.agentType, new Date(), agent.timezone));
      await insertMessages(tx, rows);
      ids.push(...rows.map((row) => row.id));
    }
    await tx.agent.update({ where: { id: agentId }, data: { messageIds: ids } });
    await rebuildSystemPrompt(tx, agentId);
  });
}

/** The stored system prompt of each agent (its first in-context message), in the order asked. */
export async function systemPrompts(ctx: ServiceContext, agentIds: readonly string[]): Promise<Array<string | null>> {
  const agents = await ctx.prisma.agent.findMany({
    where: { id: { in: [...agentIds] }, organizationId: ctx.orgId },
    select: { id: true, messageIds: true },
  });
  const systemIds = new Map(agents.map((agent) => [agent.id, agent.messageIds[0]]));
  const ids = [...systemIds.values()].filter((id): id is string => Boolean(id));
  const rows = await ctx.prisma.message.findMany({ where: { id: { in: ids } }, select: { id: true, content: true } });
  const texts = new Map(rows.map((row) => [row.id, systemText(row.content)]));
  return agentIds.map((id) => texts.get(systemIds.get(id) ?? '') ?? null);
}
