import { queryFromInfo } from '@pothos/plugin-prisma';
import * as agents from '../services/agents/agents.js';
import * as views from '../services/files/file-views.js';
import * as folders from '../services/files/folders.js';
import { Agent } from './agents.js';
import { loaderFor } from './batch.js';
import { builder } from './builder.js';
import { firstArgOptions, nestedFirst, takeOf } from './cost.js';
import { connectionOf, named } from './connection.js';
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
    isOpen: t.exposeBoolean('isOpen', { description: 'Whether its content is in the context.' }),
    visibleContent: t.exposeString('visibleContent', { nullable: true, description: 'What the agent sees while the file is open (header, numbered lines, truncation note).' }),
    startLine: t.exposeInt('startLine', { nullable: true, description: 'First line shown (1-based).' }),
    endLine: t.exposeInt('endLine', { nullable: true, description: 'Line after the last one shown (exclusive), as Letta stores it.' }),
    lastAccessedAt: t.expose('lastAccessedAt', { description: 'When the agent last opened or read it.', type: 'DateTime' }),
    file: t.relation('file', { description: 'The file.', type: FileNode }),
    folder: t.relation('folder', { description: 'Its folder.', type: FolderNode }),
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
    args: { isOpen: t.arg.boolean({ description: 'Only open (true) or closed (false) files.', required: false }) },
    resolve: async (agent, args, ctx, info) => {
      const shape = queryFromInfo({ context: ctx, info, path: ['edges', 'node'] });
      if (args.after != null || args.before != null || args.last != null) return connectionOf(await views.listAgentFiles(ctx.services, agent.id, args, shape));
      // First pages (the case of a list of agents) load together.
      const loader = loaderFor(ctx, `Agent.files ${JSON.stringify([args.first, args.isOpen, shape])}`, (ids) => views.firstAgentFilePages(ctx.services, ids, args, shape));
      return connectionOf(await loader.load(agent.id));
    },
  }, ...named('FileAgent', 'file views')),
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

const agentFolderInput = (name: string, description: string) =>
  builder.inputType(name, {
    description,
    fields: (t) => ({
      agentId: t.id({ validate: agentId, description: 'The agent.' }),
      folderId: t.id({ validate: folderId, description: 'The folder.' }),
    }),
  });

const AttachFolderInput = agentFolderInput('AttachFolderInput', 'A folder to attach to an agent.');
const DetachFolderInput = agentFolderInput('DetachFolderInput', 'A folder to detach from an agent.');

const folderAttachmentPayload = (name: string, description: string) =>
  builder.objectRef<{ agentId: string; folderId: string; changed: boolean }>(name).implement({
    description,
    fields: (t) => ({
      agent: t.prismaField({
        type: 'Agent',
        description: 'The agent, with its folders and files as they are now.',
        resolve: (query, payload, _args, ctx) => agents.getAgent(ctx.services, payload.agentId, query),
      }),
      folder: t.prismaField({
        type: 'Folder',
        description: 'The folder.',
        resolve: (query, payload, _args, ctx) => folders.getFolder(ctx.services, payload.folderId, query),
      }),
      changed: t.exposeBoolean('changed', { description: 'False when the folder already was (or was not) attached: nothing changed.' }),
    }),
  });

const AttachFolderPayload = folderAttachmentPayload('AttachFolderPayload', 'The result of attachFolder. Repeating it is a no-op with changed: false.');
const DetachFolderPayload = folderAttachmentPayload('DetachFolderPayload', 'The result of detachFolder. Repeating it is a no-op with changed: false.');

const OpenFileInput = builder.inputType('OpenFileInput', {
  description: 'A file of an attached folder to open, optionally at a line range.',
  fields: (t) => ({
    agentId: t.id({ validate: agentId, description: 'The agent.' }),
    fileId: t.id({ validate: fileId, description: 'The file (of one of its folders).' }),
    offset: t.int({ required: false, description: 'First line to show, 0-based; default: the start.' }),
    length: t.int({ required: false, description: 'Lines to show; default: up to the per-file view window.' }),
  }),
});

