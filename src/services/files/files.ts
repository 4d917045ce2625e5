import { Prisma, type File as FileRow } from '../../generated/prisma/client.js';
import { decodeText, fileKindOf, SUPPORTED_EXTENSIONS } from '../../agent/files/parse.js';
import { newId } from '../../ids.js';
import { interruptible, STOPPED } from '../../realtime/interruptible.js';
import type { ServiceContext } from '../platform/context.js';
import { AppError, assertId, badInput, conflict, notFound } from '../../errors.js';
import { publishAgentEvent, publishFileUpdates } from '../platform/events.js';
import { DEFAULT_PAGE_SIZE, checkPageArgs, firstPages, firstRowsPerParent, paginate, selecting, type Page, type PageArgs } from '../platform/pagination.js';
import type { Db } from '../platform/scope.js';
import { rebuildSystemPrompt } from '../memory/system-prompt.js';

/** Uploaded files: stored at once with status pending, then parsed, chunked and embedded in the background. */

export type DuplicateHandling = 'skip' | 'error' | 'suffix' | 'replace';

/** The parts of a Web File (what yoga hands over for an Upload) that an upload needs. */
export interface UploadedFile {
  readonly name: string;
  readonly size: number;
  readonly type?: string;
  arrayBuffer(): Promise<ArrayBuffer>;
}

export interface UploadResult {
  /** Without its text (content and rawBytes are undefined; the schema loads the text when asked for). */
  file: FileRow;
  /** duplicateHandling: skip found a file of that name and returned it. */
  skipped: boolean;
}

const FILE_NAME_MAX = 255;

/** Uploads up to this size are decoded here (a millisecond or two); larger ones in the worker pool. */
const INLINE_DECODE_BYTES = 256 * 1024;

/** A text file's bytes as text, or null when they are not UTF-8 text. 10 MiB took the main thread 50-100 ms to decode. */
async function decodeUpload(ctx: ServiceContext, bytes: Uint8Array): Promise<string | null> {
  if (bytes.length <= INLINE_DECODE_BYTES) return decodeText(bytes) ?? null;
  return (await ctx.runtime.pool.run('file.decode', { bytes })).text;
}

/** The last path segment, without control characters. */
function cleanFileName(raw: string): string {
  const base = raw.split(/[\\/]/).pop() ?? '';
  return base.replace(/[\u0000-\u001f\u007f]/g, '').trim();
}

/** notes.md, notes_(1).md, notes_(2).md, ... (Letta's suffix scheme). */
function suffixed(name: string, n: number): string {
  const dot = name.lastIndexOf('.');
  if (dot <= 0) return `${name}_(${n})`;
  return `${name.slice(0, dot)}_(${n})${name.slice(dot)}`;
}

