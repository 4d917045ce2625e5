import type { ServiceContext } from '../platform/context.js';

/** Whether the agent has a run queued or executing, on any instance. */
export async function agentIsBusy(ctx: ServiceContext, agentId: string): Promise<boolean> {
  return (await ctx.prisma.run.count({ where: { agentId, status: { in: ['created', 'running'] } } })) > 0;
}
