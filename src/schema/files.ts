import './upload.js';
import { queryFromInfo } from '@pothos/plugin-prisma';
import * as files from '../services/files/files.js';
import * as folders from '../services/files/folders.js';
import { loaderFor } from './batch.js';
import { builder } from './builder.js';
import { connectionOf, named } from './connection.js';
import { idOf } from './ids.js';

const folderId = idOf('Folder');
const fileId = idOf('File');

export const FileProcessingStatusEnum = builder.enumType('FileProcessingStatus', {
  description: "Where an uploaded file is in its processing.",
  values: {
    PENDING: { value: 'pending' },
    PARSING: { value: 'parsing' },
    EMBEDDING: { value: 'embedding' },
    COMPLETED: { value: 'completed', description: 'Terminal: the file is searchable.' },
    ERROR: { value: 'error', description: 'Terminal: see errorMessage; nothing of the file is searchable.' },
  } as const,
});

const DuplicateHandlingEnum = builder.enumType('DuplicateHandling', {
  description: "What uploadFile does when the folder already has a file of that name.",
  values: {
    SKIP: { value: 'skip', description: 'Return the existing file (skipped: true).' },
    ERROR: { value: 'error', description: 'Refuse with CONFLICT.' },
    SUFFIX: { value: 'suffix', description: 'Store as name_(1).ext, name_(2).ext, ... (default).' },
    REPLACE: { value: 'replace', description: 'Delete the existing file and its passages, then store the new one.' },
  } as const,
});

export const FileNode = builder.prismaNode('File', {
  id: { field: 'id' },
  findUnique: (id, ctx) => ({ id, organizationId: ctx.services.orgId }),
  nullable: true,
  description: 'An uploaded file of a folder: its metadata, text and processing status.',
  fields: (t) => ({
    fileName: t.exposeString('fileName', { description: 'Unique in its folder (a duplicate may get a suffix).' }),
    originalFileName: t.exposeString('originalFileName', { description: 'The name it was uploaded with.' }),
    fileType: t.exposeString('fileType', { nullable: true, description: 'MIME type.' }),
    fileSize: t.exposeInt('fileSize', { nullable: true, description: 'Bytes.' }),
    processingStatus: t.field({ description: 'Where its processing is.', type: FileProcessingStatusEnum, resolve: (file) => file.processingStatus }),
    errorMessage: t.exposeString('errorMessage', { description: 'ERROR: why.', nullable: true }),
    totalChunks: t.exposeInt('totalChunks', { description: 'Chunks to embed, once parsed.', nullable: true }),
    chunksEmbedded: t.exposeInt('chunksEmbedded', { description: 'Chunks embedded so far.', nullable: true }),
    content: t.string({
      nullable: true,
      description: "The text of the file (a PDF's extracted text, null until it is parsed).",
      // Files are read without their text (megabytes; a status poll or fileUpdated's every step does
      // not need it): loaded only when asked for, the files of one request in one statement.
      resolve: async (file, _args, ctx) =>
        file.content !== undefined ? file.content : loaderFor(ctx, 'File.content', (ids) => files.fileContents(ctx.services, ids)).load(file.id),
    }),
    folder: t.relation('folder', { description: 'Its folder.' }),
    createdAt: t.expose('createdAt', { description: 'When it was uploaded.', type: 'DateTime' }),
    updatedAt: t.expose('updatedAt', { description: 'When its processing last moved on.', type: 'DateTime' }),
  }),
});

export const FolderNode = builder.prismaNode('Folder', {
  id: { field: 'id' },
  findUnique: (id, ctx) => ({ id, organizationId: ctx.services.orgId }),
  nullable: true,
  description: "A folder of files (Letta's source; ids keep the source- prefix). Agents attach folders to see and search their files.",
  fields: (t) => ({
    name: t.exposeString('name', { description: 'Unique in your organization; agents see it as a directory.' }),
    description: t.exposeString('description', { description: 'Free text about the folder.', nullable: true }),
    instructions: t.exposeString('instructions', { description: 'Shown to agents in the directories section.', nullable: true }),
    metadata: t.expose('metadata', { description: 'Free-form metadata.', type: 'JSON', nullable: true }),
    embedding: t.exposeString('embedding', { nullable: true, description: "Embedding handle of its files' passages; null = the server default." }),
    files: t.connection({
      type: FileNode,
      description: 'Oldest first.',
      resolve: async (folder, args, ctx, info) => {
        const shape = queryFromInfo({ context: ctx, info, path: ['edges', 'node'] });
        if (args.after != null || args.before != null || args.last != null) return connectionOf(await files.listFolderFiles(ctx.services, folder.id, args, shape));
        // First pages (the case of a list of folders) load together.
        const loader = loaderFor(ctx, `Folder.files ${JSON.stringify([args.first, shape])}`, (ids) => files.firstFolderFilePages(ctx.services, ids, args, shape));
        return connectionOf(await loader.load(folder.id));
      },
    }, ...named('File', 'files')),
    createdAt: t.expose('createdAt', { description: 'When it was created.', type: 'DateTime' }),
    updatedAt: t.expose('updatedAt', { description: 'When it last changed.', type: 'DateTime' }),
  }),
});