export async function uploadFile(
  ctx: ServiceContext,
  folderId: string,
  upload: UploadedFile | null | undefined,
  options: { duplicateHandling?: DuplicateHandling | null; name?: string | null },
): Promise<UploadResult> {
  assertId('Folder', folderId, 'folderId');
  const duplicateHandling = options.duplicateHandling ?? 'suffix';
  if (!upload || typeof upload.arrayBuffer !== 'function') throw badInput('file', 'must be a file sent as a GraphQL multipart upload');
  const folder = await ctx.prisma.folder.findFirst({ where: { id: folderId, organizationId: ctx.orgId }, select: { id: true } });
  if (!folder) throw notFound('Folder', folderId);
  if (upload.size > ctx.runtime.maxUploadBytes) {
    throw new AppError('PAYLOAD_TOO_LARGE', `The file is ${upload.size} bytes; uploads are limited to ${ctx.runtime.maxUploadBytes} bytes`, {
      limit: ctx.runtime.maxUploadBytes,
    });
  }
  const name = cleanFileName(options.name ?? upload.name ?? '');
  if (!name) throw badInput(options.name ? 'name' : 'file', 'the file needs a name');
  if (name.length > FILE_NAME_MAX) throw badInput('name', `must be at most ${FILE_NAME_MAX} characters`);
  const kind = fileKindOf(name);
  if (!kind) {
    throw new AppError('BAD_USER_INPUT', `Unsupported file type '${name}': supported extensions are ${SUPPORTED_EXTENSIONS.join(', ')}`, {
      path: 'file',
      reason: 'UNSUPPORTED_MEDIA_TYPE',
    });
  }
  const bytes = new Uint8Array(await upload.arrayBuffer());
  if (bytes.length > ctx.runtime.maxUploadBytes) {
    throw new AppError('PAYLOAD_TOO_LARGE', `The file is over ${ctx.runtime.maxUploadBytes} bytes`, { limit: ctx.runtime.maxUploadBytes });
  }
  // A PDF is kept as bytes until its text is extracted in the background.
  const text = kind.kind === 'pdf' ? null : await decodeUpload(ctx, bytes);
  if (text === null && kind.kind !== 'pdf') {
    throw new AppError('BAD_USER_INPUT', `'${name}' is not UTF-8 text (it looks binary); upload text, Markdown, code, JSON, CSV or PDF`, {
      path: 'file',
      reason: 'UNSUPPORTED_MEDIA_TYPE',
    });
  }

  const result = await ctx.prisma.$transaction(async (tx) => {
    const existing = await tx.file.findFirst({ where: { folderId, originalFileName: name }, orderBy: { createdAt: 'asc' }, omit: WITHOUT_TEXT });
    let fileName = name;
    if (existing) {
      if (duplicateHandling === 'skip') return { file: existing as FileRow, skipped: true };
      if (duplicateHandling === 'error') throw conflict(`The folder already has a file named '${name}'`, { name });
      if (duplicateHandling === 'replace') {
        const replaced = await tx.file.findMany({ where: { folderId, originalFileName: name }, select: { id: true } });
        await deleteFilesAndRebuild(tx, replaced.map((row) => row.id));
      } else {
        const taken = new Set((await tx.file.findMany({ where: { folderId }, select: { fileName: true } })).map((row) => row.fileName));
        let n = 1;
        while (taken.has(suffixed(name, n))) n++;
        fileName = suffixed(name, n);
      }
    }
    const file = await tx.file.create({
      data: {
        id: newId('File'),
        organizationId: ctx.orgId,
        folderId,
        fileName,
        originalFileName: name,
        fileType: kind.mime,
        fileSize: bytes.length,
        content: text,
        rawBytes: text === null ? bytes : null,
        processingStatus: 'pending',
      },
      // Not read back: the text just written (up to MAX_UPLOAD_BYTES) would cross the connection again.
      omit: WITHOUT_TEXT,
    });
    ctx.logger.info({ fileId: file.id, folderId, bytes: bytes.length, type: kind.mime }, 'file uploaded');
    return { file: file as FileRow, skipped: false };
    // Writing megabytes of text takes seconds on the embedded database, more under load: more than Prisma's 5 s default.
  }, { timeout: 120_000, maxWait: 30_000 });
  if (!result.skipped) ctx.runtime.fileJobs.enqueue(result.file.id);
  return result;
}

export type FileQueryShape = Pick<Prisma.FileFindManyArgs, 'include' | 'select'>;

/**
 * A file's text and raw bytes: megabytes, read only when asked for (the schema's `content` field
 * loads it with fileContents). A status poll (`file(id) { processingStatus }`) read a 10 MiB text
 * each time, 10–60 ms of the main thread decoding it (issue 13).
 */
const WITHOUT_TEXT = { content: true, rawBytes: true } as const;

/** A shape of Pothos (select or include) that leaves out the text unless it selects it itself. */
function withoutText<S extends FileQueryShape>(shape: S): S {
  return shape.select ? shape : { ...shape, omit: WITHOUT_TEXT };
}

/** A file, without its text unless `shape` selects it (content and rawBytes are then undefined). */
export async function getFile(ctx: ServiceContext, id: string, shape: FileQueryShape = {}): Promise<FileRow> {
  assertId('File', id, 'id');
  const file = await ctx.prisma.file.findFirst({ ...withoutText(shape), where: { id, organizationId: ctx.orgId } } as Prisma.FileFindFirstArgs);
  if (!file) throw notFound('File', id);
  return file;
}

export async function listFolderFiles(ctx: ServiceContext, folderId: string, args: PageArgs, shape: FileQueryShape = {}): Promise<Page<FileRow>> {
  for (const key of ['after', 'before'] as const) if (args[key] != null) assertId('File', args[key]!, key);
  return paginate(
    args,
    { field: 'createdAt', nullable: false, direction: 'asc' },
    { folderId, organizationId: ctx.orgId },
    async (id) => {
      const row = await ctx.prisma.file.findFirst({ where: { id, folderId }, select: { id: true, createdAt: true } });
      return row ? { id: row.id, value: row.createdAt } : undefined;
    },
    (query) => ctx.prisma.file.findMany({ ...withoutText(shape), ...query } as Prisma.FileFindManyArgs) as Promise<FileRow[]>,
    (where) => ctx.prisma.file.count({ where: where as Prisma.FileWhereInput }),
  );
}

