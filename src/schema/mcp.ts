import { queryFromInfo } from '@pothos/plugin-prisma';
import * as mcp from '../services/mcp/mcp-servers.js';
import type { ListedMcpTool } from '../services/mcp/mcp-tools.js';
import { builder } from './builder.js';
import { connectionOf, named } from './connection.js';
import { idOf } from './ids.js';
import { Tool } from './tools.js';

const mcpServerId = idOf('McpServer');

export const McpTransportEnum = builder.enumType('McpTransport', {
  description: 'How this server talks to an MCP server.',
  values: {
    STREAMABLE_HTTP: { value: 'streamable_http', description: 'Streamable HTTP (the current MCP transport), at `url`.' },
    SSE: { value: 'sse', description: 'HTTP with Server-Sent Events (the older MCP transport), at `url`.' },
    STDIO: { value: 'stdio', description: 'A command this server spawns (`command`, `args`, `env`); only where the operator set MCP_STDIO=enabled.' },
  } as const,
});

export const McpServerStatusEnum = builder.enumType('McpServerStatus', {
  description: 'What the last attempt to reach the server found.',
  values: {
    UNKNOWN: { value: 'unknown', description: 'Not contacted since it was created, imported or changed.' },
    CONNECTED: { value: 'connected', description: 'The last connection succeeded.' },
    FAILED: { value: 'failed', description: 'The last connection or call failed; `lastError` says why.' },
  } as const,
});

const McpTool = builder.objectRef<ListedMcpTool & { serverId: string; tools: Array<typeof Tool.$inferType & { mcpToolName: string | null }> }>('McpTool').implement({
  description: 'A tool as the MCP server lists it.',
  fields: (t) => ({
    name: t.exposeString('name', { description: "The tool's name on the MCP server." }),
    description: t.exposeString('description', { nullable: true, description: "The server's description of the tool." }),
    inputSchema: t.field({ type: 'JSON', description: 'The JSON Schema of its arguments, as the server gave it.', resolve: (tool) => tool.inputSchema }),
    tool: t.field({
      type: Tool,
      nullable: true,
      description: "The organization's tool it became (attach this one to agents); null when its name and `<server>__<name>` are both taken by other tools.",
      resolve: (tool) => tool.tools.find((candidate) => candidate.mcpToolName === tool.name) ?? null,
    }),
  }),
});

export const McpServer = builder.prismaNode('McpServer', {
  id: { field: 'id' },
  findUnique: (id, ctx) => ({ id, organizationId: ctx.services.orgId }),
  nullable: true,
  description: "An MCP server of your organization. Its tools become tools of the organization (tool type external_mcp). Header and env values are write-only: only their names are shown.",
  fields: (t) => ({
    name: t.exposeString('name', { description: 'Unique in the organization; MCP tools are tagged `mcp:<name>`.' }),
    transport: t.field({ type: McpTransportEnum, description: 'How the server is reached.', resolve: (server) => server.transport as 'streamable_http' | 'sse' | 'stdio' }),
    url: t.exposeString('url', { nullable: true, description: 'The endpoint of an HTTP or SSE server.' }),
    command: t.exposeString('command', { nullable: true, description: 'The command of a stdio server.' }),
    args: t.exposeStringList('args', { description: 'Arguments of the stdio command.' }),
    headerNames: t.exposeStringList('headerNames', { description: 'Names of the headers sent with every request (their values are never returned).' }),
    envNames: t.exposeStringList('envNames', { description: 'Names of the environment variables of the stdio command (their values are never returned).' }),
    status: t.field({ type: McpServerStatusEnum, description: 'What the last attempt to reach it found.', resolve: (server) => server.status as 'unknown' | 'connected' | 'failed' }),
    lastError: t.exposeString('lastError', { nullable: true, description: 'Why the last connection or call failed (with status FAILED).' }),
    statusChangedAt: t.expose('statusChangedAt', { type: 'DateTime', nullable: true, description: 'When the status last changed.' }),
    tools: t.field({
      type: [McpTool],
      description: 'The tools the server listed last (refreshMcpServer, or its tools/list_changed notification, lists them again).',
      select: { tools: true, mcpTools: true },
      resolve: (server) => (server.tools as unknown as ListedMcpTool[]).map((tool) => ({ ...tool, serverId: server.id, tools: server.mcpTools })),
    }),
    toolsListedAt: t.expose('toolsListedAt', { type: 'DateTime', nullable: true, description: 'When the tools were last listed.' }),
    createdAt: t.expose('createdAt', { type: 'DateTime', description: 'When it was registered.' }),
    updatedAt: t.expose('updatedAt', { type: 'DateTime', description: 'When it last changed.' }),
  }),
});

builder.prismaObjectFields(Tool, (t) => ({
  mcpServer: t.relation('mcpServer', { nullable: true, description: 'The MCP server that serves this tool (tool type external_mcp).' }),
  mcpToolName: t.exposeString('mcpToolName', { nullable: true, description: "The tool's name on its MCP server (its own name here may differ)." }),
}));

const NameValueInput = builder.inputType('McpNameValueInput', {
  description: 'A header or environment variable: the value is write-only.',
  fields: (t) => ({
    name: t.string({ description: 'Header or variable name.' }),
    value: t.string({ description: 'Its value; stored sealed and never returned.' }),
  }),
});

