import type { StepRecord } from '../../agent/loop.js';
import type { EditableBlock } from '../../agent/tools/memory-workspace.js';
import type { Message as MessageRow, Prisma } from '../../generated/prisma/client.js';
import type { PrismaClient } from '../../db/client.js';
import { sqlOf } from '../../db/direct-sql.js';
import { messageFields } from '../messages/message-store.js';

/** The SQL of a step's writes: each one statement, so that a step costs few round trips. */

type Db = PrismaClient | Prisma.TransactionClient;

/**
 * Stores a step in one statement unless its run was cancelled meanwhile (then nothing: false):
 * the run's row (its time to first token), the step row, its messages in order (PostgreSQL
 * numbers the sorted rows in order) and the agent's context window. Updating the run first takes
 * its row lock, so a cancel lands either before the step or after it.
 */
export async function writeStep(db: Db, ids: { orgId: string; runId: string; agentId: string; messageIds: string[] }, step: StepRecord): Promise<WrittenStep | null> {
  const { orgId, runId, agentId, messageIds } = ids;
  const now = new Date();
  const usage = step.usage;
  const messages = JSON.stringify(step.messages.map((message, index) => ({ id: messageIds[index]!, ...messageFields(message) })));
  const [row] = await sqlOf(db)<{ live: number; version: number | null; stored: Array<{ id: string; sequenceId: string; createdAt: string }> }>`
    WITH live AS (
      UPDATE "Run" SET "ttftNs" = COALESCE(${step.ttftNs}::bigint, "ttftNs"), "updatedAt" = ${now}::timestamptz
       WHERE id = ${runId} AND status <> 'cancelled'
      RETURNING id
    ), step AS (
      INSERT INTO "Step" (id, "organizationId", "runId", "agentId", "providerName", model, "promptTokens", "completionTokens", "totalTokens",
                          "cachedInputTokens", "reasoningTokens", "stopReason", status, "llmRequestNs", "stepNs", "completedAt")
      SELECT ${step.stepId}::text, ${orgId}::text, live.id, ${agentId}::text, ${step.provider}::text, ${step.model}::text,
             ${usage?.promptTokens ?? 0}::int, ${usage?.completionTokens ?? 0}::int, ${usage?.totalTokens ?? 0}::int,
             ${usage?.cachedInputTokens ?? null}::int, ${usage?.reasoningTokens ?? null}::int, ${step.stopReason}::text, 'success',
             ${step.llmRequestNs}::bigint, ${step.stepNs}::bigint, ${now}::timestamptz
        FROM live
      RETURNING id
    ), messages AS (
      INSERT INTO "Message" (id, "organizationId", "agentId", "runId", "stepId", role, content, name, "toolCalls", "toolCallId", "toolReturns",
                             approvals, approve, "approvalRequestId", "denialReason", otid, "senderId", "groupId", "isErr", model, "updatedAt")
      SELECT m->>'id', ${orgId}::text, ${agentId}::text, ${runId}::text, step.id, (m->>'role')::"MessageRole",
             NULLIF(m->'content', 'null'::jsonb), m->>'name', NULLIF(m->'toolCalls', 'null'::jsonb), m->>'toolCallId',
             NULLIF(m->'toolReturns', 'null'::jsonb), NULLIF(m->'approvals', 'null'::jsonb), (m->>'approve')::boolean,
             m->>'approvalRequestId', m->>'denialReason', m->>'otid', m->>'senderId', m->>'groupId', (m->>'isErr')::boolean, m->>'model',
             ${now}::timestamptz
        FROM step, jsonb_array_elements(${messages}::jsonb) WITH ORDINALITY AS e(m, position)
       ORDER BY e.position
      RETURNING id, "sequenceId", "createdAt"
    ), context AS (
      UPDATE "Agent" SET "messageIds" = "messageIds" || ${messageIds}::text[], "updatedAt" = ${now}::timestamptz
       WHERE id = ${agentId} AND EXISTS (SELECT 1 FROM step)
      RETURNING "contextVersion"
    )
    SELECT (SELECT count(*) FROM live)::int AS live, (SELECT "contextVersion" FROM context) AS version,
           (SELECT COALESCE(json_agg(json_build_object('id', id, 'sequenceId', "sequenceId"::text, 'createdAt', "createdAt") ORDER BY "sequenceId"), '[]'::json)
              FROM messages) AS stored`;
  if (!row || row.live === 0) return null;
  const byId = new Map(row.stored.map((stored) => [stored.id, stored]));
  const rows = step.messages.map((message, index): MessageRow => {
    const id = messageIds[index]!;
    const stored = byId.get(id)!;
    return {
      id,
      organizationId: orgId,
      agentId,
      runId,
      stepId: step.stepId,
      batchItemId: null,
      ...messageFields(message),
      sequenceId: BigInt(stored.sequenceId),
      createdAt: new Date(stored.createdAt),
      updatedAt: now,
    } as MessageRow;
  });
  return { version: row.version ?? undefined, rows };
}

/** A stored step: the agent's context version after it, and its messages as stored. */
export interface WrittenStep {
  version: number | undefined;
  rows: MessageRow[];
}

/**
 * Writes an edited block (value, label, description), keeps the label its agents show it under in
 * step, and returns the agents that show it: one statement.
 */
export async function writeBlockEdit(tx: Prisma.TransactionClient, block: EditableBlock): Promise<string[]> {
  const [row] = await tx.$queryRaw<Array<{ edited: number; agentIds: string[] }>>`
    WITH edited AS (
      UPDATE "Block" SET value = ${block.value}, label = ${block.label}, description = ${block.description}, "updatedAt" = now()
       WHERE id = ${block.id} RETURNING id
    ), relabelled AS (
      UPDATE "BlockAgent" SET "blockLabel" = ${block.label}
       WHERE "blockId" IN (SELECT id FROM edited) AND "blockLabel" <> ${block.label}
    )
    SELECT (SELECT count(*) FROM edited)::int AS edited,
           ARRAY(SELECT "agentId" FROM "BlockAgent" WHERE "blockId" = ${block.id}) AS "agentIds"`;
  if (!row || row.edited === 0) throw new Error(`Block ${block.id} no longer exists`);
  return row.agentIds;
}