/** The first page of files of several folders (no cursor), in two statements whatever their number. */
export async function firstFolderFilePages(ctx: ServiceContext, folderIds: readonly string[], args: { first?: number | null }, shape: FileQueryShape = {}): Promise<Array<Page<FileRow>>> {
  checkPageArgs({ first: args.first });
  const limit = args.first ?? DEFAULT_PAGE_SIZE;
  const filter = Prisma.sql`"organizationId" = ${ctx.orgId}`;
  const ids = await firstRowsPerParent(ctx.prisma, { table: 'File', parent: 'folderId', id: 'id', orderBy: 'createdAt', filter }, folderIds, limit + 1);
  const rows = ids.length
    ? ((await ctx.prisma.file.findMany({ ...withoutText(selecting(shape, 'folderId')), where: { id: { in: ids.map((row) => row.id) } }, orderBy: [{ createdAt: 'asc' }, { id: 'asc' }] } as Prisma.FileFindManyArgs)) as FileRow[])
    : [];
  return firstPages(folderIds, rows, (row) => row.folderId, limit, (folderId) => ctx.prisma.file.count({ where: { folderId, organizationId: ctx.orgId } }));
}

export async function deleteFile(ctx: ServiceContext, id: string): Promise<string> {
  assertId('File', id, 'id');
  const agentIds = await ctx.prisma.$transaction(async (tx) => {
    const file = await tx.file.findFirst({ where: { id, organizationId: ctx.orgId }, select: { id: true } });
    if (!file) throw notFound('File', id);
    return deleteFilesAndRebuild(tx, [id]);
  });
  for (const agentId of agentIds) publishAgentEvent(ctx, agentId, { type: 'AGENT_UPDATED' });
  publishFileUpdates(ctx.bus, ctx.orgId, [id], true);
  return id;
}

/** Deletes files (their passages and views go with them) and rebuilds the prompts of agents that showed them. */
async function deleteFilesAndRebuild(tx: Db, fileIds: string[]): Promise<string[]> {
  const views = await tx.fileAgent.findMany({ where: { fileId: { in: fileIds } }, select: { agentId: true } });
  await tx.file.deleteMany({ where: { id: { in: fileIds } } });
  const agentIds = [...new Set(views.map((view) => view.agentId))];
  for (const agentId of agentIds) await rebuildSystemPrompt(tx, agentId);
  return agentIds;
}

/** The texts of files read without them (null until parsed, or for an unknown id), in the order of `ids`, in one statement. */
export async function fileContents(ctx: ServiceContext, ids: readonly string[]): Promise<Array<string | null>> {
  const rows = await ctx.prisma.file.findMany({ where: { id: { in: [...ids] }, organizationId: ctx.orgId }, select: { id: true, content: true } });
  const byId = new Map(rows.map((row) => [row.id, row.content]));
  return ids.map((id) => byId.get(id) ?? null);
}

/** A followed file's state: the file as it is now (without its text, loaded when asked for), or null once deleted. */
export interface FileUpdate {
  fileId: string;
  file: Omit<FileRow, 'rawBytes' | 'content'> | null;
  at: Date;
}

const TERMINAL_STATUSES = new Set(['completed', 'error']);
/** How often a followed file is read again when no event came (a lost bus message costs no more). */
const FILE_RECHECK_MS = 2_000;

/**
 * A file's processing as it happens: its state now, then each change (status, chunks embedded),
 * until it is completed, fails or is deleted.
 */
export function followFile(ctx: ServiceContext, fileId: string): AsyncGenerator<FileUpdate> {
  return interruptible(async function* (interrupt) {
    const events = ctx.bus.pubsub.subscribe('fileUpdated', fileId)[Symbol.asyncIterator]();
    let next = events.next(); // listening before the state is read, so that no change falls between
    try {
      let seen: string | undefined;
      for (;;) {
        const file = await ctx.prisma.file.findFirst({ where: { id: fileId, organizationId: ctx.orgId }, omit: WITHOUT_TEXT });
        const state = file ? `${file.processingStatus} ${file.chunksEmbedded ?? 0}` : 'deleted';
        if (state !== seen) {
          seen = state;
          yield { fileId, file, at: new Date() };
        }
        if (!file || TERMINAL_STATUSES.has(file.processingStatus)) return;
        const step = await interrupt.race(Promise.race([next, new Promise<null>((resolve) => setTimeout(() => resolve(null), FILE_RECHECK_MS).unref())]));
        if (step === STOPPED || step?.done) return;
        if (step) next = events.next();
      }
    } finally {
      await events.return?.();
    }
  });
}
