import { queryFromInfo } from '@pothos/plugin-prisma';
import * as agents from '../services/agents/agents.js';
import * as tools from '../services/tools/tools.js';
import { Agent } from './agents.js';
import { connectionOf, named } from './connection.js';
import { firstArgOptions, nestedFirst, takeOf } from './cost.js';
import { builder } from './builder.js';
import { TOOL_TYPES, type ToolType } from '../agent/tools/builtin.js';
import { upperValues } from './enums.js';

export const ToolTypeEnum = builder.enumType('ToolType', {
  description: "Letta's tool types: CUSTOM for client-side tools, the others built in (or imported from an agent file).",
  values: upperValues<ToolType>(TOOL_TYPES, {
    custom: 'A client-side tool: your client executes it.',
    letta_core: 'Core agent tools (send_message, conversation_search, …).',
    letta_memory_core: 'Memory tools (core_memory_append, memory_replace, …).',
    letta_multi_agent_core: 'Tools that message other agents.',
    letta_sleeptime_core: 'Tools of sleep-time agents.',
    letta_voice_sleeptime_core: 'Tools of voice sleep-time agents.',
    letta_builtin: 'Built-in utility tools (web search, code execution).',
    letta_files_core: 'File tools (open_files, grep_files, semantic_search_files).',
    external_mcp: 'A tool of an MCP server.',
  }),
});
import { agentId, toolId } from './ids.js';

export const Tool = builder.prismaNode('Tool', {
  id: { field: 'id' },
  // Select mode: a query loads only the columns its fields need (json schemas are large), and
  // always the name, read with a plain resolver (a selected field costs Pothos a lookup per row).
  select: { id: true, name: true },
  findUnique: (id, ctx) => ({ id, organizationId: ctx.services.orgId }),
  nullable: true,
  description: 'A tool an agent can call: built in, or client-side (declared with a JSON schema, executed by the client).',
  fields: (t) => ({
    name: t.string({ description: 'The name the model calls it by; unique in your organization.', resolve: (tool) => tool.name }),
    description: t.exposeString('description', { description: 'What it does, shown to the model.', nullable: true }),
    toolType: t.field({ type: ToolTypeEnum, select: { toolType: true }, description: 'CUSTOM for client-side tools, EXTERNAL_MCP for tools of MCP servers; the others are built in.', resolve: (tool) => tool.toolType as ToolType }),
    builtIn: t.boolean({ select: { toolType: true }, description: 'Defined by this server (not client-side, not from an MCP server).', resolve: (tool) => tool.toolType !== 'custom' && tool.toolType !== 'external_mcp' }),
    jsonSchema: t.expose('jsonSchema', { type: 'JSON', description: 'The function schema sent to the model: {name, description, parameters}.' }),
    parameters: t.field({
      type: 'JSON',
      description: 'The JSON Schema of the arguments.',
      select: { jsonSchema: true },
      resolve: (tool) => (tool.jsonSchema as { parameters?: unknown } | null)?.parameters ?? {},
    }),
    tags: t.exposeStringList('tags', { description: 'Labels to filter tools by.' }),
    returnCharLimit: t.exposeInt('returnCharLimit', { description: 'Characters of its result the model sees.' }),
    defaultRequiresApproval: t.exposeBoolean('defaultRequiresApproval', { description: 'Calls wait for approval unless an agent says otherwise.' }),
    createdAt: t.expose('createdAt', { description: 'When it was created.', type: 'DateTime' }),
    updatedAt: t.expose('updatedAt', { description: 'When it last changed.', type: 'DateTime' }),
  }),
});

type ToolShape = typeof Tool.$inferType;

const AgentTool = builder
  .objectRef<{ tool: ToolShape; requiresApproval: boolean; createdAt: Date }>('AgentTool')
  .implement({
    description: 'A tool as attached to one agent.',
    fields: (t) => ({
      tool: t.field({ description: 'The tool.', type: Tool, resolve: (link) => link.tool }),
      requiresApproval: t.exposeBoolean('requiresApproval', { description: 'Calls wait for a human approval.' }),
      attachedAt: t.expose('createdAt', { description: 'When it was attached.', type: 'DateTime' }),
    }),
  });

const linkOrder = [{ createdAt: 'asc' }, { toolId: 'asc' }] as const;

