import { z } from 'zod';
import { nearestPassages } from '../../db/vector-search.js';
import type { ServiceContext } from '../platform/context.js';
import { fileLimitsOf, openViews } from './file-views.js';
import { embedOrFail } from '../archival/passages.js';
import { rebuildSystemPrompt } from '../memory/system-prompt.js';
import { parseToolArgs } from '../tools/tool-args.js';
import { ToolExecutionError } from '../../errors.js';
import { WorkerTimeoutError } from '../../workers/pool.js';

/** The file tools the agent calls (letta_files_core): open_files, grep_files, semantic_search_files. */

export const openArgs = z.object({
  file_requests: z
    .array(z.object({ file_name: z.string(), offset: z.number().int().min(0).nullish(), length: z.number().int().min(1).nullish() }))
    .min(1, 'give at least one file'),
  close_all_others: z.boolean().nullish(),
});

const lines = (start: number, end: number) => `lines ${start}-${end - 1}`;

export async function openFilesTool(ctx: ServiceContext, agentId: string, raw: Record<string, unknown>): Promise<string> {
  const args = parseToolArgs('open_files', openArgs, raw);
  return ctx.prisma.$transaction(async (tx) => {
    const limits = await fileLimitsOf(tx, agentId);
    if (args.file_requests.length > limits.maxFilesOpen) {
      throw new ToolExecutionError(`Cannot open ${args.file_requests.length} files: exceeds configured maximum limit of ${limits.maxFilesOpen} files`);
    }
    const views = await tx.fileAgent.findMany({ where: { agentId }, orderBy: { fileName: 'asc' } });
    const byName = new Map(views.map((view) => [view.fileName, view]));
    const requests = args.file_requests.map((request) => {
      const view = byName.get(request.file_name);
      if (!view) {
        const available = views.map((candidate) => candidate.fileName).join(', ') || 'none (no folder is attached)';
        throw new ToolExecutionError(`File '${request.file_name}' not found or not attached. Attached files: ${available}`);
      }
      return { view, offset: request.offset, length: request.length };
    });
    const outcome = await openViews(tx, agentId, requests, { closeAllOthers: args.close_all_others ?? false, limits });
    await rebuildSystemPrompt(tx, agentId);
    const out = outcome.opened.map((opened) => {
      let line = `* Opened ${opened.name}`;
      if (!opened.whole) line += ` (${lines(opened.startLine, opened.endLine)})`;
      if (opened.previous) line += ` (previously ${lines(opened.previous.startLine, opened.previous.endLine)})`;
      return line;
    });
    if (outcome.closedOthers.length) out.push(`Note: Closed ${outcome.closedOthers.length} file(s) due to close_all_others=True: ${outcome.closedOthers.join(', ')}`);
    if (outcome.closedByLru.length) {
      out.push(`Note: Closed ${outcome.closedByLru.length} least recently used file(s) due to open file limit (${limits.maxFilesOpen}): ${outcome.closedByLru.join(', ')}`);
    }
    return out.join('\n');
  });
}

export const grepArgs = z.object({
  pattern: z.string(),
  include: z.string().nullish(),
  context_lines: z.number().int().min(0).nullish(),
  offset: z.number().int().min(0).nullish(),
});

export async function grepFilesTool(ctx: ServiceContext, agentId: string, raw: Record<string, unknown>): Promise<string> {
  const args = parseToolArgs('grep_files', grepArgs, raw);
  const views = await ctx.prisma.fileAgent.findMany({ where: { agentId }, orderBy: { fileName: 'asc' }, include: { file: { select: { content: true } } } });
  if (views.length === 0) return 'No files are attached: attach a folder to search its files.';
  const files = views.map((view) => ({ name: view.fileName, content: view.file.content ?? '' }));
  const search = { pattern: args.pattern, include: args.include, contextLines: args.context_lines, offset: args.offset };
  // In a worker thread, with a deadline: the main thread keeps serving while the files are scanned.
  const result = await ctx.runtime.pool.run('grep.files', { files, args: search }, { timeoutMs: ctx.runtime.grepTimeoutMs }).catch((error: unknown) => {
    if (error instanceof WorkerTimeoutError) {
      throw new ToolExecutionError(`Error: the search for '${args.pattern}' did not finish within ${ctx.runtime.grepTimeoutMs} ms; use a narrower pattern or an include filter`);
    }
    throw error;
  });
  if (!result.ok) throw new ToolExecutionError(result.message);
  const { outcome } = result;
  if (outcome.matchedFiles.length) {
    await ctx.prisma.fileAgent.updateMany({ where: { agentId, fileName: { in: outcome.matchedFiles } }, data: { lastAccessedAt: new Date() } });
  }
  return outcome.text;
}

export const semanticArgs = z.object({ query: z.string(), limit: z.number().int().nullish() });
export const SEMANTIC_SEARCH_MAX = 50;

export async function semanticSearchFilesTool(ctx: ServiceContext, agentId: string, raw: Record<string, unknown>): Promise<string> {
  const args = parseToolArgs('semantic_search_files', semanticArgs, raw);
  const limit = Math.min(Math.max(1, args.limit ?? 5), SEMANTIC_SEARCH_MAX);
  if (!args.query.trim()) return 'No results found: the query is empty.';
  const folders = await ctx.prisma.folderAgent.findMany({ where: { agentId }, include: { folder: { select: { id: true, embedding: true } } } });
  if (folders.length === 0) return 'No files are attached: attach a folder to search its files.';
  // Folders may use different embedding models: embed the query once per model and merge by score.
  const byHandle = new Map<string, string[]>();
  for (const { folder } of folders) {
    const handle = ctx.runtime.embeddings.resolve(folder.embedding).handle;
    byHandle.set(handle, [...(byHandle.get(handle) ?? []), folder.id]);
  }
  const hits = [];
  for (const [handle, folderIds] of byHandle) {
    const [vector] = await embedOrFail(ctx.runtime.embeddings.resolve(handle), [args.query]);
    hits.push(...(await nearestPassages(ctx.prisma, ctx.runtime.vectorSearch, { organizationId: ctx.orgId, scope: { kind: 'files', folderIds }, embedding: vector!, limit })));
  }
  hits.sort((a, b) => b.score - a.score || a.id.localeCompare(b.id));
  const top = hits.slice(0, limit);
  if (top.length === 0) return `No results found for '${args.query}'.`;
  return top
    .map((hit, index) => `=== ${hit.fileName ?? 'file'} (passage #${index + 1}) (score: ${hit.score.toFixed(3)}) ===\n${hit.text.split('\n').slice(0, 20).join('\n')}`)
    .join('\n\n');
}
