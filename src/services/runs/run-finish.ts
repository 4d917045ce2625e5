import type { NewMessage, StopReason } from '../../agent/run-types.js';
import { statusOf } from '../../agent/run-types.js';
import { AppError, notFound } from '../../errors.js';
import { isConnectionLost, retryOnConnectionLoss } from '../../db/errors.js';
import { sqlOf } from '../../db/direct-sql.js';
import { insertMessages, messageRows } from '../messages/message-store.js';
import type { ServiceContext } from '../platform/context.js';
import { announceRunEnded } from '../platform/events.js';
import { afterMainTurn } from '../groups/sleeptime.js';

/** How a run that executed here ends: its final state, its agent's record of it, and the news. */

export async function finishRun(
  ctx: ServiceContext,
  runId: string,
  agentId: string,
  stopReason: StopReason,
  usage: { promptTokens: number; completionTokens: number; totalTokens: number; stepCount: number },
  error: { code: string; message: string; detail?: string } | undefined,
  durationMs: number,
  sleeptimeManager: boolean,
) {
  const completedAt = new Date();
  const storedUsage = {
    prompt_tokens: usage.promptTokens,
    completion_tokens: usage.completionTokens,
    total_tokens: usage.totalTokens,
    step_count: usage.stepCount,
  };
  const errorMetadata = error ? { error: { error_type: error.code.toLowerCase(), message: error.message, detail: error.detail ?? null } } : {};
  // One statement: a run cancelled meanwhile stays cancelled; the agent records how it ended.
  const [ended] = await sqlOf(ctx.prisma)<{ stopReason: StopReason }>`
    WITH previous AS (
      SELECT id, status = 'cancelled' AS cancelled FROM "Run" WHERE id = ${runId} FOR UPDATE
    ), ended AS (
      UPDATE "Run" SET "status" = (CASE WHEN p.cancelled THEN 'cancelled' ELSE ${statusOf(stopReason)} END)::"RunStatus",
                       "stopReason" = CASE WHEN p.cancelled THEN 'cancelled' ELSE ${stopReason} END,
                       "completedAt" = ${completedAt},
                       "totalDurationNs" = ${BigInt(durationMs) * 1_000_000n},
                       usage = ${JSON.stringify(storedUsage)}::jsonb,
                       metadata = COALESCE("Run".metadata, '{}'::jsonb) || ${JSON.stringify(errorMetadata)}::jsonb,
                       "updatedAt" = ${completedAt}
       FROM previous p
      WHERE "Run".id = p.id
      RETURNING "Run"."stopReason"
    ), agent AS (
      UPDATE "Agent"
         SET "lastStopReason" = (SELECT "stopReason" FROM ended), "lastRunCompletion" = ${completedAt}, "lastRunDurationMs" = ${durationMs}, "updatedAt" = ${completedAt}
       WHERE id = ${agentId} AND EXISTS (SELECT 1 FROM ended)
    )
    SELECT "stopReason" FROM ended`;
  if (!ended) throw notFound('Run', runId);
  const finalReason = ended.stopReason;
  announceRunEnded(ctx, { id: runId, agentId }, finalReason, error, { usage: storedUsage, executedHere: true });
  ctx.runtime.observer?.runEnded(statusOf(finalReason), finalReason, durationMs / 1000);
  ctx.logger.info({ runId, agentId, stopReason: finalReason, durationMs, steps: usage.stepCount, ...(error ? { code: error.code } : {}) }, 'run ended');
  // A turn of a sleeptime group's main agent may start its sleeptime agent's run.
  try {
    if (sleeptimeManager) await afterMainTurn(ctx, agentId, runId);
  } catch (caught) {
    ctx.logger.error({ err: caught, runId }, 'sleeptime runs could not be started');
  }
  return finalReason;
}

/** Waits before writing a run's end again after the connection was lost (about 10 s in all). */
export const FINISH_RETRIES_MS = [100, 300, 600, 1_000, 2_000, 3_000, 3_000];

/** The code and message a failed run shows for what made it fail. */
export function runError(caught: unknown): { code: string; message: string } {
  if (caught instanceof AppError) return { code: caught.code, message: caught.message };
  if (isConnectionLost(caught)) {
    return { code: 'DATABASE_UNAVAILABLE', message: 'The database connection was lost while the run was storing its work; the steps stored before remain' };
  }
  return { code: 'INTERNAL', message: 'The run failed unexpectedly' };
}

/** Input of a run that failed before its first step, kept and marked as errored. */
export async function keepErroredInput(ctx: ServiceContext, runId: string, agentId: string, messages: NewMessage[]) {
  const rows = messageRows(ctx.orgId, agentId, runId, null, messages.map((message) => ({ ...message, isErr: true })));
  await retryOnConnectionLoss(() => ctx.prisma.$transaction((tx) => insertMessages(tx, rows)), FINISH_RETRIES_MS.slice(0, 3), () => {});
}