builder.prismaObjectFields(Agent, (t) => ({
  tools: t.field({
    type: [Tool],
    description: 'Tools attached to the agent, in the order they were attached.',
    args: { first: t.arg.int({ ...firstArgOptions('tools'), validate: nestedFirst }) },
    select: (args, _ctx, nestedSelection) => ({ tools: { orderBy: [...linkOrder], take: takeOf(args.first), select: { tool: nestedSelection(true) } } }),
    resolve: (agent) => agent.tools.map((link) => link.tool),
  }),
  attachedTools: t.field({
    type: [AgentTool],
    description: 'Tools with their per-agent settings (approval).',
    args: { first: t.arg.int({ ...firstArgOptions('tools'), validate: nestedFirst }) },
    select: (args, _ctx, nestedSelection) => ({
      tools: { orderBy: [...linkOrder], take: takeOf(args.first), select: { requiresApproval: true, createdAt: true, tool: nestedSelection(true, ['tool']) } },
    }),
    resolve: (agent) => agent.tools,
  }),
}));

const ToolFilter = builder.inputType('ToolFilter', {
  description: "Which tools to list.",
  fields: (t) => ({
    name: t.string({ description: 'Only the tool of this name.', required: false }),
    toolTypes: t.field({ type: [ToolTypeEnum], required: false, description: 'Only tools of these types.' }),
    search: t.string({ required: false, description: 'Case-insensitive text in the name or description.' }),
  }),
});

const CreateToolInput = builder.inputType('CreateToolInput', {
  description: 'A client-side tool: the model may call it; your client executes it and returns the result.',
  fields: (t) => ({
    name: t.string({ description: 'The name the model calls it by (a Python identifier).' }),
    description: t.string({ description: 'What the tool does, shown to the model.' }),
    parameters: t.field({ type: 'JSON', required: false, description: 'JSON Schema of the arguments (type: object).' }),
    tags: t.stringList({ description: 'Labels to filter tools by.', required: false }),
    returnCharLimit: t.int({ description: 'Characters of its result the model sees.', required: false }),
    defaultRequiresApproval: t.boolean({ description: 'Calls wait for approval on every agent it is attached to.', required: false }),
  }),
});

const CreateToolPayload = builder.objectRef<{ tool: ToolShape }>('CreateToolPayload').implement({
  description: 'The result of createTool.',
  fields: (t) => ({ tool: t.field({ type: Tool, description: 'The new tool.', resolve: (payload) => payload.tool }) }),
});

const DeleteToolInput = builder.inputType('DeleteToolInput', {
  description: "The tool to delete.",
  fields: (t) => ({ id: t.id({ validate: toolId, description: 'The client-side tool to delete.' }) }),
});

const DeleteToolPayload = builder.objectRef<{ deletedToolId: string }>('DeleteToolPayload').implement({
  description: 'The result of deleteTool.',
  fields: (t) => ({ deletedToolId: t.exposeID('deletedToolId', { description: 'The id of the deleted tool.' }) }),
});

const agentToolInput = (name: string, description: string) =>
  builder.inputType(name, {
    description,
    fields: (t) => ({
      agentId: t.id({ validate: agentId, description: 'The agent.' }),
      toolId: t.id({ validate: toolId, description: 'The tool.' }),
    }),
  });

const AttachToolInput = agentToolInput('AttachToolInput', 'A tool to attach to an agent.');
const DetachToolInput = agentToolInput('DetachToolInput', 'A tool to detach from an agent.');

const attachmentPayload = (name: string, description: string) =>
  builder.objectRef<{ agentId: string; tool: ToolShape; changed: boolean }>(name).implement({
    description,
    fields: (t) => ({
      agent: t.prismaField({
        type: 'Agent',
        description: 'The agent, with its tools as they are now.',
        resolve: (query, payload, _args, ctx) => agents.getAgent(ctx.services, payload.agentId, query),
      }),
      tool: t.field({ type: Tool, description: 'The tool.', resolve: (payload) => payload.tool }),
      changed: t.exposeBoolean('changed', { description: 'False when the tool already was (or was not) attached: nothing changed.' }),
    }),
  });

const AttachToolPayload = attachmentPayload('AttachToolPayload', 'The result of attachTool. Repeating it is a no-op with changed: false.');
const DetachToolPayload = attachmentPayload('DetachToolPayload', 'The result of detachTool. Repeating it is a no-op with changed: false.');

