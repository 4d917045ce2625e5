import type { AgentEvent, BlockEvent } from '../realtime/bus.js';
import { takeUntil } from '../realtime/interruptible.js';
import * as agents from '../services/agents/agents.js';
import * as blocks from '../services/memory/blocks.js';
import { messagesByIds } from '../services/messages/message-store.js';
import * as runs from '../services/runs/runs.js';
import { assertAgentInOrg } from '../services/platform/scope.js';
import { Agent } from './agents.js';
import { builder } from './builder.js';
import { StopReasonEnum, stopReasonOf } from './enums.js';
import { agentId, blockId } from './ids.js';
import { Block } from './memory.js';
import { MessageInterface } from './messages.js';
import { Run } from './runs.js';

const AgentEventTypeEnum = builder.enumType('AgentEventType', {
  description: "What happened to an agent.",
  values: {
    AGENT_UPDATED: { description: "The agent's settings changed." },
    AGENT_DELETED: { description: 'The agent was deleted; the subscription then completes.' },
    RUN_STARTED: { description: 'A run began executing (see runId; stream it with runEvents).' },
    RUN_ENDED: { description: 'A run ended (see stopReason).' },
    MESSAGES_ADDED: { description: 'A step stored messages (from any client’s run).' },
    BLOCK_CHANGED: { description: 'Its memory changed: a block edited (by any agent or client), attached or detached.' },
  } as const,
});

const AgentEventRef = builder.objectRef<AgentEvent>('AgentEvent').implement({
  description: 'Something that happened to an agent, delivered to subscribers on every server instance.',
  fields: (t) => ({
    type: t.field({ description: 'What happened.', type: AgentEventTypeEnum, resolve: (event) => event.type }),
    agentId: t.exposeID('agentId', { description: 'The agent.' }),
    at: t.field({ description: 'When it happened.', type: 'DateTime', resolve: (event) => event.at }),
    agent: t.field({
      type: Agent,
      nullable: true,
      description: 'The agent as it is now; null once deleted.',
      resolve: (event, _args, ctx) =>
        event.type === 'AGENT_DELETED' ? null : agents.getAgent(ctx.services, event.agentId).catch(() => null),
    }),
    runId: t.id({ description: 'RUN_STARTED, RUN_ENDED, MESSAGES_ADDED: the run.', nullable: true, resolve: (event) => event.runId ?? null }),
    run: t.field({ description: 'The run as it is now.',
      type: Run,
      nullable: true,
      resolve: (event, _args, ctx) => (event.runId ? runs.getRun(ctx.services, event.runId).catch(() => null) : null),
    }),
    stopReason: t.field({ type: StopReasonEnum, nullable: true, description: 'RUN_ENDED: why the run stopped.', resolve: (event) => stopReasonOf(event.stopReason) }),
    messages: t.field({
      type: [MessageInterface],
      nullable: true,
      description: 'For MESSAGES_ADDED: the new messages.',
      resolve: (event, _args, ctx) => (event.messageIds ? messagesByIds(ctx.services, event.agentId, event.messageIds) : null),
    }),
    blockIds: t.idList({ description: 'BLOCK_CHANGED: the blocks concerned.', nullable: true, resolve: (event) => event.blockIds ?? null }),
  }),
});

const BlockEventRef = builder.objectRef<BlockEvent>('BlockEvent').implement({
  description: 'A memory block changed (or was deleted), through any agent or client, on any instance.',
  fields: (t) => ({
    blockId: t.exposeID('blockId', { description: 'The block.' }),
    deleted: t.exposeBoolean('deleted', { description: 'The block was deleted (the subscription then completes).' }),
    at: t.field({ description: 'When it happened.', type: 'DateTime', resolve: (event) => event.at }),
    block: t.field({
      type: Block,
      nullable: true,
      description: 'The block as it is now; null once deleted.',
      resolve: (event, _args, ctx) => (event.deleted ? null : blocks.getBlock(ctx.services, event.blockId).catch(() => null)),
    }),
  }),
});

builder.subscriptionFields((t) => ({
  agentEvents: t.field({
    type: AgentEventRef,
    description: 'What a chat UI needs about one agent: runs starting and ending, new messages from any client, memory changes.',
    args: { agentId: t.arg.id({ description: 'The agent.', validate: agentId }) },
    subscribe: async (_root, args, ctx) => {
      await assertAgentInOrg(ctx.services.prisma, ctx.services.orgId, args.agentId);
      return takeUntil(ctx.services.bus.pubsub.subscribe('agentEvents', args.agentId), (event) => event.type === 'AGENT_DELETED');
    },
    resolve: (event) => event,
  }),
  blockUpdated: t.field({
    type: BlockEventRef,
    description: 'Live shared memory: every change to one block, whichever agent or client made it.',
    args: { blockId: t.arg.id({ description: 'The block.', validate: blockId }) },
    subscribe: async (_root, args, ctx) => {
      await blocks.getBlock(ctx.services, args.blockId);
      return takeUntil(ctx.services.bus.pubsub.subscribe('blockUpdated', args.blockId), (event) => event.deleted);
    },
    resolve: (event) => event,
  }),
}));