const CreateFolderInput = builder.inputType('CreateFolderInput', {
  description: "A new folder.",
  fields: (t) => ({
    name: t.string({ description: 'Unique in your organization; shown to agents as the directory name.' }),
    description: t.string({ description: 'Free text about the folder.', required: false }),
    instructions: t.string({ required: false, description: 'Shown to agents in the <directories> section.' }),
    metadata: t.field({ description: 'Free-form metadata.', type: 'JSON', required: false }),
    embedding: t.string({ required: false, description: "Embedding handle 'provider/model' for its files; default: the server default." }),
  }),
});

const UpdateFolderInput = builder.inputType('UpdateFolderInput', {
  description: 'Omitted fields stay as they are; null clears description, instructions or metadata. The embedding cannot change (the files would need embedding again).',
  fields: (t) => ({
    id: t.id({ validate: folderId, description: 'The folder to update.' }),
    name: t.string({ required: false, description: "A new name renames the folder's files as agents see them (\"<folder>/<file>\")." }),
    description: t.string({ description: 'Free text about the folder.', required: false }),
    instructions: t.string({ description: 'Shown to agents in the directories section.', required: false }),
    metadata: t.field({ description: 'Replaces the metadata.', type: 'JSON', required: false }),
  }),
});

const DeleteFolderInput = builder.inputType('DeleteFolderInput', {
  description: "The folder to delete.",
  fields: (t) => ({ id: t.id({ validate: folderId, description: 'The folder to delete.' }) }),
});

const DeleteFileInput = builder.inputType('DeleteFileInput', {
  description: "The file to delete.",
  fields: (t) => ({ id: t.id({ validate: fileId, description: 'The file to delete.' }) }),
});

const UploadFileInput = builder.inputType('UploadFileInput', {
  description: 'A file for a folder; `file` is a part of the multipart request (its map points at variables.input.file).',
  fields: (t) => ({
    folderId: t.id({ validate: folderId, description: 'The folder to store the file in.' }),
    file: t.field({ type: 'Upload', description: 'The file.' }),
    duplicateHandling: t.field({ type: DuplicateHandlingEnum, required: false, defaultValue: 'suffix', description: 'What to do when the folder already has a file of that name.' }),
    name: t.string({ required: false, description: 'Store under this name instead of the uploaded one.' }),
  }),
});

type FolderShape = typeof FolderNode.$inferType;
type FileShape = typeof FileNode.$inferType;

const CreateFolderPayload = builder.objectRef<{ folder: FolderShape }>('CreateFolderPayload').implement({
  description: "The result of createFolder.",
  fields: (t) => ({ folder: t.field({ type: FolderNode, description: 'The folder.', resolve: (payload) => payload.folder }) }),
});

const UpdateFolderPayload = builder.objectRef<{ folder: FolderShape }>('UpdateFolderPayload').implement({
  description: "The result of updateFolder.",
  fields: (t) => ({ folder: t.field({ type: FolderNode, description: 'The folder.', resolve: (payload) => payload.folder }) }),
});

const UploadFilePayload = builder.objectRef<{ file: FileShape; skipped: boolean }>('UploadFilePayload').implement({
  description: "The result of uploadFile.",
  fields: (t) => ({
    file: t.field({ description: 'The stored file (PENDING until processed).', type: FileNode, resolve: (payload) => payload.file }),
    skipped: t.exposeBoolean('skipped', { description: 'duplicateHandling: SKIP returned an existing file.' }),
  }),
});

const DeleteFilePayload = builder.objectRef<{ deletedFileId: string }>('DeleteFilePayload').implement({
  description: "The result of deleteFile.",
  fields: (t) => ({ deletedFileId: t.exposeID('deletedFileId', { description: 'The id of the deleted file.' }) }),
});

const DeleteFolderPayload = builder.objectRef<{ deletedFolderId: string }>('DeleteFolderPayload').implement({
  description: "The result of deleteFolder.",
  fields: (t) => ({ deletedFolderId: t.exposeID('deletedFolderId', { description: 'The id of the deleted folder.' }) }),
});

