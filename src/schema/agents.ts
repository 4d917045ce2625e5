import { queryFromInfo } from '@pothos/plugin-prisma';
import { AGENT_TYPES } from '../agent/prompts.js';
import * as agents from '../services/agents/agents.js';
import { createAgentWithSleeptime } from '../services/groups/groups.js';
import { connectionOf, named } from './connection.js';
import { builder, SortDirectionEnum } from './builder.js';
import { StopReasonEnum, stopReasonOf, TagMatchModeEnum, upperValues } from './enums.js';
import { agentId } from './ids.js';
import { CreateBlockInput } from './inputs.js';

export const AgentTypeEnum = builder.enumType('AgentType', {
  description: "Letta's agent types: the default system prompt, base tools and tool rules an agent starts with.",
  values: upperValues(AGENT_TYPES, {
    letta_v1_agent: 'The current Letta agent: answers in plain text, no heartbeats (the default).',
    memgpt_agent: 'The original MemGPT agent: answers through send_message, with heartbeats.',
    memgpt_v2_agent: 'MemGPT with the newer memory tools.',
    react_agent: 'A ReAct agent without memory editing.',
    workflow_agent: 'A workflow agent: tool rules drive it, no memory tools.',
    sleeptime_agent: 'A sleep-time agent that edits the memory of the agents it serves.',
  }),
});

export const Agent = builder.prismaNode('Agent', {
  id: { field: 'id' },
  // Node lookups stay inside the caller's organization: a foreign id is simply not found.
  findUnique: (id, ctx) => ({ id, organizationId: ctx.services.orgId }),
  nullable: true, // node(id) of an unknown or foreign id is null, not an error
  // Select mode: a query loads only the columns its fields need (messageIds grows with history).
  select: { id: true },
  description: 'A stateful agent: its settings, and (in later fields) memory, tools, files and history.',
  fields: (t) => ({
    name: t.exposeString('name', { description: 'Unique in your organization.' }),
    description: t.exposeString('description', { description: 'Free text about the agent.', nullable: true }),
    system: t.exposeString('system', { description: 'The system template; {CORE_MEMORY} marks where memory goes.' }),
    agentType: t.field({ description: 'Its Letta agent type.', type: AgentTypeEnum, select: { agentType: true }, resolve: (agent) => agent.agentType as (typeof AGENT_TYPES)[number] }),
    tags: t.exposeStringList('tags', { description: 'Labels to filter agents by.' }),
    metadata: t.expose('metadata', { description: 'Free-form metadata.', type: 'JSON', nullable: true }),
    model: t.exposeString('model', { nullable: true, description: "Model handle 'provider/model'." }),
    embedding: t.exposeString('embedding', { nullable: true, description: "Embedding handle 'provider/model'." }),
    timezone: t.exposeString('timezone', { description: 'IANA time zone the agent tells times in.' }),
    maxFilesOpen: t.exposeInt('maxFilesOpen', { description: 'Files of attached folders open at once (least recently used close first); null = the server default.', nullable: true }),
    perFileViewWindowCharLimit: t.exposeInt('perFileViewWindowCharLimit', { description: 'Characters of an open file shown to the model; null = the server default.', nullable: true }),
    lastRunCompletion: t.expose('lastRunCompletion', { description: 'When its last run ended.', type: 'DateTime', nullable: true }),
    lastRunDurationMs: t.exposeInt('lastRunDurationMs', { description: 'How long its last run took.', nullable: true }),
    lastStopReason: t.field({ type: StopReasonEnum, nullable: true, select: { lastStopReason: true }, description: 'Why its last run stopped.', resolve: (agent) => stopReasonOf(agent.lastStopReason) }),
    toolRules: t.field({
      type: 'JSON',
      select: { toolRules: true },
      description: "The agent's tool rules in Letta's shape (type, tool_name, ...).",
      resolve: (agent) => agent.toolRules ?? [],
    }),
    createdAt: t.expose('createdAt', { description: 'When it was created.', type: 'DateTime' }),
    updatedAt: t.expose('updatedAt', { description: 'When its settings last changed.', type: 'DateTime' }),
  }),
});

const AgentSortFieldEnum = builder.enumType('AgentSortField', {
  description: "What agents sort by.",
  values: {
    CREATED_AT: { value: 'createdAt' },
    UPDATED_AT: { value: 'updatedAt' },
    LAST_RUN_COMPLETION: { value: 'lastRunCompletion', description: 'Agents that never ran come last.' },
  } as const,
});

