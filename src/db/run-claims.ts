import type { PrismaClient } from './client.js';
import { sqlOf } from './direct-sql.js';

export interface ClaimedRun {
  id: string;
  agentId: string;
  organizationId: string;
  /** What the run was sent (see RunInput in services/runs) and when it was queued. */
  input: unknown;
  createdAt: Date;
  /** The options it was sent with (how its messages are shown). */
  requestConfig: unknown;
  /** Other runs were queued when this one was claimed (some may be claimable now). */
  more: boolean;
}

/**
 * Claims the oldest queued run that may start now, for `executorId`, and marks it running.
 *
 * A run may start when no earlier run of its agent is queued or running, so each agent's runs
 * execute one at a time in (createdAt, id) order, whichever instances queued and execute them.
 * `FOR UPDATE SKIP LOCKED` lets instances claim concurrently: a run being claimed elsewhere is
 * skipped, and while it is (still 'created' in this snapshot) it also holds back its agent's
 * later runs, so two instances never start two runs of one agent. `more` (read in the same
 * snapshot) spares the claimer a second statement when nothing else waits.
 */
export async function claimNextRun(prisma: PrismaClient, executorId: string): Promise<ClaimedRun | null> {
  const rows = await sqlOf(prisma)<ClaimedRun>`
    UPDATE "Run"
       SET status = 'running', "executorId" = ${executorId}, "heartbeatAt" = now(), "startedAt" = now(), "updatedAt" = now()
     WHERE status = 'created'
       AND id = (
         SELECT c.id FROM "Run" c
          WHERE c.status = 'created'
            AND NOT EXISTS (
              SELECT 1 FROM "Run" e
               WHERE e."agentId" = c."agentId"
                 AND (e.status = 'running'
                      OR (e.status = 'created' AND (e."createdAt" < c."createdAt" OR (e."createdAt" = c."createdAt" AND e.id < c.id)))))
          ORDER BY c."createdAt", c.id
          LIMIT 1
          FOR UPDATE SKIP LOCKED)
    RETURNING id, "agentId", "organizationId", input, "createdAt", "requestConfig",
              EXISTS (SELECT 1 FROM "Run" o WHERE o.status = 'created' AND o.id <> "Run".id) AS more`;
  return rows[0] ?? null;
}
