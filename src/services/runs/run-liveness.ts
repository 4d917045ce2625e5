import type { Prisma } from '../../generated/prisma/client.js';
import type { PrismaClient } from '../../db/client.js';
import type { Logger } from '../../logger.js';
import type { EventBus } from '../../realtime/bus.js';
import type { Runtime } from '../platform/context.js';
import { announceRunEnded } from '../platform/events.js';

/**
 * Runs are never left `running` by an instance that died, nor by one that could not record their
 * end (its database connection lost for longer than executeRun retries). Each instance beats for
 * the runs it is executing right now; every instance fails the runs whose heartbeat is older than
 * `staleMs` and that it is not executing itself, and their subscribers learn that they ended.
 */
export interface LivenessOptions {
  heartbeatMs: number;
  staleMs: number;
}

const ACTIVE = { in: ['created', 'running'] } as Prisma.EnumRunStatusFilter;


export function startRunLiveness(
  deps: { prisma: PrismaClient; bus: EventBus; runtime: Runtime; logger: Logger },
  options: LivenessOptions,
): () => Promise<void> {
  const { prisma, runtime, logger } = deps;
  let stopped = false;
  let work = Promise.resolve();

  const beat = async () => {
    const executing = runtime.queue.runningIds();
    if (executing.length === 0) return;
    await prisma.run.updateMany({ where: { id: { in: executing }, executorId: runtime.instanceId, status: ACTIVE }, data: { heartbeatAt: new Date() } });
    // A cancel whose bus message was lost (Redis away) still stops the model call, a beat later.
    const cancelled = await prisma.run.findMany({ where: { id: { in: executing }, status: 'cancelled' }, select: { id: true } });
    for (const run of cancelled) runtime.queue.abort(run.id);
  };

  const reap = async () => {
    const staleBefore = new Date(Date.now() - options.staleMs);
    const stale = await prisma.run.findMany({
      where: { status: ACTIVE, heartbeatAt: { lt: staleBefore }, executorId: { not: null }, id: { notIn: runtime.queue.runningIds() } },
      select: { id: true, agentId: true, organizationId: true, executorId: true },
      take: 100,
    });
    for (const run of stale) {
      const message = 'The server instance executing this run stopped, or lost its database connection, before the run ended';
      const completedAt = new Date();
      const claimed = await prisma.run.updateMany({
        where: { id: run.id, status: ACTIVE, heartbeatAt: { lt: staleBefore } },
        data: {
          status: 'failed',
          stopReason: 'error',
          completedAt,
          metadata: { error: { error_type: 'internal', message, detail: `executor ${run.executorId ?? 'unknown'} sent no heartbeat for ${options.staleMs} ms` } },
        },
      });
      if (claimed.count === 0) continue; // another instance reaped it first
      await prisma.agent.update({ where: { id: run.agentId }, data: { lastStopReason: 'error', lastRunCompletion: completedAt } });
      logger.warn({ runId: run.id, executorId: run.executorId }, 'failed a run whose instance stopped');
      announceRunEnded({ bus: deps.bus, orgId: run.organizationId, runtime }, run, 'error', { code: 'INTERNAL', message });
    }
  };

  const tick = () => {
    if (stopped) return;
    work = work
      .then(beat)
      .then(reap)
      .catch((error: unknown) => logger.error({ err: error }, 'run liveness check failed'));
  };
  const timer = setInterval(tick, options.heartbeatMs);
  timer.unref();
  tick();
  return async () => {
    stopped = true;
    clearInterval(timer);
    await work;
  };
}