const AgentOrder = builder.inputType('AgentOrder', {
  description: "The order of the agent list.",
  fields: (t) => ({
    field: t.field({ description: 'What to sort by.', type: AgentSortFieldEnum, defaultValue: 'createdAt' }),
    direction: t.field({ description: 'DESC (default) or ASC.', type: SortDirectionEnum, defaultValue: 'desc' }),
  }),
});

const AgentFilter = builder.inputType('AgentFilter', {
  description: "Which agents to list.",
  fields: (t) => ({
    name: t.string({ required: false, description: 'Exact name.' }),
    tags: t.stringList({ description: 'Only agents with these tags (see tagMatchMode).', required: false }),
    tagMatchMode: t.field({ type: TagMatchModeEnum, required: false, defaultValue: 'any', description: 'Whether an agent needs any or every one of the tags.' }),
    search: t.string({ required: false, description: 'Case-insensitive text in the name or description.' }),
  }),
});

const CreateAgentInput = builder.inputType('CreateAgentInput', {
  description: "A new agent. Every field is optional: an empty input creates a default agent.",
  fields: (t) => ({
    name: t.string({ required: false, description: 'Default: a random AdjectiveNoun.' }),
    description: t.string({ description: 'Free text about the agent.', required: false }),
    system: t.string({ required: false, description: 'Default: the built-in template of the agent type.' }),
    agentType: t.field({ type: AgentTypeEnum, required: false, description: 'Default: LETTA_V1_AGENT.' }),
    tags: t.stringList({ description: 'Labels to filter agents by.', required: false }),
    metadata: t.field({ description: 'Free-form metadata.', type: 'JSON', required: false }),
    model: t.string({ required: false, description: "Model handle 'provider/model'." }),
    embedding: t.string({ required: false, description: "Embedding handle 'provider/model'." }),
    timezone: t.string({ required: false, description: 'IANA time zone; default UTC.' }),
    maxFilesOpen: t.int({ description: 'Files open at once; default: the server default.', required: false }),
    perFileViewWindowCharLimit: t.int({ description: 'Characters of an open file shown to the model; default: the server default.', required: false }),
    contextWindowLimit: t.int({ required: false, description: 'Tokens the model accepts (Letta context_window_limit); default DEFAULT_CONTEXT_WINDOW.' }),
    memoryBlocks: t.field({ type: [CreateBlockInput], required: false, description: 'New blocks created with the agent.' }),
    blockIds: t.idList({ required: false, description: 'Existing blocks to share with this agent.' }),
    toolIds: t.idList({ description: 'Tools to attach by id.', required: false }),
    tools: t.stringList({ required: false, description: 'Tools to attach by name.' }),
    includeBaseTools: t.boolean({ required: false, defaultValue: true, description: 'Attach the base tools of the agent type.' }),
    includeBaseToolRules: t.boolean({ required: false, description: 'Add the base tool rules of the agent type (default: yes where Letta adds them).' }),
    toolRules: t.field({ type: 'JSON', required: false, description: "Letta tool rules, e.g. [{\"type\": \"exit_loop\", \"tool_name\": \"send_message\"}]." }),
    enableSleeptime: t.boolean({
      required: false,
      defaultValue: false,
      description: "Also create '<name>-sleeptime', a sleeptime agent sharing the blocks, and a SLEEPTIME group of the two (as Letta does; docs/groups.md).",
    }),
  }),
});

const UpdateAgentInput = builder.inputType('UpdateAgentInput', {
  description: 'Partial update: omitted fields are kept; null clears a nullable field.',
  fields: (t) => ({
    id: t.id({ validate: agentId, description: 'The agent to update.' }),
    name: t.string({ description: 'A new name (unique in your organization).', required: false }),
    description: t.string({ description: 'Free text about the agent.', required: false }),
    system: t.string({ description: 'A new system template; the system prompt is rebuilt.', required: false }),
    tags: t.stringList({ description: 'Replaces the tags.', required: false }),
    metadata: t.field({ description: 'Replaces the metadata.', type: 'JSON', required: false }),
    model: t.string({ description: 'Model handle \'provider/model\'.', required: false }),
    embedding: t.string({ description: 'Embedding handle \'provider/model\'.', required: false }),
    timezone: t.string({ description: 'IANA time zone.', required: false }),
    maxFilesOpen: t.int({ description: 'Files open at once.', required: false }),
    perFileViewWindowCharLimit: t.int({ description: 'Characters of an open file shown to the model.', required: false }),
    contextWindowLimit: t.int({ required: false, description: 'Null returns to the server default.' }),
    toolRules: t.field({ type: 'JSON', required: false, description: 'Replaces all tool rules; the system prompt is rebuilt.' }),
  }),
});

