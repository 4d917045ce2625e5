import { z } from 'zod';
import type { Passage, Prisma } from '../../generated/prisma/client.js';
import { formatSearchTimestamp, parseBound } from '../../agent/tools/conversation-search.js';
import { EmbeddingError, type Embedder } from '../../agent/embeddings/index.js';
import { nearestPassages, type VectorHit } from '../../db/vector-search.js';
import { newId } from '../../ids.js';
import type { ServiceContext } from '../platform/context.js';
import { AppError, assertId, badInput, notFound, parseInput, ToolExecutionError } from '../../errors.js';
import { DEFAULT_PAGE_SIZE, checkPageArgs, type Page } from '../platform/pagination.js';
import { assertAgentInOrg, type Db } from '../platform/scope.js';
import { rebuildSystemPrompt } from '../memory/system-prompt.js';
import { parseToolArgs } from '../tools/tool-args.js';

/** Archival memory: passages of one agent, embedded on insert, listed and searched by meaning. */

export const PASSAGE_TEXT_MAX_CHARS = 100_000;
/** Letta's RETRIEVAL_QUERY_DEFAULT_PAGE_SIZE. */
export const ARCHIVAL_SEARCH_DEFAULT_TOP_K = 5;
export const ARCHIVAL_SEARCH_MAX_TOP_K = 1000;

const tags = z.array(z.string().trim().min(1, 'must not be empty').max(100, 'must be at most 100 characters')).max(100, 'at most 100 tags');

const createPassageInput = z.object({
  agentId: z.string(),
  text: z
    .string()
    .transform((text) => text.replaceAll('\u0000', ''))
    .refine((text) => text.trim().length > 0, 'must not be empty')
    .refine((text) => text.length <= PASSAGE_TEXT_MAX_CHARS, `must be at most ${PASSAGE_TEXT_MAX_CHARS} characters`),
  tags: tags.nullish(),
  createdAt: z.date().nullish(),
});

async function agentEmbedding(db: Db, agentId: string): Promise<{ embedding: string | null; timezone: string }> {
  return db.agent.findUniqueOrThrow({ where: { id: agentId }, select: { embedding: true, timezone: true } });
}

/** An embedding provider that fails is the caller's LLM_ERROR (a typed error), never an INTERNAL one. */
export async function embedOrFail(embedder: Embedder, texts: string[]): Promise<number[][]> {
  try {
    return await embedder.embed(texts);
  } catch (error) {
    if (error instanceof EmbeddingError) throw new AppError('LLM_ERROR', error.message);
    throw error;
  }
}

/** Inserts one archival passage, embedded with the agent's embedding model. */
export async function createPassage(ctx: ServiceContext, raw: Record<string, unknown>): Promise<Passage> {
  const input = parseInput(createPassageInput, raw ?? {});
  await assertAgentInOrg(ctx.prisma, ctx.orgId, input.agentId, 'input.agentId');
  return insertArchivalPassage(ctx, input.agentId, input.text, [...new Set(input.tags ?? [])], input.createdAt ?? undefined);
}

export async function insertArchivalPassage(ctx: ServiceContext, agentId: string, text: string, tagList: string[], createdAt?: Date): Promise<Passage> {
  const agent = await agentEmbedding(ctx.prisma, agentId);
  const embedder = ctx.runtime.embeddings.resolve(agent.embedding);
  const [vector] = await embedOrFail(embedder, [text]);
  await ctx.runtime.ensurePassageIndex(vector!.length);
  return ctx.prisma.$transaction(async (tx) => {
    const passage = await tx.passage.create({
      data: {
        id: newId('Passage'),
        organizationId: ctx.orgId,
        agentId,
        text,
        tags: tagList,
        embedding: vector!,
        embeddingDim: vector!.length,
        embeddingModel: embedder.handle,
        ...(createdAt ? { createdAt } : {}),
      },
    });
    // The memory metadata counts archival memories (Letta forces a rebuild after an insert).
    await rebuildSystemPrompt(tx, agentId);
    return passage;
  });
}

export async function deletePassage(ctx: ServiceContext, id: string): Promise<string> {
  assertId('Passage', id, 'id');
  const passage = await ctx.prisma.passage.findFirst({ where: { id, organizationId: ctx.orgId }, select: { id: true, agentId: true } });
  if (!passage) throw notFound('Passage', id);
  if (!passage.agentId) throw badInput('id', 'this passage is a chunk of a file; delete or re-upload the file instead');
  await ctx.prisma.$transaction(async (tx) => {
    await tx.passage.delete({ where: { id } });
    await rebuildSystemPrompt(tx, passage.agentId!);
  });
  return id;
}

