import { Prisma, type FileAgent } from '../../generated/prisma/client.js';
import { FILE_TOOL_NAMES } from '../../agent/tools/builtin.js';
import { defaultFileLimits, fileLines, renderView, viewRange } from '../../agent/files/view.js';
import { newId } from '../../ids.js';
import type { ServiceContext } from '../platform/context.js';
import { AppError, assertId, badInput, notFound } from '../../errors.js';
import { DEFAULT_PAGE_SIZE, checkPageArgs, firstPages, firstRowsPerParent, selecting, type Page } from '../platform/pagination.js';
import { assertAgentInOrg, type Db } from '../platform/scope.js';
import { rebuildSystemPrompt } from '../memory/system-prompt.js';
import { publishAgentEvent } from '../platform/events.js';

/**
 * An agent's views of files (Letta's FileAgent): attaching a folder brings its files into the
 * agent's context (and the file tools), open files show a line-numbered window of their text,
 * and at most max_files_open files are open at once, the least recently used closing first.
 */

export interface FileLimits {
  maxFilesOpen: number;
  perFileChars: number;
}

export async function fileLimitsOf(db: Db, agentId: string): Promise<FileLimits> {
  const agent = await db.agent.findUniqueOrThrow({ where: { id: agentId }, select: { maxFilesOpen: true, perFileViewWindowCharLimit: true, llmConfig: true } });
  const contextWindow = Number((agent.llmConfig as { context_window?: unknown } | null)?.context_window) || null;
  const defaults = defaultFileLimits(contextWindow);
  return { maxFilesOpen: agent.maxFilesOpen ?? defaults.maxFilesOpen, perFileChars: agent.perFileViewWindowCharLimit ?? defaults.perFileChars };
}

export interface OpenRequest {
  view: FileAgent;
  offset?: number | null;
  length?: number | null;
}

export interface OpenOutcome {
  opened: Array<{ name: string; startLine: number; endLine: number; previous: { startLine: number; endLine: number } | null; whole: boolean }>;
  closedByLru: string[];
  closedOthers: string[];
}

const closedData = { isOpen: false, visibleContent: null, startLine: null, endLine: null } as const;

/** Opens views (with optional line ranges) and closes the least recently used beyond the limit. */
export async function openViews(tx: Db, agentId: string, requests: OpenRequest[], options: { closeAllOthers?: boolean; limits: FileLimits }): Promise<OpenOutcome> {
  const outcome: OpenOutcome = { opened: [], closedByLru: [], closedOthers: [] };
  const requested = new Set(requests.map((request) => request.view.id));
  if (options.closeAllOthers) {
    const others = await tx.fileAgent.findMany({ where: { agentId, isOpen: true, id: { notIn: [...requested] } }, select: { id: true, fileName: true } });
    if (others.length) await tx.fileAgent.updateMany({ where: { id: { in: others.map((view) => view.id) } }, data: closedData });
    outcome.closedOthers = others.map((view) => view.fileName);
  }
  const base = Date.now();
  for (const [index, request] of requests.entries()) {
    const file = await tx.file.findUniqueOrThrow({ where: { id: request.view.fileId }, select: { content: true } });
    const content = file.content ?? '';
    const range = viewRange(fileLines(content).length, request.offset, request.length);
    await tx.fileAgent.update({
      where: { id: request.view.id },
      data: {
        isOpen: true,
        visibleContent: renderView(content, range, options.limits.perFileChars),
        startLine: range.startLine,
        endLine: range.endLine,
        // Later requests count as more recently used.
        lastAccessedAt: new Date(base + index),
      },
    });
    const previous = request.view.isOpen && request.view.startLine != null && request.view.endLine != null ? { startLine: request.view.startLine, endLine: request.view.endLine } : null;
    outcome.opened.push({ name: request.view.fileName, startLine: range.startLine, endLine: range.endLine, previous, whole: request.offset == null && request.length == null });
  }
  const open = await tx.fileAgent.findMany({ where: { agentId, isOpen: true }, orderBy: [{ lastAccessedAt: 'desc' }, { id: 'asc' }], select: { id: true, fileName: true } });
  const excess = open.slice(options.limits.maxFilesOpen);
  if (excess.length) {
    await tx.fileAgent.updateMany({ where: { id: { in: excess.map((view) => view.id) } }, data: closedData });
    outcome.closedByLru = excess.map((view) => view.fileName);
  }
  return outcome;
}

async function ensureFileTools(tx: Db, orgId: string, agentId: string) {
  const tools = await tx.tool.findMany({ where: { organizationId: orgId, name: { in: [...FILE_TOOL_NAMES] } }, select: { id: true, defaultRequiresApproval: true } });
  await tx.toolAgent.createMany({ data: tools.map((tool) => ({ agentId, toolId: tool.id, requiresApproval: tool.defaultRequiresApproval })), skipDuplicates: true });
}