type AgentShape = typeof Agent.$inferType;

const agentPayload = (name: string, description: string, agentDescription: string) =>
  builder.objectRef<{ agent: AgentShape }>(name).implement({
    description,
    fields: (t) => ({ agent: t.field({ type: Agent, description: agentDescription, resolve: (payload) => payload.agent }) }),
  });

const CreateAgentPayload = agentPayload('CreateAgentPayload', 'The result of createAgent.', 'The new agent.');
const UpdateAgentPayload = agentPayload('UpdateAgentPayload', 'The result of updateAgent.', 'The agent as it is now.');
const DeleteAgentInput = builder.inputType('DeleteAgentInput', {
  description: "The agent to delete.",
  fields: (t) => ({ id: t.id({ validate: agentId, description: 'The agent to delete.' }) }),
});

const DeleteAgentPayload = builder.objectRef<{ deletedAgentId: string }>('DeleteAgentPayload').implement({
  description: "The result of deleteAgent.",
  fields: (t) => ({ deletedAgentId: t.exposeID('deletedAgentId', { description: 'The id of the deleted agent.' }) }),
});

builder.queryFields((t) => ({
  agent: t.prismaField({
    type: 'Agent',
    nullable: true,
    description: 'One agent; a NOT_FOUND error (and null) when it does not exist in your organization.',
    args: { id: t.arg.id({ description: 'The agent id.', validate: agentId }) },
    resolve: (query, _root, args, ctx) => agents.getAgent(ctx.services, args.id, query),
  }),
  agents: t.connection({
    type: Agent,
    description: 'Agents of your organization; newest first by default.',
    args: {
      filter: t.arg({ description: 'Which agents.', type: AgentFilter, required: false }),
      orderBy: t.arg({ description: 'Their order.', type: AgentOrder, required: false }),
    },
    resolve: async (_root, args, ctx, info) => {
      const query = queryFromInfo({ context: ctx, info, path: ['edges', 'node'] });
      return connectionOf(await agents.listAgents(ctx.services, args, query));
    },
  }, ...named('Agent', 'agents')),
  agentCount: t.int({ description: 'How many agents match the filter.',
    args: { filter: t.arg({ description: 'Which agents.', type: AgentFilter, required: false }) },
    resolve: (_root, args, ctx) => agents.countAgents(ctx.services, args.filter ?? {}),
  }),
}));

builder.mutationFields((t) => ({
  createAgent: t.field({ description: 'Creates an agent with its memory blocks, tools and system prompt.',
    type: CreateAgentPayload,
    args: { input: t.arg({ type: CreateAgentInput, description: 'Everything the mutation needs, ids included.' }) },
    resolve: async (_root, args, ctx) => {
      const { enableSleeptime, ...input } = args.input;
      return { agent: await (enableSleeptime ? createAgentWithSleeptime(ctx.services, input) : agents.createAgent(ctx.services, input)) };
    },
  }),
  updateAgent: t.field({ description: 'Changes an agent\'s settings; its system prompt is rebuilt when they show in it.',
    type: UpdateAgentPayload,
    args: { input: t.arg({ type: UpdateAgentInput, description: 'Everything the mutation needs, ids included.' }) },
    resolve: async (_root, { input: { id, ...patch } }, ctx) => ({ agent: await agents.updateAgent(ctx.services, id, patch) }),
  }),
  deleteAgent: t.field({ description: 'Deletes an agent with its messages, runs and archival memory; blocks that other agents still show stay.',
    type: DeleteAgentPayload,
    args: { input: t.arg({ type: DeleteAgentInput, description: 'Everything the mutation needs, ids included.' }) },
    resolve: async (_root, args, ctx) => ({ deletedAgentId: await agents.deleteAgent(ctx.services, args.input.id) }),
  }),
}));