export async function getPassage(ctx: ServiceContext, id: string): Promise<Passage> {
  assertId('Passage', id, 'id');
  const passage = await ctx.prisma.passage.findFirst({ where: { id, organizationId: ctx.orgId } });
  if (!passage) throw notFound('Passage', id);
  return passage;
}

export interface PassageListArgs {
  first?: number | null;
  last?: number | null;
  after?: string | null;
  before?: string | null;
  search?: string | null;
  direction?: 'asc' | 'desc' | null;
}

/**
 * An agent's archival passages. Letta's semantics: ascending by default, and cursors are
 * chronological (created time, id) whatever the order: `after` is later, `before` is earlier.
 * `search` is a case-insensitive substring. An unknown cursor is NOT_FOUND.
 */
export async function listPassages(ctx: ServiceContext, agentId: string, args: PassageListArgs): Promise<Page<Passage>> {
  checkPageArgs({ first: args.first });
  if (args.last != null) throw badInput('last', 'not supported for passages; use first with orderBy: { direction: DESC }');
  const limit = args.first ?? DEFAULT_PAGE_SIZE;
  const conditions: Prisma.PassageWhereInput[] = [{ agentId, organizationId: ctx.orgId, fileId: null }];
  const search = args.search?.trim();
  if (search) conditions.push({ text: { contains: search, mode: 'insensitive' } });
  const filter = [...conditions];
  for (const [key, op] of [['after', 'gt'], ['before', 'lt']] as const) {
    const cursorId = args[key];
    if (cursorId == null) continue;
    assertId('Passage', cursorId, key);
    const cursor = await ctx.prisma.passage.findFirst({ where: { id: cursorId, agentId }, select: { id: true, createdAt: true } });
    if (!cursor) throw new AppError('NOT_FOUND', `${key}: passage ${cursorId} is not in this agent's archival memory`, { path: key });
    conditions.push({ OR: [{ createdAt: { [op]: cursor.createdAt } }, { createdAt: cursor.createdAt, id: { [op]: cursor.id } }] });
  }
  const direction = args.direction ?? 'asc';
  const rows = await ctx.prisma.passage.findMany({
    where: { AND: conditions },
    orderBy: [{ createdAt: direction }, { id: direction }],
    take: limit + 1,
  });
  return {
    nodes: rows.slice(0, limit),
    hasNextPage: rows.length > limit,
    hasPreviousPage: Boolean(args.after ?? args.before),
    totalCount: () => ctx.prisma.passage.count({ where: { AND: filter } }),
  };
}

// ---- search ----

export type TagMatchMode = 'any' | 'all';

export interface ArchivalSearchArgs {
  query: string;
  tags?: string[] | null;
  tagMatchMode?: TagMatchMode | null;
  topK?: number | null;
  startDatetime?: string | null;
  endDatetime?: string | null;
}

export interface ArchivalSearchHit extends VectorHit {
  /** ISO time in the agent's timezone, as Letta shows it. */
  timestamp: string;
}

/** Thrown for bad search arguments; the API turns it into BAD_USER_INPUT, the tool into an error result. */
class SearchArgumentError extends Error {
  constructor(
    readonly path: string,
    message: string,
  ) {
    super(message);
  }
}

function parseDates(args: ArchivalSearchArgs, timezone: string, names: { start: string; end: string }) {
  const read = (name: string, text: string | null | undefined) => {
    if (text == null || text.trim() === '') return undefined;
    try {
      return parseBound(name, text.trim(), timezone);
    } catch (error) {
      if (error instanceof ToolExecutionError) throw new SearchArgumentError(name, error.message);
      throw error;
    }
  };
  const from = read(names.start, args.startDatetime);
  const to = read(names.end, args.endDatetime);
  if (from && to && from > to) throw new SearchArgumentError(names.start, `${names.start} (${from.toISOString()}) is after ${names.end} (${to.toISOString()})`);
  return { from, to };
}

