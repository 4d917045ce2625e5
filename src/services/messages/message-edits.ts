import { z } from 'zod';
import { Prisma } from '../../generated/prisma/client.js';
import { editMessage, type EditableType } from '../../agent/messages/edit.js';
import { parseViewId, type LettaMessage } from '../../agent/messages/letta-types.js';
import { storedMessageFromRow } from '../../agent/messages/stored.js';
import { AppError, assertId, badInput, parseInput } from '../../errors.js';
import type { ServiceContext } from '../platform/context.js';
import { assertAgentInOrg } from '../platform/scope.js';
import { currentMemory, rebuildSystemPrompt, systemText } from '../memory/system-prompt.js';
import { toEdges } from './message-store.js';

/**
 * Letta's modify_message: the content of a user, system, assistant or reasoning message edited
 * through its client message type. The edited message keeps its id, place and run.
 *
 * The system prompt is rebuilt where Letta rebuilds it: Letta recompiles the in-context system
 * message whenever it no longer holds the agent's current compiled memory (at the next step, or
 * at any memory change). An edit of that message that keeps the memory section therefore stays
 * until the next memory change; one that drops it is replaced by the compiled prompt at once
 * (Letta would do so at the start of the next step, before the model sees it).
 */

export const MESSAGE_EDIT_MAX_CHARS = 1_000_000;

const updateMessageInput = z.object({
  agentId: z.string(),
  messageId: z.string().min(1, 'must not be empty'),
  messageType: z.enum(['user_message', 'system_message', 'assistant_message', 'reasoning_message']),
  content: z.string().max(MESSAGE_EDIT_MAX_CHARS, `must be at most ${MESSAGE_EDIT_MAX_CHARS} characters`).transform((text) => text.replaceAll('\u0000', '')),
});

export async function updateMessage(ctx: ServiceContext, raw: unknown): Promise<LettaMessage> {
  const input = parseInput(updateMessageInput, raw);
  await assertAgentInOrg(ctx.prisma, ctx.orgId, input.agentId);
  // A message's own id, or the id of one of its views (which then says which view).
  const view = parseViewId(input.messageId);
  const messageId = view?.messageId ?? input.messageId;
  assertId('Message', messageId, 'messageId');
  if (view && view.messageType !== input.messageType) {
    throw badInput('messageType', `the view ${input.messageId} is a ${view.messageType}, not a ${input.messageType}`);
  }
  const type: EditableType = input.messageType;
  const n = view?.index ?? 0;

  return ctx.prisma.$transaction(async (tx) => {
    const [agent, row] = await Promise.all([
      tx.agent.findUniqueOrThrow({ where: { id: input.agentId }, select: { agentType: true, messageIds: true } }),
      tx.message.findFirst({ where: { id: messageId, agentId: input.agentId } }),
    ]);
    if (!row) throw new AppError('NOT_FOUND', `Agent ${input.agentId} has no message ${messageId}`, { path: 'messageId' });
    const edit = editMessage(storedMessageFromRow(row), agent.agentType, type, n, input.content);
    if (!edit.ok) throw badInput('messageType', `cannot edit: ${edit.reason}`);
    await tx.message.update({
      where: { id: row.id },
      data: {
        ...(edit.content ? { content: edit.content as unknown as Prisma.InputJsonValue } : {}),
        ...(edit.toolCalls ? { toolCalls: edit.toolCalls as unknown as Prisma.InputJsonValue } : {}),
      },
    });
    if (type === 'system_message' && agent.messageIds[0] === row.id) {
      const memory = await currentMemory(tx, input.agentId);
      if (memory !== null && !systemText(edit.content).includes(memory)) await rebuildSystemPrompt(tx, input.agentId);
    }
    const updated = await tx.message.findUniqueOrThrow({ where: { id: row.id } });
    const views = toEdges([updated], agent.agentType).map((edge) => edge.node).filter((node) => node.messageType === type);
    return views[n] ?? views[0]!;
  });
}
