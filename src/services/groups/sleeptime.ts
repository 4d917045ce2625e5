import type { Prisma } from '../../generated/prisma/client.js';
import { newId } from '../../ids.js';
import type { ServiceContext } from '../platform/context.js';
import { searchableText } from '../messages/message-search.js';
import { sleeptimeFrequencyOf } from './groups.js';

/**
 * Letta's sleeptime behaviour: every turn of a sleeptime group's main agent bumps the group's
 * counter; every `sleeptime_agent_frequency` turns each member (the sleeptime agent) runs in the
 * background on the main agent's transcript since the last time, as a run of its own (visible in
 * `runs`, streamed by `runEvents`, cancelled by `cancelRun`).
 */

/** The most transcript one sleeptime run is given; older messages were seen, or are left out. */
const MAX_TRANSCRIPT_MESSAGES = 200;
const MAX_TRANSCRIPT_CHARS = 100_000;

function transcriptOf(rows: Array<Pick<Prisma.MessageGetPayload<object>, 'role' | 'name' | 'content' | 'toolCalls'>>): string {
  const lines = rows.map((row) => `${row.role}: ${searchableText(row)}`).filter((line) => !line.endsWith(': '));
  let text = lines.join('\n');
  if (text.length > MAX_TRANSCRIPT_CHARS) text = text.slice(text.length - MAX_TRANSCRIPT_CHARS);
  return text;
}

export function sleeptimePrompt(agentName: string, transcript: string): string {
  return (
    `You are a sleeptime agent: you run in the background after the conversation of the agent "${agentName}" and keep the memory you share with it in order.\n` +
    'Below are the messages of that conversation since your last run. Update the shared memory blocks with what is worth remembering, then call memory_finish_edits.\n\n' +
    `<transcript>\n${transcript}\n</transcript>`
  );
}

/** Called when a run of `agentId` ends: counts the turn, and starts the sleeptime runs that are due. Returns their ids. */
export async function afterMainTurn(ctx: ServiceContext, agentId: string, runId: string): Promise<string[]> {
  const groups = await ctx.prisma.group.findMany({
    where: { managerAgentId: agentId, managerType: 'sleeptime' },
    include: { agents: { orderBy: [{ position: 'asc' }, { agentId: 'asc' }] }, managerAgent: { select: { name: true } } },
  });
  const started: string[] = [];
  for (const group of groups) {
    const { turnsCounter } = await ctx.prisma.group.update({ where: { id: group.id }, data: { turnsCounter: { increment: 1 } }, select: { turnsCounter: true } });
    if (turnsCounter % sleeptimeFrequencyOf(group) !== 0 || group.agents.length === 0) continue;

    const last = group.lastProcessedMessageId
      ? await ctx.prisma.message.findUnique({ where: { id: group.lastProcessedMessageId }, select: { sequenceId: true } })
      : null;
    const rows = await ctx.prisma.message.findMany({
      where: { agentId, role: { not: 'system' }, ...(last ? { sequenceId: { gt: last.sequenceId } } : {}) },
      orderBy: { sequenceId: 'desc' },
      take: MAX_TRANSCRIPT_MESSAGES,
      select: { id: true, role: true, name: true, content: true, toolCalls: true },
    });
    if (rows.length === 0) continue;
    rows.reverse();
    await ctx.prisma.group.update({ where: { id: group.id }, data: { lastProcessedMessageId: rows.at(-1)!.id } });
    const text = sleeptimePrompt(group.managerAgent?.name ?? agentId, transcriptOf(rows));
    for (const member of group.agents) {
      const run = await ctx.prisma.run.create({
        data: {
          id: newId('Run'),
          organizationId: ctx.orgId,
          agentId: member.agentId,
          status: 'created',
          background: true,
          input: { messages: [{ role: 'user', content: [{ type: 'text', text }], groupId: group.id }], maxSteps: 50, ...ctx.runtime.tracing?.carrier() } as Prisma.InputJsonValue,
          requestConfig: { use_assistant_message: true, assistant_message_tool_name: 'send_message', assistant_message_tool_kwarg: 'message', include_return_message_types: null, max_steps: 50 },
          metadata: { run_type: 'sleeptime', group_id: group.id, trigger_run_id: runId, manager_agent_id: agentId },
        },
      });
      started.push(run.id);
      ctx.bus.pubsub.publish('runQueued', { runId: run.id, from: ctx.runtime.instanceId });
    }
  }
  if (started.length) ctx.runtime.queue.notify();
  return started;
}
