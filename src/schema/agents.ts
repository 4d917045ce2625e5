import { queryFromInfo } from '@pothos/plugin-prisma';
import { AGENT_TYPES } from '../agent/prompts.js';
import * as agents from '../services/agents/agents.js';
import { connectionOf } from './connection.js';
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
    name: t.exposeString('name'),
    description: t.exposeString('description', { nullable: true }),
    system: t.exposeString('system', { description: 'The system template; {CORE_MEMORY} marks where memory goes.' }),
    agentType: t.field({ type: AgentTypeEnum, select: { agentType: true }, resolve: (agent) => agent.agentType as (typeof AGENT_TYPES)[number] }),
    tags: t.exposeStringList('tags'),
    metadata: t.expose('metadata', { type: 'JSON', nullable: true }),
    model: t.exposeString('model', { nullable: true, description: "Model handle 'provider/model'." }),
    embedding: t.exposeString('embedding', { nullable: true, description: "Embedding handle 'provider/model'." }),
    timezone: t.exposeString('timezone'),
    maxFilesOpen: t.exposeInt('maxFilesOpen', { nullable: true }),
    perFileViewWindowCharLimit: t.exposeInt('perFileViewWindowCharLimit', { nullable: true }),
    lastRunCompletion: t.expose('lastRunCompletion', { type: 'DateTime', nullable: true }),
    lastRunDurationMs: t.exposeInt('lastRunDurationMs', { nullable: true }),
    lastStopReason: t.field({ type: StopReasonEnum, nullable: true, select: { lastStopReason: true }, description: 'Why its last run stopped.', resolve: (agent) => stopReasonOf(agent.lastStopReason) }),
    toolRules: t.field({
      type: 'JSON',
      select: { toolRules: true },
      description: "The agent's tool rules in Letta's shape (type, tool_name, ...).",
      resolve: (agent) => agent.toolRules ?? [],
    }),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
    updatedAt: t.expose('updatedAt', { type: 'DateTime' }),
  }),
});

const AgentSortFieldEnum = builder.enumType('AgentSortField', {
  values: {
    CREATED_AT: { value: 'createdAt' },
    UPDATED_AT: { value: 'updatedAt' },
    LAST_RUN_COMPLETION: { value: 'lastRunCompletion', description: 'Agents that never ran come last.' },
  } as const,
});

const AgentOrder = builder.inputType('AgentOrder', {
  fields: (t) => ({
    field: t.field({ type: AgentSortFieldEnum, defaultValue: 'createdAt' }),
    direction: t.field({ type: SortDirectionEnum, defaultValue: 'desc' }),
  }),
});

const AgentFilter = builder.inputType('AgentFilter', {
  fields: (t) => ({
    name: t.string({ required: false, description: 'Exact name.' }),
    tags: t.stringList({ required: false }),
    tagMatchMode: t.field({ type: TagMatchModeEnum, required: false, defaultValue: 'any', description: 'Whether an agent needs any or every one of the tags.' }),
    search: t.string({ required: false, description: 'Case-insensitive text in the name or description.' }),
  }),
});

const CreateAgentInput = builder.inputType('CreateAgentInput', {
  fields: (t) => ({
    name: t.string({ required: false, description: 'Default: a random AdjectiveNoun.' }),
    description: t.string({ required: false }),
    system: t.string({ required: false, description: 'Default: the built-in template of the agent type.' }),
    agentType: t.field({ type: AgentTypeEnum, required: false, description: 'Default: LETTA_V1_AGENT.' }),
    tags: t.stringList({ required: false }),
    metadata: t.field({ type: 'JSON', required: false }),
    model: t.string({ required: false, description: "Model handle 'provider/model'." }),
    embedding: t.string({ required: false, description: "Embedding handle 'provider/model'." }),
    timezone: t.string({ required: false, description: 'IANA time zone; default UTC.' }),
    maxFilesOpen: t.int({ required: false }),
    perFileViewWindowCharLimit: t.int({ required: false }),
    contextWindowLimit: t.int({ required: false, description: 'Tokens the model accepts (Letta context_window_limit); default DEFAULT_CONTEXT_WINDOW.' }),
    memoryBlocks: t.field({ type: [CreateBlockInput], required: false, description: 'New blocks created with the agent.' }),
    blockIds: t.idList({ required: false, description: 'Existing blocks to share with this agent.' }),
    toolIds: t.idList({ required: false }),
    tools: t.stringList({ required: false, description: 'Tools to attach by name.' }),
    includeBaseTools: t.boolean({ required: false, defaultValue: true, description: 'Attach the base tools of the agent type.' }),
    includeBaseToolRules: t.boolean({ required: false, description: 'Add the base tool rules of the agent type (default: yes where Letta adds them).' }),
    toolRules: t.field({ type: 'JSON', required: false, description: "Letta tool rules, e.g. [{\"type\": \"exit_loop\", \"tool_name\": \"send_message\"}]." }),
  }),
});