const SetToolApprovalInput = builder.inputType('SetToolApprovalInput', {
  description: 'Whether calls to one of the agent’s tools wait for a human’s approval.',
  fields: (t) => ({
    agentId: t.id({ validate: agentId, description: 'The agent.' }),
    toolName: t.string({ description: 'The name of one of its tools.' }),
    requiresApproval: t.boolean({ description: 'True: calls wait for approval; false: they run at once.' }),
  }),
});

const SetToolApprovalPayload = builder
  .objectRef<{ agentId: string; tool: ToolShape; requiresApproval: boolean }>('SetToolApprovalPayload')
  .implement({
    description: 'The result of setToolApproval.',
    fields: (t) => ({
      agent: t.prismaField({
        type: 'Agent',
        description: 'The agent.',
        resolve: (query, payload, _args, ctx) => agents.getAgent(ctx.services, payload.agentId, query),
      }),
      tool: t.field({ type: Tool, description: 'The tool.', resolve: (payload) => payload.tool }),
      requiresApproval: t.exposeBoolean('requiresApproval', { description: 'The setting as it is now.' }),
    }),
  });

builder.queryFields((t) => ({
  tool: t.prismaField({ description: 'One tool, or null (and NOT_FOUND).',
    type: 'Tool',
    nullable: true,
    args: { id: t.arg.id({ description: 'The tool id.', validate: toolId }) },
    resolve: (query, _root, args, ctx) => tools.getTool(ctx.services, args.id, query),
  }),
  tools: t.connection({
    type: Tool,
    description: 'Tools of your organization, by name.',
    args: { filter: t.arg({ description: 'Which tools.', type: ToolFilter, required: false }) },
    resolve: async (_root, args, ctx, info) => {
      const page = await tools.listTools(ctx.services, args, queryFromInfo({ context: ctx, info, path: ['edges', 'node'] }));
      return connectionOf(page);
    },
  }, ...named('Tool', 'tools')),
}));

builder.mutationFields((t) => ({
  createTool: t.field({
    type: CreateToolPayload,
    description: 'Declares a client-side tool: the model may call it, and your client executes it and sends the result back.',
    args: { input: t.arg({ type: CreateToolInput, description: 'Everything the mutation needs, ids included.' }) },
    resolve: async (_root, args, ctx) => ({ tool: await tools.createTool(ctx.services, args.input) }),
  }),
  deleteTool: t.field({
    type: DeleteToolPayload,
    description: 'Deletes a client-side tool (built-in tools cannot be deleted) and detaches it everywhere.',
    args: { input: t.arg({ type: DeleteToolInput, description: 'Everything the mutation needs, ids included.' }) },
    resolve: async (_root, args, ctx) => ({ deletedToolId: await tools.deleteTool(ctx.services, args.input.id) }),
  }),
  attachTool: t.field({
    type: AttachToolPayload,
    description: 'Lets the agent call a tool; its system prompt is rebuilt.',
    args: { input: t.arg({ type: AttachToolInput, description: 'Everything the mutation needs, ids included.' }) },
    resolve: async (_root, { input }, ctx) => ({ agentId: input.agentId, ...(await tools.attachTool(ctx.services, input.agentId, input.toolId)) }),
  }),
  detachTool: t.field({
    type: DetachToolPayload,
    description: 'Takes a tool away from the agent; its system prompt is rebuilt.',
    args: { input: t.arg({ type: DetachToolInput, description: 'Everything the mutation needs, ids included.' }) },
    resolve: async (_root, { input }, ctx) => ({ agentId: input.agentId, ...(await tools.detachTool(ctx.services, input.agentId, input.toolId)) }),
  }),
  setToolApproval: t.field({
    type: SetToolApprovalPayload,
    description: "Whether calls to one of the agent's tools wait for a human's approval.",
    args: { input: t.arg({ type: SetToolApprovalInput, description: 'Everything the mutation needs, ids included.' }) },
    resolve: async (_root, { input }, ctx) => ({
      agentId: input.agentId,
      ...(await tools.setToolApproval(ctx.services, input.agentId, input.toolName, input.requiresApproval)),
    }),
  }),
}));
