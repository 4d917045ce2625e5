import { Prisma } from '../../generated/prisma/client.js';
import type { PrismaClient } from '../../db/client.js';
import { toLettaMessageList } from '../../agent/messages/convert.js';
import { viewIdOf, type LettaMessage } from '../../agent/messages/letta-types.js';
import { storedMessageFromRow } from '../../agent/messages/stored.js';
import type { PromptMessage } from '../../agent/prompt-builder.js';
import type { NewMessage } from '../../agent/run-types.js';
import { newId } from '../../ids.js';
import type { ServiceContext } from '../platform/context.js';

/** How messages are stored and read back: rows in order, the context window, client views. */

const json = (value: unknown) => (value === null || value === undefined ? Prisma.DbNull : (value as Prisma.InputJsonValue));

/** A new message's stored columns, nullable ones as null (JSON columns as plain values). */
export function messageFields(message: NewMessage) {
  return {
    role: message.role,
    content: message.content ?? null,
    name: message.name ?? null,
    toolCalls: message.toolCalls ?? null,
    toolCallId: message.toolCallId ?? null,
    toolReturns: message.toolReturns ?? null,
    approvals: message.approvals ?? null,
    approve: message.approve ?? null,
    approvalRequestId: message.approvalRequestId ?? null,
    denialReason: message.denialReason ?? null,
    otid: message.otid ?? null,
    senderId: message.senderId ?? null,
    groupId: message.groupId ?? null,
    isErr: message.isErr ?? false,
    model: message.model ?? null,
  };
}

/** Rows for new messages of one agent, in order (the sequence follows insertion order). */
export function messageRows(orgId: string, agentId: string, runId: string | null, stepId: string | null, messages: NewMessage[]) {
  return messages.map((message) => {
    const fields = messageFields(message);
    return {
      id: newId('Message'),
      organizationId: orgId,
      agentId,
      runId,
      stepId,
      ...fields,
      content: json(fields.content),
      toolCalls: json(fields.toolCalls),
      toolReturns: json(fields.toolReturns),
      approvals: json(fields.approvals),
    };
  });
}

/**
 * Inserts messages in one statement: PostgreSQL numbers the rows of a VALUES list in order, so
 * sequence ids follow the order of `rows`.
 */
export async function insertMessages(tx: Prisma.TransactionClient, rows: ReturnType<typeof messageRows>) {
  if (rows.length === 1) await tx.message.create({ data: rows[0]! });
  else if (rows.length > 1) await tx.message.createMany({ data: rows });
}

/** The messages in the agent's context window, in order, in one statement. */
export async function loadContextMessages(prisma: PrismaClient, agentId: string): Promise<PromptMessage[]> {
  return prisma.$queryRaw<PromptMessage[]>`
    SELECT m.role::text AS role, m.content, m."toolCalls", m."toolCallId", m.name, m.model
      FROM "Agent" a
     CROSS JOIN LATERAL unnest(a."messageIds") WITH ORDINALITY AS context(id, position)
      JOIN "Message" m ON m.id = context.id
     WHERE a.id = ${agentId}
     ORDER BY context.position`;
}

export interface MessageViewOptions {
  useAssistantMessage?: boolean | null;
  assistantMessageToolName?: string | null;
  assistantMessageToolKwarg?: string | null;
  includeReturnMessageTypes?: readonly string[] | null;
}

function viewOptions(agentType: string, options: MessageViewOptions | null | undefined) {
  return {
    agentType,
    useAssistantMessage: options?.useAssistantMessage ?? true,
    assistantMessageToolName: options?.assistantMessageToolName ?? undefined,
    assistantMessageToolKwarg: options?.assistantMessageToolKwarg ?? undefined,
    includeReturnMessageTypes: options?.includeReturnMessageTypes ?? null,
  };
}

/** Converts stored rows (in order) into client messages, each with its own view id as cursor. */
export function toEdges(rows: Prisma.MessageGetPayload<object>[], agentType: string, options?: MessageViewOptions | null) {
  const list = toLettaMessageList(rows.map(storedMessageFromRow), viewOptions(agentType, options));
  return list.map((node: LettaMessage) => ({ cursor: viewIdOf(node), node }));
}

/** Client messages of some stored messages, in their stored order. */
export async function messagesByIds(ctx: ServiceContext, agentId: string, ids: string[], options?: MessageViewOptions | null) {
  if (ids.length === 0) return [];
  const [agent, rows] = await Promise.all([
    ctx.prisma.agent.findUniqueOrThrow({ where: { id: agentId }, select: { agentType: true } }),
    ctx.prisma.message.findMany({ where: { id: { in: ids }, organizationId: ctx.orgId }, orderBy: { sequenceId: 'asc' } }),
  ]);
  return toEdges(rows, agent.agentType, options).map((edge) => edge.node);
}
