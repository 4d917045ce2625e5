import { z } from 'zod';
import { Prisma, type Folder } from '../../generated/prisma/client.js';
import { newId } from '../../ids.js';
import type { ServiceContext } from '../platform/context.js';
import { assertId, badInput, conflict, notFound, parseInput } from '../../errors.js';
import { isUniqueViolation } from '../../db/errors.js';
import { publishAgentEvent, publishFileUpdates } from '../platform/events.js';
import { afterFolderRemoved } from './file-views.js';
import { rebuildSystemPrompt } from '../memory/system-prompt.js';
import { paginate, type Page, type PageArgs } from '../platform/pagination.js';

/** Folders (Letta's sources): named sets of uploaded files that agents attach. */

const folderName = z
  .string()
  .trim()
  .min(1, 'must not be empty')
  .max(100, 'must be at most 100 characters')
  .regex(/^[^/\\\u0000-\u001f]+$/, 'must not contain "/", "\\" or control characters');

const createFolderInput = z.object({
  name: folderName,
  description: z.string().max(10_000).nullish(),
  instructions: z.string().max(10_000).nullish(),
  metadata: z.record(z.string(), z.unknown()).nullish(),
  embedding: z.string().trim().nullish(),
});

// The embedding stays: changing it would mean embedding every file again.
const updateFolderInput = z.object({
  name: folderName.nullish(),
  description: z.string().max(10_000).nullish(),
  instructions: z.string().max(10_000).nullish(),
  metadata: z.record(z.string(), z.unknown()).nullish(),
});

export type FolderQueryShape = Pick<Prisma.FolderFindManyArgs, 'include' | 'select'>;


export async function createFolder(ctx: ServiceContext, raw: Record<string, unknown>): Promise<Folder> {
  const input = parseInput(createFolderInput, raw ?? {});
  // The handle must name a usable embedder now, not when the first upload is processed.
  const embedding = input.embedding ? ctx.runtime.embeddings.resolve(input.embedding).handle : null;
  try {
    return await ctx.prisma.folder.create({
      data: {
        id: newId('Folder'),
        organizationId: ctx.orgId,
        name: input.name,
        description: input.description ?? null,
        instructions: input.instructions ?? null,
        metadata: (input.metadata ?? undefined) as Prisma.InputJsonValue | undefined,
        embedding,
      },
    });
  } catch (error) {
    if (isUniqueViolation(error)) throw conflict(`A folder named '${input.name}' already exists`, { name: input.name });
    throw error;
  }
}

/**
 * Letta's folder update: name, description, instructions, metadata (omitted fields stay; null
 * clears all but the name). A new name renames what agents see ("<folder>/<file>" in their file
 * views and in search results); attached agents' prompts show the new directory at once.
 */
export async function updateFolder(ctx: ServiceContext, id: string, raw: Record<string, unknown>): Promise<Folder> {
  assertId('Folder', id, 'id');
  const input = parseInput(updateFolderInput, raw ?? {});
  if (input.name === null) throw badInput('input.name', 'cannot be null');
  const { metadata, ...rest } = input;
  const data: Prisma.FolderUpdateInput = { ...rest, name: rest.name ?? undefined };
  if (metadata !== undefined) data.metadata = metadata === null ? Prisma.DbNull : (metadata as Prisma.InputJsonValue);
  let agentIds: string[] = [];
  try {
    await ctx.prisma.$transaction(async (tx) => {
      const folder = await tx.folder.findFirst({ where: { id, organizationId: ctx.orgId }, select: { name: true } });
      if (!folder) throw notFound('Folder', id);
      await tx.folder.update({ where: { id }, data });
      if (input.name != null && input.name !== folder.name) {
        await tx.$executeRaw`UPDATE "FileAgent" v SET "fileName" = ${input.name} || '/' || f."fileName" FROM "File" f WHERE f.id = v."fileId" AND v."folderId" = ${id}`;
        await tx.$executeRaw`UPDATE "Passage" p SET "fileName" = ${input.name} || '/' || f."fileName" FROM "File" f WHERE f.id = p."fileId" AND p."folderId" = ${id}`;
      }
      if (input.name != null || input.description !== undefined || input.instructions !== undefined) {
        agentIds = (await tx.folderAgent.findMany({ where: { folderId: id }, select: { agentId: true } })).map((link) => link.agentId);
        for (const agentId of agentIds) await rebuildSystemPrompt(tx, agentId);
      }
    });
  } catch (error) {
    if (isUniqueViolation(error)) throw conflict(`A folder named '${input.name}' already exists`, { name: input.name });
    throw error;
  }
  for (const agentId of agentIds) publishAgentEvent(ctx, agentId, { type: 'AGENT_UPDATED' });
  return getFolder(ctx, id);
}

export async function getFolder(ctx: ServiceContext, id: string, shape: FolderQueryShape = {}): Promise<Folder> {
  assertId('Folder', id, 'id');
  const folder = await ctx.prisma.folder.findFirst({ ...shape, where: { id, organizationId: ctx.orgId } } as Prisma.FolderFindFirstArgs);
  if (!folder) throw notFound('Folder', id);
  return folder;
}

export async function listFolders(ctx: ServiceContext, args: PageArgs, shape: FolderQueryShape = {}): Promise<Page<Folder>> {
  for (const key of ['after', 'before'] as const) if (args[key] != null) assertId('Folder', args[key]!, key);
  return paginate(
    args,
    { field: 'createdAt', nullable: false, direction: 'asc' },
    { organizationId: ctx.orgId },
    async (id) => {
      const row = await ctx.prisma.folder.findFirst({ where: { id, organizationId: ctx.orgId }, select: { id: true, createdAt: true } });
      return row ? { id: row.id, value: row.createdAt } : undefined;
    },
    (query) => ctx.prisma.folder.findMany({ ...shape, ...query } as Prisma.FolderFindManyArgs) as Promise<Folder[]>,
    (where) => ctx.prisma.folder.count({ where: where as Prisma.FolderWhereInput }),
  );
}

/**
 * Deletes a folder with its files, their passages and every agent's view of them. Agents that had
 * it attached lose its files from their context (and the file tools with their last folder), as
 * on detachFolder. A file still being processed writes nothing once its row is gone.
 */
export async function deleteFolder(ctx: ServiceContext, id: string): Promise<string> {
  assertId('Folder', id, 'id');
  const { agentIds, fileIds } = await ctx.prisma.$transaction(async (tx) => {
    const folder = await tx.folder.findFirst({ where: { id, organizationId: ctx.orgId }, select: { id: true } });
    if (!folder) throw notFound('Folder', id);
    const links = await tx.folderAgent.findMany({ where: { folderId: id }, select: { agentId: true } });
    const files = await tx.file.findMany({ where: { folderId: id }, select: { id: true } });
    // Files, passages, views and attachments go by cascade.
    await tx.folder.delete({ where: { id } });
    for (const { agentId } of links) await afterFolderRemoved(tx, agentId);
    return { agentIds: links.map((link) => link.agentId), fileIds: files.map((file) => file.id) };
  });
  for (const agentId of agentIds) publishAgentEvent(ctx, agentId, { type: 'AGENT_UPDATED' });
  publishFileUpdates(ctx.bus, ctx.orgId, fileIds, true);
  return id;
}
