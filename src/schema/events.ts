import type { AgentEvent } from '../realtime/bus.js';
import * as agents from '../services/agents.js';
import { assertAgentInOrg } from '../services/scope.js';
import { Agent } from './agent.js';
import { agentId } from './ids.js';
import { builder } from './builder.js';

const AgentEventTypeEnum = builder.enumType('AgentEventType', {
  values: ['AGENT_UPDATED', 'AGENT_DELETED'] as const,
});

const AgentEventRef = builder.objectRef<AgentEvent>('AgentEvent').implement({
  description: 'Something that happened to an agent, delivered to subscribers on every server instance.',
  fields: (t) => ({
    type: t.expose('type', { type: AgentEventTypeEnum }),
    agentId: t.exposeID('agentId'),
    at: t.expose('at', { type: 'DateTime' }),
    agent: t.field({
      type: Agent,
      nullable: true,
      description: 'The agent as it is now; null once deleted.',
      resolve: (event, _args, ctx) =>
        event.type === 'AGENT_DELETED' ? null : agents.getAgent(ctx.services, event.agentId).catch(() => null),
    }),
  }),
});

builder.subscriptionFields((t) => ({
  agentEvents: t.field({
    type: AgentEventRef,
    description: 'Changes to one agent, from any client and any instance.',
    args: { agentId: t.arg.id({ validate: agentId }) },
    subscribe: async (_root, args, ctx) => {
      await assertAgentInOrg(ctx.services.prisma, ctx.services.orgId, args.agentId);
      return untilDeleted(ctx.services.bus.pubsub.subscribe('agentEvents', args.agentId));
    },
    resolve: (event) => event,
  }),
}));

/** Ends the stream after the agent is deleted: there is nothing more to say about it. */
async function* untilDeleted(source: AsyncIterable<AgentEvent>) {
  for await (const event of source) {
    yield event;
    if (event.type === 'AGENT_DELETED') return;
  }
}
