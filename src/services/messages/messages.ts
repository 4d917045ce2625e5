import type { Prisma } from '../../generated/prisma/client.js';
import type { ServiceContext } from '../platform/context.js';
import { AppError, badInput } from '../../errors.js';
import { checkPageArgs, type PageArgs } from '../platform/pagination.js';
import { assertAgentInOrg } from '../platform/scope.js';
import { rebuildSystemPrompt, systemText } from '../memory/system-prompt.js';
import { initialMessages } from '../../agent/initial-messages.js';
import { type MessageViewOptions, insertMessages, messageRows, toEdges } from './message-store.js';
import { parseViewId } from '../../agent/messages/letta-types.js';
import { agentIsBusy } from '../runs/run-status.js';

/** Recall memory: an agent's stored messages, shown as Letta's client messages. */

export const DEFAULT_MESSAGE_PAGE = 100;

/** Rows read per batch while a page is filled with views (a stored message gives 0..n views). */
const ROW_BATCH = 100;
/** A page scans at most this many stored messages (a type filter can skip many). */
const MAX_ROWS_SCANNED = 10_000;

type Row = Prisma.MessageGetPayload<object>;
/** A view's place in the history: its stored message's sequence, then its place among that message's views. */
type Position = readonly [bigint, number];
const before_ = (a: Position, b: Position) => a[0] < b[0] || (a[0] === b[0] && a[1] < b[1]);

/**
 * Where a cursor sits. A view id (`<message id>:<type>:<n>`) sits at its view; a bare stored
 * message id (the cursors of earlier versions) covers all of that message's views. Unknown: NOT_FOUND.
 */
async function cursorPosition(
  ctx: ServiceContext,
  agentId: string,
  agentType: string,
  cursor: string,
  name: 'after' | 'before',
  options: MessageViewOptions | null | undefined,
): Promise<Position> {
  const view = parseViewId(cursor);
  const row = await ctx.prisma.message.findFirst({ where: { id: view?.messageId ?? cursor, agentId } });
  if (!row) throw new AppError('NOT_FOUND', `${name}: no message ${cursor} in this agent's history`, { path: name });
  if (!view) return [row.sequenceId, name === 'after' ? Number.MAX_SAFE_INTEGER : -1];
  const index = toEdges([row], agentType, { ...options, includeReturnMessageTypes: null }).findIndex((edge) => edge.cursor === cursor);
  if (index < 0) throw new AppError('NOT_FOUND', `${name}: message ${view.messageId} has no view ${cursor}`, { path: name });
  return [row.sequenceId, index];
}

/**
 * Letta's cursor semantics, over client messages: chronological whatever the direction (after =
 * later, before = earlier); without arguments the newest page, shown oldest first. Every view of
 * a stored message is an edge with its own id and cursor, and `first`/`last` count edges.
 */
export async function listMessages(
  ctx: ServiceContext,
  agentId: string,
  args: PageArgs & { options?: MessageViewOptions | null },
) {
  checkPageArgs(args);
  await assertAgentInOrg(ctx.prisma, ctx.orgId, agentId);
  const agent = await ctx.prisma.agent.findUniqueOrThrow({ where: { id: agentId }, select: { agentType: true } });
  const after = args.after != null ? await cursorPosition(ctx, agentId, agent.agentType, args.after, 'after', args.options) : undefined;
  const before = args.before != null ? await cursorPosition(ctx, agentId, agent.agentType, args.before, 'before', args.options) : undefined;
  const forward = args.first != null;
  const limit = forward ? args.first! : (args.last ?? DEFAULT_MESSAGE_PAGE);

  type Edge = ReturnType<typeof toEdges>[number];
  const taken: Edge[] = [];
  let lastRow: Row | undefined; // where the next batch starts
  let scanned = 0;
  while (taken.length <= limit && scanned < MAX_ROWS_SCANNED) {
    const sequence: Prisma.BigIntFilter = {
      ...(after ? { gte: after[0] } : {}),
      ...(before ? { lte: before[0] } : {}),
      ...(lastRow ? (forward ? { gt: lastRow.sequenceId } : { lt: lastRow.sequenceId }) : {}),
    };
    const rows = await ctx.prisma.message.findMany({ where: { agentId, sequenceId: sequence }, orderBy: { sequenceId: forward ? 'asc' : 'desc' }, take: ROW_BATCH });
    if (rows.length === 0) break;
    scanned += rows.length;
    lastRow = rows.at(-1);
    const chronological = forward ? rows : [...rows].reverse();
    const seqOf = new Map(chronological.map((row) => [row.id, row.sequenceId]));
    // Positions need every view of a row, so the type filter comes after them.
    const all = toEdges(chronological, agent.agentType, { ...args.options, includeReturnMessageTypes: null });
    const wanted = args.options?.includeReturnMessageTypes ? new Set<string>(args.options.includeReturnMessageTypes) : null;
    const index = new Map<string, number>();
    const inRange = all.filter((candidate) => {
      const n = index.get(candidate.node.id) ?? 0;
      index.set(candidate.node.id, n + 1);
      const at: Position = [seqOf.get(candidate.node.id)!, n];
      return (!after || before_(after, at)) && (!before || before_(at, before)) && (!wanted || wanted.has(candidate.node.messageType));
    });
    if (forward) taken.push(...inRange);
    else taken.unshift(...inRange);
    if (rows.length < ROW_BATCH) break;
  }
  const more = taken.length > limit;
  const page = forward ? taken.slice(0, limit) : taken.slice(Math.max(0, taken.length - limit));
  return {
    edges: page,
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
