import * as groups from '../services/groups/groups.js';
import { Agent } from './agents.js';
import { builder } from './builder.js';
import { agentId, idOf } from './ids.js';

/** Letta's multi-agent groups; sleeptime groups run (docs/groups.md). */

const groupId = idOf('Group');

const ManagerTypeEnum = builder.enumType('ManagerType', {
  description: "How a group is managed (Letta's manager_type).",
  values: {
    ROUND_ROBIN: { value: 'round_robin', description: 'Members take turns (stored and exported; not run here).' },
    SUPERVISOR: { value: 'supervisor', description: 'A manager agent delegates to members (stored and exported; not run here).' },
    DYNAMIC: { value: 'dynamic', description: 'A manager agent picks the next speaker (stored and exported; not run here).' },
    SLEEPTIME: { value: 'sleeptime', description: "The main agent's turns start the members' background runs on its transcript." },
    VOICE_SLEEPTIME: { value: 'voice_sleeptime', description: 'Letta voice agents (stored and exported; not run here).' },
    SWARM: { value: 'swarm', description: 'Stored and exported; not run here.' },
  } as const,
});

export const Group = builder.prismaNode('Group', {
  id: { field: 'id' },
  findUnique: (id, ctx) => ({ id, organizationId: ctx.services.orgId }),
  nullable: true,
  description: "A multi-agent group: a manager (main) agent and member agents.",
  fields: (t) => ({
    managerType: t.field({ type: ManagerTypeEnum, description: 'How the group is managed.', resolve: (group) => group.managerType as groups.ManagerType }),
    description: t.exposeString('description', { description: 'Free text.' }),
    managerAgent: t.relation('managerAgent', { nullable: true, description: 'The main agent (sleeptime) or manager.' }),
    agents: t.field({
      type: [Agent],
      description: 'The member agents, in order.',
      select: { agents: { orderBy: [{ position: 'asc' }, { agentId: 'asc' }], select: { agent: true } } },
      resolve: (group) => group.agents.map((member) => member.agent),
    }),
    sleeptimeAgentFrequency: t.int({
      nullable: true,
      description: 'Sleeptime groups: the members run after every this many turns of the main agent.',
      select: { managerType: true, managerConfig: true },
      resolve: (group) => (group.managerType === 'sleeptime' || group.managerType === 'voice_sleeptime' ? groups.sleeptimeFrequencyOf(group) : null),
    }),
    turnsCounter: t.exposeInt('turnsCounter', { description: 'Turns of the main agent counted so far.' }),
    lastProcessedMessageId: t.exposeID('lastProcessedMessageId', { nullable: true, description: "The last message of the main agent's transcript the members were given." }),
    createdAt: t.expose('createdAt', { type: 'DateTime', description: 'When the group was created.' }),
  }),
});

builder.prismaObjectFields(Agent, (t) => ({
  groups: t.field({
    type: [Group],
    description: "Groups the agent manages or belongs to (Letta's list_agent_groups), newest first.",
    args: { managerType: t.arg({ type: ManagerTypeEnum, required: false, description: 'Only groups of this manager type.' }) },
    resolve: (agent, args, ctx) => groups.listGroups(ctx.services, { agentId: agent.id, managerType: args.managerType }),
  }),
}));

const CreateGroupInput = builder.inputType('CreateGroupInput', {
  description: 'A new group.',
  fields: (t) => ({
    managerType: t.field({ type: ManagerTypeEnum, description: 'How the group is managed.' }),
    managerAgentId: t.id({ required: false, description: 'The main agent (required for SLEEPTIME).' }),
    agentIds: t.idList({ description: 'The member agents, in order.' }),
    description: t.string({ required: false, description: 'Free text.' }),
    sleeptimeAgentFrequency: t.int({ required: false, description: `Sleeptime groups: run the members after every this many turns (default ${groups.DEFAULT_SLEEPTIME_FREQUENCY}).` }),
  }),
});
const UpdateGroupInput = builder.inputType('UpdateGroupInput', {
  description: 'A partial update of a group; omitted fields are kept.',
  fields: (t) => ({
    id: t.id({ description: 'The group.', validate: groupId }),
    agentIds: t.idList({ required: false, description: 'Replaces the members.' }),
    description: t.string({ required: false, description: 'Free text.' }),
    sleeptimeAgentFrequency: t.int({ required: false, description: 'Sleeptime groups only.' }),
  }),
});
const DeleteGroupInput = builder.inputType('DeleteGroupInput', {
  description: 'The group to delete (its agents stay).',
  fields: (t) => ({ id: t.id({ description: 'The group.', validate: groupId }) }),
});

type GroupShape = typeof Group.$inferType;
const groupPayload = (name: string, description: string) =>
  builder.objectRef<{ group: GroupShape }>(name).implement({
    description,
    fields: (t) => ({ group: t.field({ type: Group, description: 'The group.', resolve: (payload) => payload.group }) }),
  });
const CreateGroupPayload = groupPayload('CreateGroupPayload', 'The result of createGroup.');
const UpdateGroupPayload = groupPayload('UpdateGroupPayload', 'The result of updateGroup.');
const DeleteGroupPayload = builder.objectRef<{ deletedGroupId: string }>('DeleteGroupPayload').implement({
  description: 'The result of deleteGroup.',
  fields: (t) => ({ deletedGroupId: t.exposeID('deletedGroupId', { description: 'The deleted group.' }) }),
});

builder.queryFields((t) => ({
  group: t.field({
    type: Group,
    nullable: true,
    description: 'One group of your organization.',
    args: { id: t.arg.id({ validate: groupId, description: 'The group.' }) },
    resolve: (_root, args, ctx) => groups.getGroup(ctx.services, args.id),
  }),
  groups: t.field({
    type: [Group],
    description: 'Groups of your organization (at most 500), newest first.',
    args: {
      managerType: t.arg({ type: ManagerTypeEnum, required: false, description: 'Only groups of this manager type.' }),
      agentId: t.arg.id({ required: false, validate: agentId, description: 'Only groups this agent manages or belongs to.' }),
    },
    resolve: (_root, args, ctx) => groups.listGroups(ctx.services, args),
  }),
}));

builder.mutationFields((t) => ({
  createGroup: t.field({
    type: CreateGroupPayload,
    description: 'Creates a group.',
    args: { input: t.arg({ type: CreateGroupInput, description: 'The group.' }) },
    resolve: async (_root, args, ctx) => ({ group: await groups.createGroup(ctx.services, args.input) }),
  }),
  updateGroup: t.field({
    type: UpdateGroupPayload,
    description: "Changes a group's members, description or sleeptime frequency.",
    args: { input: t.arg({ type: UpdateGroupInput, description: 'The change.' }) },
    resolve: async (_root, args, ctx) => ({ group: await groups.updateGroup(ctx.services, args.input) }),
  }),
  deleteGroup: t.field({
    type: DeleteGroupPayload,
    description: 'Deletes a group; its agents stay.',
    args: { input: t.arg({ type: DeleteGroupInput, description: 'The group.' }) },
    resolve: async (_root, args, ctx) => ({ deletedGroupId: await groups.deleteGroup(ctx.services, args.input.id) }),
  }),
}));