/** Gives every agent attached to the file's folder a view of it (open, within the limit). */
export async function addFileToAgents(tx: Db, fileId: string): Promise<string[]> {
  // Not its text: megabytes to read and decode on the main thread, for its name and status.
  const file = await tx.file.findUnique({
    where: { id: fileId },
    select: { organizationId: true, folderId: true, fileName: true, processingStatus: true, folder: { select: { name: true, agents: { select: { agentId: true } } } } },
  });
  if (!file || file.processingStatus !== 'completed') return [];
  const added: string[] = [];
  for (const { agentId } of file.folder.agents) {
    // An agent that already has a view (an imported agent file) keeps it as it was.
    if (await tx.fileAgent.findUnique({ where: { agentId_fileId: { agentId, fileId } }, select: { id: true } })) continue;
    const view = await tx.fileAgent.create({
      data: { id: newId('FileAgent'), organizationId: file.organizationId, agentId, fileId, folderId: file.folderId, fileName: `${file.folder.name}/${file.fileName}`, isOpen: false },
    });
    await openViews(tx, agentId, [{ view }], { limits: await fileLimitsOf(tx, agentId) });
    await rebuildSystemPrompt(tx, agentId);
    added.push(agentId);
  }
  return added;
}

export interface AttachResult {
  changed: boolean;
}

export async function attachFolder(ctx: ServiceContext, agentId: string, folderId: string): Promise<AttachResult> {
  assertId('Folder', folderId, 'folderId');
  const changed = await ctx.prisma.$transaction(async (tx) => {
    await assertAgentInOrg(tx, ctx.orgId, agentId);
    const folder = await tx.folder.findFirst({ where: { id: folderId, organizationId: ctx.orgId }, select: { id: true, name: true } });
    if (!folder) throw notFound('Folder', folderId);
    const { count } = await tx.folderAgent.createMany({ data: [{ agentId, folderId }], skipDuplicates: true });
    if (count === 0) return false;
    const files = await tx.file.findMany({ where: { folderId, processingStatus: 'completed' }, orderBy: [{ createdAt: 'asc' }, { id: 'asc' }] });
    if (files.length) {
      await tx.fileAgent.createMany({
        data: files.map((file) => ({ id: newId('FileAgent'), organizationId: ctx.orgId, agentId, fileId: file.id, folderId, fileName: `${folder.name}/${file.fileName}`, isOpen: false })),
        skipDuplicates: true,
      });
      // Views made together share their createdAt: the files' upload order decides which are newest.
      const views = await tx.fileAgent.findMany({ where: { agentId, folderId }, orderBy: [{ file: { createdAt: 'asc' } }, { fileName: 'asc' }] });
      const limits = await fileLimitsOf(tx, agentId);
      // The newest files open; older ones beyond the limit stay closed.
      await openViews(tx, agentId, views.slice(-limits.maxFilesOpen).map((view) => ({ view })), { limits });
    }
    await ensureFileTools(tx, ctx.orgId, agentId);
    await rebuildSystemPrompt(tx, agentId);
    return true;
  });
  if (changed) publishAgentEvent(ctx, agentId, { type: 'AGENT_UPDATED' });
  return { changed };
}

/** After a folder left an agent (detached or deleted): the file tools go with the last folder, and the prompt shows what remains. */
export async function afterFolderRemoved(tx: Db, agentId: string): Promise<void> {
  if ((await tx.folderAgent.count({ where: { agentId } })) === 0) {
    await tx.toolAgent.deleteMany({ where: { agentId, tool: { name: { in: [...FILE_TOOL_NAMES] } } } });
  }
  await rebuildSystemPrompt(tx, agentId);
}

export async function detachFolder(ctx: ServiceContext, agentId: string, folderId: string): Promise<AttachResult> {
  assertId('Folder', folderId, 'folderId');
  const changed = await ctx.prisma.$transaction(async (tx) => {
    await assertAgentInOrg(tx, ctx.orgId, agentId);
    const folder = await tx.folder.findFirst({ where: { id: folderId, organizationId: ctx.orgId }, select: { id: true } });
    if (!folder) throw notFound('Folder', folderId);
    const { count } = await tx.folderAgent.deleteMany({ where: { agentId, folderId } });
    if (count === 0) return false;
    await tx.fileAgent.deleteMany({ where: { agentId, folderId } });
    await afterFolderRemoved(tx, agentId);
    return true;
  });
  if (changed) publishAgentEvent(ctx, agentId, { type: 'AGENT_UPDATED' });
  return { changed };
}

async function viewOf(tx: Db, agentId: string, fileId: string): Promise<FileAgent> {
  assertId('File', fileId, 'fileId');
  const view = await tx.fileAgent.findUnique({ where: { agentId_fileId: { agentId, fileId } } });
  if (!view) throw new AppError('BAD_USER_INPUT', `File ${fileId} is not attached to agent ${agentId}; attach its folder first`, { path: 'fileId' });
  return view;
}

