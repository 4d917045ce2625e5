import { z } from 'zod';
import { Prisma, type Agent, type Block } from '../../generated/prisma/client.js';
import { defaultBlockDescription } from '../../agent/memory.js';
import { newId } from '../../ids.js';
import type { ServiceContext } from '../platform/context.js';
import { AppError, assertId, conflict, notFound, parseInput } from '../../errors.js';
import { isUniqueViolation } from '../../db/errors.js';
import { paginate, type Page, type PageArgs } from '../platform/pagination.js';
import { assertAgentInOrg, type Db } from '../platform/scope.js';
import { rebuildForBlocks, rebuildSystemPrompt } from './system-prompt.js';
import { publishAgentEvent, publishBlockChanges } from '../platform/events.js';

/** Core memory blocks: labelled text that agents see in their system prompt and can edit. */

export const BLOCK_LIMIT_DEFAULT = 100_000;
/** Block values are stored whole; this bound only keeps a single request from storing gigabytes. */
export const BLOCK_VALUE_MAX_CHARS = 5_000_000;

/**
 * Letta's block schema has no label pattern: Letta Code lays memory out as paths (`system/persona`,
 * `reference/faq`, `/note_directory`, even `system//references/x`). A label is also the name of its
 * element in the compiled memory, so whitespace and the XML specials `<`, `>`, `&`, quotes are kept out.
 */
