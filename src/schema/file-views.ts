import { queryFromInfo } from '@pothos/plugin-prisma';
import * as agents from '../services/agents/agents.js';
import * as views from '../services/files/file-views.js';
import * as folders from '../services/files/folders.js';
import { Agent } from './agents.js';
import { loaderFor } from './batch.js';
import { builder } from './builder.js';
import { firstArgOptions, nestedFirst, takeOf } from './cost.js';
import { connectionOf } from './connection.js';
import { FileNode, FolderNode } from './files.js';
import { agentId, idOf } from './ids.js';

const folderId = idOf('Folder');
const fileId = idOf('File');

export const AgentFile = builder.prismaNode('FileAgent', {
  id: { field: 'id' },
  findUnique: (id, ctx) => ({ id, organizationId: ctx.services.orgId }),
  nullable: true,
  description: "One agent's view of one file of an attached folder: open or closed, and the line-numbered window it shows.",
  fields: (t) => ({
    fileName: t.exposeString('fileName', { description: 'The name the agent uses: "<folder>/<file>".' }),
    isOpen: t.exposeBoolean('isOpen'),
    visibleContent: t.exposeString('visibleContent', { nullable: true, description: 'What the agent sees while the file is open (header, numbered lines, truncation note).' }),
    startLine: t.exposeInt('startLine', { nullable: true, description: 'First line shown (1-based).' }),
    endLine: t.exposeInt('endLine', { nullable: true, description: 'Line after the last one shown (exclusive), as Letta stores it.' }),
    lastAccessedAt: t.expose('lastAccessedAt', { type: 'DateTime' }),
    file: t.relation('file', { type: FileNode }),
    folder: t.relation('folder', { type: FolderNode }),
  }),
});

builder.prismaObjectFields(Agent, (t) => ({
  folders: t.field({
    type: [FolderNode],
    description: 'Attached folders, in the order they were attached.',
    // Planned into the agent's query: a list of agents with their folders costs no extra statement per agent.
    args: { first: t.arg.int({ ...firstArgOptions('folders'), validate: nestedFirst }) },
    select: (args, _ctx, nestedSelection) => ({
      folders: { orderBy: [{ createdAt: 'asc' }, { folderId: 'asc' }], take: takeOf(args.first), select: { folder: nestedSelection(true) } },
    }),
    resolve: (agent) => agent.folders.map((link) => link.folder),
  }),
  files: t.connection({
    type: AgentFile,
    description: 'Files of attached folders as this agent sees them, by name.',
    args: { isOpen: t.arg.boolean({ required: false }) },
    resolve: async (agent, args, ctx, info) => {
      const shape = queryFromInfo({ context: ctx, info, path: ['edges', 'node'] });
      if (args.after != null || args.before != null || args.last != null) return connectionOf(await views.listAgentFiles(ctx.services, agent.id, args, shape));
      // First pages (the case of a list of agents) load together.
      const loader = loaderFor(ctx, `Agent.files ${JSON.stringify([args.first, args.isOpen, shape])}`, (ids) => views.firstAgentFilePages(ctx.services, ids, args, shape));
      return connectionOf(await loader.load(agent.id));
    },
  }),
}));

builder.prismaObjectFields(FolderNode, (t) => ({
  agents: t.field({
    type: [Agent],
    description: 'Agents that have this folder attached, in the order they attached it.',
    // Planned into the folder's query, like Agent.folders.
    args: { first: t.arg.int({ ...firstArgOptions('agents'), validate: nestedFirst }) },
    select: (args, _ctx, nestedSelection) => ({
      agents: { orderBy: [{ createdAt: 'asc' }, { agentId: 'asc' }], take: takeOf(args.first), select: { agent: nestedSelection(true) } },
    }),
    resolve: (folder) => folder.agents.map((link) => link.agent),
  }),
}));

type AgentFileShape = typeof AgentFile.$inferType;

const FolderAttachmentPayload = builder.objectRef<{ agentId: string; folderId: string; changed: boolean }>('FolderAttachmentPayload').implement({
  description: 'Result of attachFolder / detachFolder; repeating either is a no-op with changed: false.',
  fields: (t) => ({
    agent: t.prismaField({ type: 'Agent', resolve: (query, payload, _args, ctx) => agents.getAgent(ctx.services, payload.agentId, query) }),
    folder: t.prismaField({ type: 'Folder', resolve: (query, payload, _args, ctx) => folders.getFolder(ctx.services, payload.folderId, query) }),
    changed: t.exposeBoolean('changed'),
  }),
});

const OpenFilePayload = builder.objectRef<{ view: AgentFileShape; closedFiles: string[] }>('OpenFilePayload').implement({
  fields: (t) => ({
    file: t.field({ type: AgentFile, resolve: (payload) => payload.view }),
    closedFiles: t.exposeStringList('closedFiles', { description: 'Files closed to stay within max_files_open (least recently used first).' }),
  }),
});

const CloseFilePayload = builder.objectRef<{ view: AgentFileShape }>('CloseFilePayload').implement({
  fields: (t) => ({ file: t.field({ type: AgentFile, resolve: (payload) => payload.view }) }),
});

const CloseAllFilesPayload = builder.objectRef<{ closedFiles: string[] }>('CloseAllFilesPayload').implement({
  fields: (t) => ({ closedFiles: t.exposeStringList('closedFiles') }),
});

builder.mutationFields((t) => ({
  attachFolder: t.field({
    type: FolderAttachmentPayload,
    description: "Attaches a folder: its processed files enter the agent's context (the newest open, up to max_files_open) and the file tools are attached.",
    args: { agentId: t.arg.id({ validate: agentId }), folderId: t.arg.id({ validate: folderId }) },
    resolve: async (_root, args, ctx) => ({ ...args, ...(await views.attachFolder(ctx.services, args.agentId, args.folderId)) }),
  }),
  detachFolder: t.field({
    type: FolderAttachmentPayload,
    description: "Detaches a folder: its files leave the agent's context; the file tools go when no folder remains.",
    args: { agentId: t.arg.id({ validate: agentId }), folderId: t.arg.id({ validate: folderId }) },
    resolve: async (_root, args, ctx) => ({ ...args, ...(await views.detachFolder(ctx.services, args.agentId, args.folderId)) }),
  }),
  openFile: t.field({
    type: OpenFilePayload,
    description: 'Opens a file of an attached folder (optionally a line range: offset is 0-based, length a line count).',
    args: {
      agentId: t.arg.id({ validate: agentId }),
      fileId: t.arg.id({ validate: fileId }),
      offset: t.arg.int({ required: false }),
      length: t.arg.int({ required: false }),
    },
    resolve: (_root, args, ctx) => views.openFile(ctx.services, args.agentId, args.fileId, { offset: args.offset, length: args.length }),
  }),
  closeFile: t.field({
    type: CloseFilePayload,
    args: { agentId: t.arg.id({ validate: agentId }), fileId: t.arg.id({ validate: fileId }) },
    resolve: (_root, args, ctx) => views.closeFile(ctx.services, args.agentId, args.fileId),
  }),
  closeAllFiles: t.field({
    type: CloseAllFilesPayload,
    args: { agentId: t.arg.id({ validate: agentId }) },
    resolve: async (_root, args, ctx) => ({ closedFiles: await views.closeAllFiles(ctx.services, args.agentId) }),
  }),
}));