export async function openFile(ctx: ServiceContext, agentId: string, fileId: string, range: { offset?: number | null; length?: number | null } = {}) {
  if (range.offset != null && range.offset < 0) throw badInput('offset', 'must be 0 or more');
  if (range.length != null && range.length < 1) throw badInput('length', 'must be at least 1');
  return ctx.prisma.$transaction(async (tx) => {
    await assertAgentInOrg(tx, ctx.orgId, agentId);
    const view = await viewOf(tx, agentId, fileId);
    const outcome = await openViews(tx, agentId, [{ view, ...range }], { limits: await fileLimitsOf(tx, agentId) });
    await rebuildSystemPrompt(tx, agentId);
    return { view: await tx.fileAgent.findUniqueOrThrow({ where: { id: view.id } }), closedFiles: outcome.closedByLru };
  });
}

export async function closeFile(ctx: ServiceContext, agentId: string, fileId: string) {
  return ctx.prisma.$transaction(async (tx) => {
    await assertAgentInOrg(tx, ctx.orgId, agentId);
    const view = await viewOf(tx, agentId, fileId);
    const closed = await tx.fileAgent.update({ where: { id: view.id }, data: closedData });
    await rebuildSystemPrompt(tx, agentId);
    return { view: closed };
  });
}

export async function closeAllFiles(ctx: ServiceContext, agentId: string): Promise<string[]> {
  return ctx.prisma.$transaction(async (tx) => {
    await assertAgentInOrg(tx, ctx.orgId, agentId);
    const open = await tx.fileAgent.findMany({ where: { agentId, isOpen: true }, orderBy: { fileName: 'asc' }, select: { id: true, fileName: true } });
    if (open.length) {
      await tx.fileAgent.updateMany({ where: { agentId, isOpen: true }, data: closedData });
      await rebuildSystemPrompt(tx, agentId);
    }
    return open.map((view) => view.fileName);
  });
}

export type FileAgentQueryShape = Pick<Prisma.FileAgentFindManyArgs, 'include' | 'select'>;

export async function listAgentFiles(
  ctx: ServiceContext,
  agentId: string,
  args: { first?: number | null; after?: string | null; last?: number | null; before?: string | null; isOpen?: boolean | null },
  shape: FileAgentQueryShape = {},
): Promise<Page<FileAgent>> {
  checkPageArgs({ first: args.first });
  for (const key of ['last', 'before'] as const) if (args[key] != null) throw badInput(key, "not supported for an agent's files; page with first and after");
  const limit = args.first ?? DEFAULT_PAGE_SIZE;
  const where: Prisma.FileAgentWhereInput = { agentId, organizationId: ctx.orgId };
  if (args.isOpen != null) where.isOpen = args.isOpen;
  const filter = { ...where };
  if (args.after != null) {
    assertId('FileAgent', args.after, 'after');
    const cursor = await ctx.prisma.fileAgent.findFirst({ where: { id: args.after, agentId }, select: { fileName: true } });
    if (!cursor) throw new AppError('NOT_FOUND', `after: ${args.after} is not one of this agent's files`, { path: 'after' });
    where.fileName = { gt: cursor.fileName };
  }
  const rows = (await ctx.prisma.fileAgent.findMany({ ...shape, where, orderBy: { fileName: 'asc' }, take: limit + 1 } as Prisma.FileAgentFindManyArgs)) as FileAgent[];
  return { nodes: rows.slice(0, limit), hasNextPage: rows.length > limit, hasPreviousPage: args.after != null, totalCount: () => ctx.prisma.fileAgent.count({ where: filter }) };
}

/** The first page of files of several agents (no cursor), in two statements whatever their number. */
export async function firstAgentFilePages(
  ctx: ServiceContext,
  agentIds: readonly string[],
  args: { first?: number | null; isOpen?: boolean | null },
  shape: FileAgentQueryShape = {},
): Promise<Array<Page<FileAgent>>> {
  checkPageArgs({ first: args.first });
  const limit = args.first ?? DEFAULT_PAGE_SIZE;
  const filter = Prisma.sql`"organizationId" = ${ctx.orgId}${args.isOpen != null ? Prisma.sql` AND "isOpen" = ${args.isOpen}` : Prisma.empty}`;
  const ids = await firstRowsPerParent(ctx.prisma, { table: 'FileAgent', parent: 'agentId', id: 'id', orderBy: 'fileName', filter }, agentIds, limit + 1);
  const rows = ids.length
    ? ((await ctx.prisma.fileAgent.findMany({ ...selecting(shape, 'agentId'), where: { id: { in: ids.map((row) => row.id) } }, orderBy: [{ fileName: 'asc' }, { id: 'asc' }] } as Prisma.FileAgentFindManyArgs)) as FileAgent[])
    : [];
  const count = (agentId: string) => ctx.prisma.fileAgent.count({ where: { agentId, organizationId: ctx.orgId, ...(args.isOpen != null ? { isOpen: args.isOpen } : {}) } });
  return firstPages(agentIds, rows, (row) => row.agentId, limit, count);
}