export const BLOCK_LABEL_MAX_CHARS = 200;
const label = z
  .string()
  .trim()
  .min(1, 'must not be empty')
  .max(BLOCK_LABEL_MAX_CHARS, `must be at most ${BLOCK_LABEL_MAX_CHARS} characters`)
  .regex(/^[^\s<>&"']+$/u, 'must not contain whitespace or any of < > & " \' (it names an element of the compiled memory)');

// NUL bytes cannot be stored in PostgreSQL text; Letta strips them too.
const value = z
  .string()
  .max(BLOCK_VALUE_MAX_CHARS, `must be at most ${BLOCK_VALUE_MAX_CHARS} characters`)
  .transform((text) => text.replaceAll('\u0000', ''));

const limit = z
  .number()
  .int('must be an integer')
  .min(1, 'must be at least 1')
  .max(100_000_000, 'must be at most 100000000');

const jsonObject = z.record(z.string(), z.unknown());

export const createBlockInput = z.object({
  label,
  value: value.nullish().transform((text) => text ?? ''),
  limit: limit.nullish(),
  description: z.string().max(10_000).nullish(),
  readOnly: z.boolean().nullish(),
  metadata: jsonObject.nullish(),
  tags: z.array(z.string().trim().min(1).max(100)).max(100).nullish(),
});

export const updateBlockInput = z.object({
  label: label.optional(),
  value: value.optional(),
  limit: limit.optional(),
  description: z.string().max(10_000).nullable().optional(),
  readOnly: z.boolean().optional(),
  metadata: jsonObject.nullable().optional(),
  tags: z.array(z.string().trim().min(1).max(100)).max(100).optional(),
});

export type CreateBlockData = z.output<typeof createBlockInput>;

/** Block row data for a parsed create input (used for standalone blocks and blocks made with an agent). */
export function blockData(orgId: string, input: CreateBlockData): Prisma.BlockCreateManyInput {
  return {
    id: newId('Block'),
    organizationId: orgId,
    label: input.label,
    value: input.value,
    limit: input.limit ?? BLOCK_LIMIT_DEFAULT,
    description: input.description ?? defaultBlockDescription(input.label),
    readOnly: input.readOnly ?? false,
    metadata: (input.metadata ?? undefined) as Prisma.InputJsonValue | undefined,
    tags: input.tags ?? [],
  };
}

function labelTaken(label: string, agentId: string) {
  return conflict(`A block labelled '${label}' is already attached to agent ${agentId}`, { label, agentId });
}

// ---- queries ----

/** Prisma include/select chosen by the caller (the GraphQL layer plans nested relations with it). */
export type BlockQueryShape = Pick<Prisma.BlockFindManyArgs, 'include' | 'select'>;

export async function getBlock(ctx: ServiceContext, id: string, shape: BlockQueryShape = {}): Promise<Block> {
  assertId('Block', id, 'id');
  const block = await ctx.prisma.block.findFirst({ ...shape, where: { id, organizationId: ctx.orgId } } as Prisma.BlockFindFirstArgs);
  if (!block) throw notFound('Block', id);
  return block;
}

/** A shape nested under a relation: its own select or include, else the whole row. */
const nested = (shape: { select?: unknown; include?: unknown }) => (shape.select ? { select: shape.select } : shape.include ? { include: shape.include } : true);

/**
 * The first `take` agents showing each block, oldest attachment first, one list per id of
 * `blockIds` (empty for a block outside the organization). One statement for all of them.
 */
export async function firstAgentsOfBlocks(ctx: ServiceContext, blockIds: readonly string[], take: number, shape: Pick<Prisma.AgentFindManyArgs, 'include' | 'select'> = {}): Promise<Agent[][]> {
  const blocks = await ctx.prisma.block.findMany({
    where: { id: { in: [...blockIds] }, organizationId: ctx.orgId },
    select: { id: true, agents: { orderBy: [{ createdAt: 'asc' }, { agentId: 'asc' }], take, select: { agent: nested(shape) } } },
  } as Prisma.BlockFindManyArgs) as unknown as Array<{ id: string; agents: Array<{ agent: Agent }> }>;
  const byId = new Map(blocks.map((block) => [block.id, block.agents.map((link) => link.agent)]));
  return blockIds.map((id) => byId.get(id) ?? []);
}

export interface BlockFilter {
  label?: string | null;
  search?: string | null;
  agentId?: string | null;
}

export async function listBlocks(
  ctx: ServiceContext,
  args: PageArgs & { filter?: BlockFilter | null },
  shape: BlockQueryShape = {},
): Promise<Page<Block>> {
  const filter = args.filter ?? {};
  const where: Prisma.BlockWhereInput = { organizationId: ctx.orgId };
  if (filter.label != null) where.label = filter.label;
  if (filter.search?.trim()) where.value = { contains: filter.search.trim(), mode: 'insensitive' };
  if (filter.agentId != null) {
    assertId('Agent', filter.agentId, 'filter.agentId');
    where.agents = { some: { agentId: filter.agentId } };
  }
  for (const key of ['after', 'before'] as const) {
    if (args[key] != null) assertId('Block', args[key]!, key);
  }
  return paginate(
    args,
    { field: 'createdAt', nullable: false, direction: 'desc' },
    where as Record<string, unknown>,
    async (id) => {
      const row = await ctx.prisma.block.findFirst({ where: { id, organizationId: ctx.orgId }, select: { id: true, createdAt: true } });
      return row ? { id: row.id, value: row.createdAt } : undefined;
    },
    (query) => ctx.prisma.block.findMany({ ...shape, ...query } as Prisma.BlockFindManyArgs) as Promise<Block[]>,
    (where) => ctx.prisma.block.count({ where: where as Prisma.BlockWhereInput }),
  );
}

// ---- changes ----

export async function createBlock(ctx: ServiceContext, raw: Record<string, unknown>): Promise<Block> {
  const input = parseInput(createBlockInput, raw ?? {});
  return ctx.prisma.block.create({ data: blockData(ctx.orgId, input) });
}

/** Which block an update addresses: its id, or an agent and the label it has there. */
export type BlockRef = { id: string } | { agentId: string; label: string };

async function findBlockRef(db: Db, ctx: ServiceContext, ref: BlockRef): Promise<Block> {
  if ('id' in ref) {
    assertId('Block', ref.id, 'id');
    const block = await db.block.findFirst({ where: { id: ref.id, organizationId: ctx.orgId } });
    if (!block) throw notFound('Block', ref.id);
    return block;
  }
  await assertAgentInOrg(db, ctx.orgId, ref.agentId);
  const link = await db.blockAgent.findUnique({
    where: { agentId_blockLabel: { agentId: ref.agentId, blockLabel: ref.label } },
    include: { block: true },
  });
  if (!link) throw new AppError('NOT_FOUND', `Agent ${ref.agentId} has no block labelled '${ref.label}'`, { label: ref.label });
  return link.block;
}

/**
 * Edits a block and rebuilds the system prompt of every agent that shows it. A read-only block
 * keeps its value unless the same update also sets readOnly to false.
 */
export async function updateBlock(ctx: ServiceContext, ref: BlockRef, raw: Record<string, unknown>): Promise<Block> {
  const input = parseInput(updateBlockInput, raw ?? {});
  const result = await ctx.prisma.$transaction(async (tx) => {
    const block = await findBlockRef(tx, ctx, ref);
    const unlocking = input.readOnly === false;
    const editsContent = input.value !== undefined || input.label !== undefined;
    if (block.readOnly && editsContent && !unlocking) {
      throw new AppError('FORBIDDEN', `Block '${block.label}' is read-only; set readOnly to false in the same update to edit it`, {
        blockId: block.id,
      });
    }
    const { metadata, ...rest } = input;
    const data: Prisma.BlockUpdateInput = { ...rest };
    if (metadata !== undefined) data.metadata = metadata === null ? Prisma.DbNull : (metadata as Prisma.InputJsonValue);
    if (input.label !== undefined && input.label !== block.label) {
      try {
        await tx.blockAgent.updateMany({ where: { blockId: block.id }, data: { blockLabel: input.label } });
      } catch (error) {
        if (isUniqueViolation(error)) throw conflict(`Another block labelled '${input.label}' is attached to an agent that shows this block`, { label: input.label });
        throw error;
      }
    }
    const updated = await tx.block.update({ where: { id: block.id }, data });
    const agentIds = await rebuildForBlocks(tx, [block.id]);
    return { updated, agentIds };
  });
  publishBlockChanges(ctx, { agentIds: result.agentIds, blockIds: [result.updated.id] });
  return result.updated;
}

export async function deleteBlock(ctx: ServiceContext, id: string): Promise<string> {
  const agentIds = await ctx.prisma.$transaction(async (tx) => {
    const block = await findBlockRef(tx, ctx, { id });
    const links = await tx.blockAgent.findMany({ where: { blockId: block.id }, select: { agentId: true } });
    await tx.block.delete({ where: { id: block.id } });
    for (const { agentId } of links) await rebuildSystemPrompt(tx, agentId);
    return links.map((link) => link.agentId);
  });
  publishBlockChanges(ctx, { agentIds, blockIds: [id], deleted: true });
  return id;
}

/** Attaches an existing block; attaching it again is a no-op (`changed: false`). */
export async function attachBlock(ctx: ServiceContext, agentId: string, blockId: string): Promise<{ changed: boolean; block: Block }> {
  assertId('Block', blockId, 'blockId');
  try {
    const result = await ctx.prisma.$transaction(async (tx) => {
      await assertAgentInOrg(tx, ctx.orgId, agentId);
      const block = await findBlockRef(tx, ctx, { id: blockId });
      const existing = await tx.blockAgent.findUnique({ where: { agentId_blockId: { agentId, blockId } } });
      if (existing) return { changed: false, block };
      const clash = await tx.blockAgent.findUnique({ where: { agentId_blockLabel: { agentId, blockLabel: block.label } } });
      if (clash) throw labelTaken(block.label, agentId);
      await tx.blockAgent.create({ data: { agentId, blockId, blockLabel: block.label } });
      await rebuildSystemPrompt(tx, agentId);
      return { changed: true, block };
    });
    if (result.changed) publishAgentEvent(ctx, agentId, { type: 'BLOCK_CHANGED', blockIds: [blockId] });
    return result;
  } catch (error) {
    // Two concurrent attaches of one label: the database's unique index decides.
    if (isUniqueViolation(error)) throw conflict(`A block with the same label was attached to agent ${agentId} at the same time`, { agentId });
    throw error;
  }
}

/** Detaches a block (the block itself stays); detaching one that is not attached is a no-op. */
export async function detachBlock(ctx: ServiceContext, agentId: string, blockId: string): Promise<{ changed: boolean; block: Block }> {
  assertId('Block', blockId, 'blockId');
  const result = await ctx.prisma.$transaction(async (tx) => {
    await assertAgentInOrg(tx, ctx.orgId, agentId);
    const block = await findBlockRef(tx, ctx, { id: blockId });
    const { count } = await tx.blockAgent.deleteMany({ where: { agentId, blockId } });
    if (count > 0) await rebuildSystemPrompt(tx, agentId);
    return { changed: count > 0, block };
  });
  if (result.changed) publishAgentEvent(ctx, agentId, { type: 'BLOCK_CHANGED', blockIds: [blockId] });
  return result;
}

export const blockRefError = () =>
  new AppError('BAD_USER_INPUT', 'input: address the block either by id, or by agentId and blockLabel', { path: 'input.id' });
