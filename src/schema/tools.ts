import { queryFromInfo } from '@pothos/plugin-prisma';
import * as agents from '../services/agents/agents.js';
import * as tools from '../services/tools/tools.js';
import { Agent } from './agents.js';
import { connectionOf } from './connection.js';
import { firstArgOptions, nestedFirst, takeOf } from './cost.js';
import { builder } from './builder.js';
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
    name: t.string({ resolve: (tool) => tool.name }),
    description: t.exposeString('description', { nullable: true }),
    toolType: t.exposeString('toolType', { description: 'custom, letta_core, letta_memory_core, letta_files_core, ...' }),
    builtIn: t.boolean({ select: { toolType: true }, description: 'Defined by this server (not client-side, not from an MCP server).', resolve: (tool) => tool.toolType !== 'custom' && tool.toolType !== 'external_mcp' }),
    jsonSchema: t.expose('jsonSchema', { type: 'JSON', description: 'The function schema sent to the model: {name, description, parameters}.' }),
    parameters: t.field({
      type: 'JSON',
      description: 'The JSON Schema of the arguments.',
      select: { jsonSchema: true },
      resolve: (tool) => (tool.jsonSchema as { parameters?: unknown } | null)?.parameters ?? {},
    }),
    tags: t.exposeStringList('tags'),
    returnCharLimit: t.exposeInt('returnCharLimit'),
    defaultRequiresApproval: t.exposeBoolean('defaultRequiresApproval'),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
    updatedAt: t.expose('updatedAt', { type: 'DateTime' }),
  }),
});

type ToolShape = typeof Tool.$inferType;

const AgentTool = builder
  .objectRef<{ tool: ToolShape; requiresApproval: boolean; createdAt: Date }>('AgentTool')
  .implement({
    description: 'A tool as attached to one agent.',
    fields: (t) => ({
      tool: t.field({ type: Tool, resolve: (link) => link.tool }),
      requiresApproval: t.exposeBoolean('requiresApproval', { description: 'Calls wait for a human approval.' }),
      attachedAt: t.expose('createdAt', { type: 'DateTime' }),
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
  fields: (t) => ({
    name: t.string({ required: false }),
    toolTypes: t.stringList({ required: false }),
    search: t.string({ required: false, description: 'Case-insensitive text in the name or description.' }),
  }),
});

const CreateToolInput = builder.inputType('CreateToolInput', {
  description: 'A client-side tool: the model may call it; your client executes it and returns the result.',
  fields: (t) => ({
    name: t.string(),
    description: t.string(),
    parameters: t.field({ type: 'JSON', required: false, description: 'JSON Schema of the arguments (type: object).' }),
    tags: t.stringList({ required: false }),
    returnCharLimit: t.int({ required: false }),
    defaultRequiresApproval: t.boolean({ required: false }),
  }),
});

const ToolPayload = builder.objectRef<{ tool: ToolShape }>('ToolPayload').implement({
  fields: (t) => ({ tool: t.field({ type: Tool, resolve: (payload) => payload.tool }) }),
});

const DeleteToolPayload = builder.objectRef<{ deletedToolId: string }>('DeleteToolPayload').implement({
  fields: (t) => ({ deletedToolId: t.exposeID('deletedToolId') }),
});

const ToolAttachmentPayload = builder
  .objectRef<{ agentId: string; tool: ToolShape; changed: boolean }>('ToolAttachmentPayload')
  .implement({
    description: 'Result of attachTool / detachTool. Repeating either is a no-op with changed: false.',
    fields: (t) => ({
      agent: t.prismaField({
        type: 'Agent',
        resolve: (query, payload, _args, ctx) => agents.getAgent(ctx.services, payload.agentId, query),
      }),
      tool: t.field({ type: Tool, resolve: (payload) => payload.tool }),
      changed: t.exposeBoolean('changed'),
    }),
  });

const ToolApprovalPayload = builder
  .objectRef<{ agentId: string; tool: ToolShape; requiresApproval: boolean }>('ToolApprovalPayload')
  .implement({
    fields: (t) => ({
      agent: t.prismaField({
        type: 'Agent',
        resolve: (query, payload, _args, ctx) => agents.getAgent(ctx.services, payload.agentId, query),
      }),
      tool: t.field({ type: Tool, resolve: (payload) => payload.tool }),
      requiresApproval: t.exposeBoolean('requiresApproval'),
    }),
  });

builder.queryFields((t) => ({
  tool: t.prismaField({
    type: 'Tool',
    nullable: true,
    args: { id: t.arg.id({ validate: toolId }) },
    resolve: (query, _root, args, ctx) => tools.getTool(ctx.services, args.id, query),
  }),
  tools: t.connection({
    type: Tool,
    description: 'Tools of your organization, by name.',
    args: { filter: t.arg({ type: ToolFilter, required: false }) },
    resolve: async (_root, args, ctx, info) => {
      const page = await tools.listTools(ctx.services, args, queryFromInfo({ context: ctx, info, path: ['edges', 'node'] }));
      return connectionOf(page);
    },
  }),
}));

builder.mutationFields((t) => ({
  createTool: t.field({
    type: ToolPayload,
    args: { input: t.arg({ type: CreateToolInput }) },
    resolve: async (_root, args, ctx) => ({ tool: await tools.createTool(ctx.services, args.input) }),
  }),
  deleteTool: t.field({
    type: DeleteToolPayload,
    description: 'Deletes a client-side tool (built-in tools cannot be deleted) and detaches it everywhere.',
    args: { id: t.arg.id({ validate: toolId }) },
    resolve: async (_root, args, ctx) => ({ deletedToolId: await tools.deleteTool(ctx.services, args.id) }),
  }),
  attachTool: t.field({
    type: ToolAttachmentPayload,
    args: { agentId: t.arg.id({ validate: agentId }), toolId: t.arg.id({ validate: toolId }) },
    resolve: async (_root, args, ctx) => ({ agentId: args.agentId, ...(await tools.attachTool(ctx.services, args.agentId, args.toolId)) }),
  }),
  detachTool: t.field({
    type: ToolAttachmentPayload,
    args: { agentId: t.arg.id({ validate: agentId }), toolId: t.arg.id({ validate: toolId }) },
    resolve: async (_root, args, ctx) => ({ agentId: args.agentId, ...(await tools.detachTool(ctx.services, args.agentId, args.toolId)) }),
  }),
  setToolApproval: t.field({
    type: ToolApprovalPayload,
    description: "Whether calls to one of the agent's tools wait for a human's approval.",
    args: { agentId: t.arg.id({ validate: agentId }), toolName: t.arg.string(), requiresApproval: t.arg.boolean() },
    resolve: async (_root, args, ctx) => ({
      agentId: args.agentId,
      ...(await tools.setToolApproval(ctx.services, args.agentId, args.toolName, args.requiresApproval)),
    }),
  }),
}));