const UpdateAgentInput = builder.inputType('UpdateAgentInput', {
  description: 'Partial update: omitted fields are kept; null clears a nullable field.',
  fields: (t) => ({
    id: t.id({ validate: agentId, description: 'The agent to update.' }),
    name: t.string({ required: false }),
    description: t.string({ required: false }),
    system: t.string({ required: false }),
    tags: t.stringList({ required: false }),
    metadata: t.field({ type: 'JSON', required: false }),
    model: t.string({ required: false }),
    embedding: t.string({ required: false }),
    timezone: t.string({ required: false }),
    maxFilesOpen: t.int({ required: false }),
    perFileViewWindowCharLimit: t.int({ required: false }),
    contextWindowLimit: t.int({ required: false, description: 'Null returns to the server default.' }),
    toolRules: t.field({ type: 'JSON', required: false, description: 'Replaces all tool rules; the system prompt is rebuilt.' }),
  }),
});

type AgentShape = typeof Agent.$inferType;

const agentPayload = (name: string) =>
  builder.objectRef<{ agent: AgentShape }>(name).implement({
    fields: (t) => ({ agent: t.field({ type: Agent, resolve: (payload) => payload.agent }) }),
  });

const CreateAgentPayload = agentPayload('CreateAgentPayload');
const UpdateAgentPayload = agentPayload('UpdateAgentPayload');
const DeleteAgentInput = builder.inputType('DeleteAgentInput', {
  fields: (t) => ({ id: t.id({ validate: agentId, description: 'The agent to delete.' }) }),
});

const DeleteAgentPayload = builder.objectRef<{ deletedAgentId: string }>('DeleteAgentPayload').implement({
  fields: (t) => ({ deletedAgentId: t.exposeID('deletedAgentId') }),
});

builder.queryFields((t) => ({
  agent: t.prismaField({
    type: 'Agent',
    nullable: true,
    description: 'One agent; a NOT_FOUND error (and null) when it does not exist in your organization.',
    args: { id: t.arg.id({ validate: agentId }) },
    resolve: (query, _root, args, ctx) => agents.getAgent(ctx.services, args.id, query),
  }),
  agents: t.connection({
    type: Agent,
    args: {
      filter: t.arg({ type: AgentFilter, required: false }),
      orderBy: t.arg({ type: AgentOrder, required: false }),
    },
    resolve: async (_root, args, ctx, info) => {
      const query = queryFromInfo({ context: ctx, info, path: ['edges', 'node'] });
      const page = await agents.listAgents(ctx.services, args, query);
      return { ...connectionOf(page),
        filter: args.filter ?? {},
      };
    },
  }, {
    fields: (t) => ({
      totalCount: t.int({
        description: 'Agents matching the filter, across all pages.',
        resolve: (connection, _args, ctx) => agents.countAgents(ctx.services, (connection as { filter: agents.AgentFilter }).filter),
      }),
    }),
  }),
  agentCount: t.int({
    args: { filter: t.arg({ type: AgentFilter, required: false }) },
    resolve: (_root, args, ctx) => agents.countAgents(ctx.services, args.filter ?? {}),
  }),
}));

builder.mutationFields((t) => ({
  createAgent: t.field({
    type: CreateAgentPayload,
    args: { input: t.arg({ type: CreateAgentInput }) },
    resolve: async (_root, args, ctx) => ({ agent: await agents.createAgent(ctx.services, args.input) }),
  }),
  updateAgent: t.field({
    type: UpdateAgentPayload,
    args: { input: t.arg({ type: UpdateAgentInput }) },
    resolve: async (_root, { input: { id, ...patch } }, ctx) => ({ agent: await agents.updateAgent(ctx.services, id, patch) }),
  }),
  deleteAgent: t.field({
    type: DeleteAgentPayload,
    args: { input: t.arg({ type: DeleteAgentInput }) },
    resolve: async (_root, args, ctx) => ({ deletedAgentId: await agents.deleteAgent(ctx.services, args.input.id) }),
  }),
}));