const CreateMcpServerInput = builder.inputType('CreateMcpServerInput', {
  description: 'A new MCP server: `url` (and `headers`) for STREAMABLE_HTTP and SSE; `command`, `args` and `env` for STDIO.',
  fields: (t) => ({
    name: t.string({ description: 'Unique in the organization: letters, digits, "_", "." and "-", at most 64.' }),
    transport: t.field({ type: McpTransportEnum, description: 'How to reach it.' }),
    url: t.string({ required: false, description: 'Endpoint of an HTTP or SSE server (loopback and private addresses only where the operator allows them).' }),
    headers: t.field({ type: [NameValueInput], required: false, description: 'Headers for every request (e.g. Authorization); write-only.' }),
    command: t.string({ required: false, description: 'Command of a stdio server.' }),
    args: t.stringList({ required: false, description: 'Arguments of the stdio command.' }),
    env: t.field({ type: [NameValueInput], required: false, description: 'Environment variables of the stdio command; write-only.' }),
  }),
});

const UpdateMcpServerInput = builder.inputType('UpdateMcpServerInput', {
  description: 'Changes to an MCP server; omitted fields keep their values. `headers` or `env`, when given, replace all of them.',
  fields: (t) => ({
    id: t.id({ description: 'The server.', validate: mcpServerId }),
    name: t.string({ required: false, description: 'New name (its tools are re-tagged).' }),
    transport: t.field({ type: McpTransportEnum, required: false, description: 'New transport.' }),
    url: t.string({ required: false, description: 'New endpoint.' }),
    headers: t.field({ type: [NameValueInput], required: false, description: 'Replaces every header.' }),
    command: t.string({ required: false, description: 'New stdio command.' }),
    args: t.stringList({ required: false, description: 'New stdio arguments.' }),
    env: t.field({ type: [NameValueInput], required: false, description: 'Replaces every environment variable.' }),
  }),
});

const McpServerIdInput = (name: string, description: string) =>
  builder.inputType(name, { description, fields: (t) => ({ id: t.id({ description: 'The MCP server.', validate: mcpServerId }) }) });

const DeleteMcpServerInput = McpServerIdInput('DeleteMcpServerInput', 'The MCP server to delete.');
const RefreshMcpServerInput = McpServerIdInput('RefreshMcpServerInput', 'The MCP server whose tools to list again.');

type ServerShape = typeof McpServer.$inferType;

const serverPayload = (name: string, description: string) =>
  builder.objectRef<{ mcpServer: ServerShape }>(name).implement({
    description,
    fields: (t) => ({
      mcpServer: t.prismaField({
        type: 'McpServer',
        description: 'The MCP server after the change.',
        resolve: (query, payload, _args, ctx) => mcp.getMcpServer(ctx.services, payload.mcpServer.id, query),
      }),
    }),
  });

const CreateMcpServerPayload = serverPayload('CreateMcpServerPayload', 'The registered server, with the tools it listed (or status FAILED when it could not be reached).');
const UpdateMcpServerPayload = serverPayload('UpdateMcpServerPayload', 'The changed server; a changed connection lists the tools again.');
const RefreshMcpServerPayload = serverPayload('RefreshMcpServerPayload', 'The server with its tools listed again, or status FAILED and its tools as they were.');

const DeleteMcpServerPayload = builder.objectRef<{ id: string; toolIds: string[] }>('DeleteMcpServerPayload').implement({
  description: 'What was deleted: the server and its tools (detached from every agent).',
  fields: (t) => ({
    deletedMcpServerId: t.exposeID('id', { description: 'The deleted server.' }),
    deletedToolIds: t.exposeIDList('toolIds', { description: 'Its tools, deleted with it.' }),
  }),
});

builder.queryFields((t) => ({
  mcpServer: t.prismaField({
    type: 'McpServer',
    nullable: true,
    description: "One of your organization's MCP servers.",
    args: { id: t.arg.id({ description: 'The server.', validate: mcpServerId }) },
    resolve: (query, _root, args, ctx) => mcp.getMcpServer(ctx.services, args.id, query),
  }),
  mcpServers: t.connection(
    {
      type: McpServer,
      description: "Your organization's MCP servers, by name.",
      resolve: async (_root, args, ctx, info) =>
        connectionOf(await mcp.listMcpServers(ctx.services, args, queryFromInfo({ context: ctx, info, path: ['edges', 'node'] }))),
    },
    ...named('McpServer', 'MCP servers'),
  ),
}));

builder.mutationFields((t) => ({
  createMcpServer: t.field({
    type: CreateMcpServerPayload,
    description: 'Registers an MCP server and lists its tools into the organization.',
    args: { input: t.arg({ type: CreateMcpServerInput, description: 'The server.' }) },
    resolve: async (_root, args, ctx) => ({ mcpServer: await mcp.createMcpServer(ctx.services, args.input) }),
  }),
  updateMcpServer: t.field({
    type: UpdateMcpServerPayload,
    description: 'Changes an MCP server; a changed connection reconnects and lists the tools again.',
    args: { input: t.arg({ type: UpdateMcpServerInput, description: 'The changes.' }) },
    resolve: async (_root, args, ctx) => ({ mcpServer: await mcp.updateMcpServer(ctx.services, args.input) }),
  }),
  deleteMcpServer: t.field({
    type: DeleteMcpServerPayload,
    description: 'Deletes an MCP server with its tools, detaching them from every agent.',
    args: { input: t.arg({ type: DeleteMcpServerInput, description: 'The server.' }) },
    resolve: async (_root, args, ctx) => mcp.deleteMcpServer(ctx.services, args.input.id),
  }),
  refreshMcpServer: t.field({
    type: RefreshMcpServerPayload,
    description: "Lists the server's tools again: new tools are added, changed ones updated, vanished ones deleted.",
    args: { input: t.arg({ type: RefreshMcpServerInput, description: 'The server.' }) },
    resolve: async (_root, args, ctx) => ({ mcpServer: await mcp.refreshMcpServer(ctx.services, args.input.id) }),
  }),
}));
