import type { AgentEvent } from '../../realtime/bus.js';
import type { RunEvent, StopReason } from '../../agent/run-types.js';
import type { ServiceContext } from './context.js';

/** Publishing on the event bus (Redis pub/sub across instances, or in process). */

type BusContext = Pick<ServiceContext, 'bus' | 'orgId'>;

export function publishAgentEvent(ctx: BusContext, agentId: string, event: Omit<AgentEvent, 'organizationId' | 'at' | 'agentId'>): void {
  ctx.bus.pubsub.publish('agentEvents', agentId, { ...event, agentId, organizationId: ctx.orgId, at: new Date().toISOString() });
}

/** Tells every agent showing the blocks, and every subscriber of the blocks, that they changed. */
export function publishBlockChanges(ctx: BusContext, changes: { agentIds: string[]; blockIds: string[]; deleted?: boolean }): void {
  const at = new Date().toISOString();
  for (const blockId of changes.blockIds) {
    ctx.bus.pubsub.publish('blockUpdated', blockId, { blockId, organizationId: ctx.orgId, deleted: changes.deleted ?? false, at });
  }
  for (const agentId of new Set(changes.agentIds)) publishAgentEvent(ctx, agentId, { type: 'BLOCK_CHANGED', blockIds: changes.blockIds });
}

/** Tells subscribers of the files that their processing moved on, or that they were deleted. */
export function publishFileUpdates(bus: ServiceContext['bus'], organizationId: string, fileIds: string[], deleted = false): void {
  const at = new Date().toISOString();
  for (const fileId of fileIds) bus.pubsub.publish('fileUpdated', fileId, { fileId, organizationId, deleted, at });
}

/**
 * A run ended (however, on whichever instance): its stream gets the stop event, the agent's
 * subscribers learn it, and every instance can wake whoever waits for it and start the agent's
 * next run.
 */
export function announceRunEnded(
  ctx: Pick<ServiceContext, 'bus' | 'orgId' | 'runtime'>,
  run: { id: string; agentId: string },
  stopReason: StopReason,
  error?: { code: string; message: string; detail?: string },
  ending?: { usage: Extract<RunEvent, { type: 'stop' }>['usage']; executedHere: boolean },
): void {
  ctx.runtime.events?.emit(run.id, { type: 'stop', stopReason, error, usage: ending?.usage });
  // Waiters here wake now; the bus tells the other instances (its echo finds no one left here).
  ctx.runtime.endings.ended(run.id);
  publishAgentEvent(ctx, run.agentId, { type: 'RUN_ENDED', runId: run.id, stopReason });
  ctx.bus.pubsub.publish('runEnded', { runId: run.id, ...(ending?.executedHere ? { from: ctx.runtime.instanceId } : {}) });
}