async function searchArchival(ctx: ServiceContext, agentId: string, args: ArchivalSearchArgs, names: { start: string; end: string; topK: string }): Promise<ArchivalSearchHit[]> {
  const agent = await agentEmbedding(ctx.prisma, agentId);
  const topK = args.topK ?? ARCHIVAL_SEARCH_DEFAULT_TOP_K;
  if (!Number.isInteger(topK) || topK < 1 || topK > ARCHIVAL_SEARCH_MAX_TOP_K) {
    throw new SearchArgumentError(names.topK, `must be an integer from 1 to ${ARCHIVAL_SEARCH_MAX_TOP_K}`);
  }
  const { from, to } = parseDates(args, agent.timezone, names);
  // Letta: an empty or whitespace query finds nothing (not an error).
  if (!args.query?.trim()) return [];
  const embedder = ctx.runtime.embeddings.resolve(agent.embedding);
  const [vector] = await embedOrFail(embedder, [args.query]);
  const tagValues = [...new Set((args.tags ?? []).map((tag) => tag.trim()).filter(Boolean))];
  const hits = await nearestPassages(ctx.prisma, ctx.runtime.vectorSearch, {
    organizationId: ctx.orgId,
    scope: { kind: 'archival', agentId },
    embedding: vector!,
    limit: topK,
    tags: tagValues.length ? { values: tagValues, mode: args.tagMatchMode ?? 'any' } : undefined,
    createdFrom: from,
    createdTo: to,
  });
  return hits.map((hit) => ({ ...hit, timestamp: formatSearchTimestamp(hit.createdAt, agent.timezone) }));
}

/** `agent.archivalSearch`: ranked passages with their similarity scores. */
export async function archivalSearch(ctx: ServiceContext, agentId: string, args: ArchivalSearchArgs): Promise<ArchivalSearchHit[]> {
  await assertAgentInOrg(ctx.prisma, ctx.orgId, agentId);
  try {
    return await searchArchival(ctx, agentId, args, { start: 'startDatetime', end: 'endDatetime', topK: 'topK' });
  } catch (error) {
    if (error instanceof SearchArgumentError) throw badInput(error.path, error.message);
    throw error;
  }
}

export const archivalSearchArgs = z.object({
  query: z.string(),
  tags: z.array(z.string()).nullish(),
  tag_match_mode: z.enum(['any', 'all']).nullish(),
  top_k: z.number().int().nullish(),
  start_datetime: z.string().nullish(),
  end_datetime: z.string().nullish(),
});

/** The `archival_memory_search` tool: same search, Letta's result shape, errors as tool errors. */
export async function archivalSearchTool(ctx: ServiceContext, agentId: string, raw: Record<string, unknown>): Promise<string> {
  const args = parseToolArgs('archival_memory_search', archivalSearchArgs, raw);
  try {
    const hits = await searchArchival(
      ctx,
      agentId,
      {
        query: args.query,
        tags: args.tags,
        tagMatchMode: args.tag_match_mode,
        topK: args.top_k,
        startDatetime: args.start_datetime,
        endDatetime: args.end_datetime,
      },
      { start: 'start_datetime', end: 'end_datetime', topK: 'top_k' },
    );
    return JSON.stringify(hits.map((hit) => ({ timestamp: hit.timestamp, content: hit.text, tags: hit.tags })));
  } catch (error) {
    if (error instanceof SearchArgumentError) throw new ToolExecutionError(`Error: ${error.path}: ${error.message}`);
    throw error;
  }
}

export const archivalInsertArgs = z.object({ content: z.string(), tags: z.array(z.string()).nullish() });

/** The `archival_memory_insert` tool. Letta returns None; the model sees "None". */
export async function archivalInsertTool(ctx: ServiceContext, agentId: string, raw: Record<string, unknown>): Promise<string> {
  const parsed = archivalInsertArgs.safeParse(raw);
  if (!parsed.success) throw new ToolExecutionError('Invalid arguments: archival_memory_insert needs content (a string) and optional tags (strings)');
  const text = parsed.data.content.replaceAll('\u0000', '');
  if (!text.trim()) throw new ToolExecutionError('Error: content must not be empty');
  if (text.length > PASSAGE_TEXT_MAX_CHARS) throw new ToolExecutionError(`Error: content must be at most ${PASSAGE_TEXT_MAX_CHARS} characters`);
  const tagList = [...new Set((parsed.data.tags ?? []).map((tag) => tag.trim()).filter(Boolean))].slice(0, 100);
  await insertArchivalPassage(ctx, agentId, text, tagList);
  return 'None';
}