builder.queryFields((t) => ({
  folder: t.prismaField({ description: 'One folder, or null (and NOT_FOUND).',
    type: 'Folder',
    nullable: true,
    args: { id: t.arg.id({ description: 'The folder id.', validate: folderId }) },
    resolve: (query, _root, args, ctx) => folders.getFolder(ctx.services, args.id, query),
  }),
  folders: t.connection({
    type: FolderNode,
    description: 'Folders of your organization, oldest first.',
    resolve: async (_root, args, ctx, info) =>
      connectionOf(await folders.listFolders(ctx.services, args, queryFromInfo({ context: ctx, info, path: ['edges', 'node'] }))),
  }, ...named('Folder', 'folders')),
  file: t.prismaField({ description: 'One file, or null (and NOT_FOUND).',
    type: 'File',
    nullable: true,
    args: { id: t.arg.id({ description: 'The file id.', validate: fileId }) },
    resolve: (query, _root, args, ctx) => files.getFile(ctx.services, args.id, query),
  }),
}));

builder.mutationFields((t) => ({
  createFolder: t.field({ description: 'Creates a folder for files.',
    type: CreateFolderPayload,
    args: { input: t.arg({ type: CreateFolderInput, description: 'Everything the mutation needs, ids included.' }) },
    resolve: async (_root, args, ctx) => ({ folder: await folders.createFolder(ctx.services, args.input) }),
  }),
  updateFolder: t.field({
    type: UpdateFolderPayload,
    description: "Renames a folder or changes its description, instructions or metadata; attached agents' prompts show the change at once.",
    args: { input: t.arg({ type: UpdateFolderInput, description: 'Everything the mutation needs, ids included.' }) },
    resolve: async (_root, { input: { id, ...patch } }, ctx) => ({ folder: await folders.updateFolder(ctx.services, id, patch) }),
  }),
  uploadFile: t.field({
    type: UploadFilePayload,
    description:
      'Uploads a text, Markdown, code, JSON, CSV or PDF file (GraphQL multipart request, at most MAX_UPLOAD_BYTES). It is stored at once with processingStatus PENDING, then parsed (a PDF page by page), chunked and embedded in the background; follow it with the fileUpdated subscription (or poll file(id) { processingStatus errorMessage }).',
    args: { input: t.arg({ type: UploadFileInput, description: 'Everything the mutation needs, ids included.' }) },
    resolve: (_root, { input }, ctx) => files.uploadFile(ctx.services, input.folderId, input.file, { duplicateHandling: input.duplicateHandling, name: input.name }),
  }),
  deleteFolder: t.field({
    type: DeleteFolderPayload,
    description:
      "Deletes a folder, its files and their passages. Agents that had it attached lose its files from their context and, with their last folder, the file tools (as on detachFolder).",
    args: { input: t.arg({ type: DeleteFolderInput, description: 'Everything the mutation needs, ids included.' }) },
    resolve: async (_root, args, ctx) => ({ deletedFolderId: await folders.deleteFolder(ctx.services, args.input.id) }),
  }),
  deleteFile: t.field({
    type: DeleteFilePayload,
    description: 'Deletes a file, its passages and every agent view of it.',
    args: { input: t.arg({ type: DeleteFileInput, description: 'Everything the mutation needs, ids included.' }) },
    resolve: async (_root, args, ctx) => ({ deletedFileId: await files.deleteFile(ctx.services, args.input.id) }),
  }),
}));

const FileUpdateRef = builder.objectRef<files.FileUpdate>('FileUpdate').implement({
  description: "A file's processing moved on (status, chunks embedded), or the file was deleted.",
  fields: (t) => ({
    fileId: t.exposeID('fileId', { description: 'The file.' }),
    deleted: t.boolean({ description: 'The file was deleted (the subscription then completes).', resolve: (update) => update.file === null }),
    at: t.field({ description: 'When it happened.', type: 'DateTime', resolve: (update) => update.at }),
    file: t.field({ type: FileNode, nullable: true, description: 'The file as it is now; null once deleted.', resolve: (update) => update.file as never }),
  }),
});

builder.subscriptionFields((t) => ({
  fileUpdated: t.field({
    type: FileUpdateRef,
    description:
      "An upload's processing as it happens: the file's state now, then every change (PARSING, EMBEDDING with chunksEmbedded, COMPLETED or ERROR with errorMessage); completes once the file is completed, failed or deleted.",
    args: { fileId: t.arg.id({ description: 'The file.', validate: fileId }) },
    subscribe: async (_root, args, ctx) => {
      await files.getFile(ctx.services, args.fileId, { select: { id: true } });
      return files.followFile(ctx.services, args.fileId);
    },
    resolve: (update) => update,
  }),
}));