const CloseFileInput = builder.inputType('CloseFileInput', {
  description: "The file to close.",
  fields: (t) => ({
    agentId: t.id({ validate: agentId, description: 'The agent.' }),
    fileId: t.id({ validate: fileId, description: 'The file to close.' }),
  }),
});

const CloseAllFilesInput = builder.inputType('CloseAllFilesInput', {
  description: "The agent whose files to close.",
  fields: (t) => ({ agentId: t.id({ validate: agentId, description: 'The agent whose open files to close.' }) }),
});

const OpenFilePayload = builder.objectRef<{ view: AgentFileShape; closedFiles: string[] }>('OpenFilePayload').implement({
  description: 'The result of openFile.',
  fields: (t) => ({
    file: t.field({ type: AgentFile, description: "The agent's view of the file, now open.", resolve: (payload) => payload.view }),
    closedFiles: t.exposeStringList('closedFiles', { description: 'Files closed to stay within max_files_open (least recently used first).' }),
  }),
});

const CloseFilePayload = builder.objectRef<{ view: AgentFileShape }>('CloseFilePayload').implement({
  description: 'The result of closeFile.',
  fields: (t) => ({ file: t.field({ type: AgentFile, description: "The agent's view of the file, now closed.", resolve: (payload) => payload.view }) }),
});

const CloseAllFilesPayload = builder.objectRef<{ closedFiles: string[] }>('CloseAllFilesPayload').implement({
  description: 'The result of closeAllFiles.',
  fields: (t) => ({ closedFiles: t.exposeStringList('closedFiles', { description: 'The names of the files that were open.' }) }),
});

builder.mutationFields((t) => ({
  attachFolder: t.field({
    type: AttachFolderPayload,
    description: "Attaches a folder: its processed files enter the agent's context (the newest open, up to max_files_open) and the file tools are attached.",
    args: { input: t.arg({ type: AttachFolderInput, description: 'Everything the mutation needs, ids included.' }) },
    resolve: async (_root, { input }, ctx) => ({ ...input, ...(await views.attachFolder(ctx.services, input.agentId, input.folderId)) }),
  }),
  detachFolder: t.field({
    type: DetachFolderPayload,
    description: "Detaches a folder: its files leave the agent's context; the file tools go when no folder remains.",
    args: { input: t.arg({ type: DetachFolderInput, description: 'Everything the mutation needs, ids included.' }) },
    resolve: async (_root, { input }, ctx) => ({ ...input, ...(await views.detachFolder(ctx.services, input.agentId, input.folderId)) }),
  }),
  openFile: t.field({
    type: OpenFilePayload,
    description: 'Opens a file of an attached folder (optionally a line range: offset is 0-based, length a line count).',
    args: { input: t.arg({ type: OpenFileInput, description: 'Everything the mutation needs, ids included.' }) },
    resolve: (_root, { input }, ctx) => views.openFile(ctx.services, input.agentId, input.fileId, { offset: input.offset, length: input.length }),
  }),
  closeFile: t.field({
    type: CloseFilePayload,
    description: 'Closes a file: it stays attached, but its content leaves the context.',
    args: { input: t.arg({ type: CloseFileInput, description: 'Everything the mutation needs, ids included.' }) },
    resolve: (_root, { input }, ctx) => views.closeFile(ctx.services, input.agentId, input.fileId),
  }),
  closeAllFiles: t.field({
    type: CloseAllFilesPayload,
    description: "Closes every open file of the agent.",
    args: { input: t.arg({ type: CloseAllFilesInput, description: 'Everything the mutation needs, ids included.' }) },
    resolve: async (_root, { input }, ctx) => ({ closedFiles: await views.closeAllFiles(ctx.services, input.agentId) }),
  }),
}));
