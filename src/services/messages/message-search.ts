import { z } from 'zod';
import type { PrismaClient } from '../../db/client.js';
import { ftsSearch, recentSearch, unindexedMessages, upsertIndexEntries, vectorSearch, type MessageFilter, type RankedRow, type UnindexedMessage } from '../../db/message-search.js';
import type { VectorMethod } from '../../db/vector-search.js';
import { embedMessageText } from '../../agent/message-embedding.js';
import { textOfContent } from '../../agent/prompt-builder.js';
import { unpackMessage } from '../../agent/messages/text.js';
import type { ServiceContext } from '../platform/context.js';
import { AppError, badInput, parseInput } from '../../errors.js';
import { assertAgentInOrg } from '../platform/scope.js';
import { toEdges } from './message-store.js';

/**
 * Message search (letta-domain §5.2) over every stored message of the organization, in or out of
 * context: PostgreSQL full-text search, vector search over message embeddings, and hybrid
 * Reciprocal Rank Fusion of the two. The GraphQL query and the agent's conversation_search tool
 * both go through runMessageSearch.
 */

export type SearchMode = 'vector' | 'fts' | 'hybrid';
export const MESSAGE_SEARCH_DEFAULT_LIMIT = 50;
export const MESSAGE_SEARCH_MAX_LIMIT = 100;
/** Reciprocal Rank Fusion: k and the weight of each list (Letta's values). */
export const RRF_K = 60;
const RRF_WEIGHT = 0.5;
const INDEX_BATCH = 500;

export interface SearchSettings {
  vectorBackend: VectorMethod;
  /** Whether messages are embedded (MESSAGE_EMBEDDINGS); without it only full-text search is available. */
  embeddings: boolean;
}

export interface SearchParams {
  query?: string;
  mode: SearchMode;
  roles?: string[];
  agentId?: string;
  startDate?: Date;
  endDate?: Date;
  limit: number;
}

export interface SearchHit {
  messageId: string;
  text: string;
  ftsRank: number | null;
  vectorRank: number | null;
  rrfScore: number;
}

export interface SearchOutcome {
  /** The mode that ran: `timestamp` without a query, else the mode asked or the best available. */
  mode: SearchMode | 'timestamp';
  /** Why the mode that ran differs from the one asked. */
  note: string | null;
  hits: SearchHit[];
}

/** The text a message is found by; empty for messages search never returns. */
export function searchableText(message: Pick<UnindexedMessage, 'role' | 'name' | 'content' | 'toolCalls'>): string {
  const calls = Array.isArray(message.toolCalls) ? (message.toolCalls as Array<{ function?: { name?: string; arguments?: string } }>) : [];
  // The search tool's own calls and results would otherwise find themselves (Letta drops them too).
  if (message.name === 'conversation_search' || calls.some((call) => call.function?.name === 'conversation_search')) return '';
  switch (message.role) {
    case 'system':
      return '';
    case 'user': {
      const text = unpackMessage(textOfContent(message.content));
      // Heartbeats and login notices are the runtime talking to itself.
      return /^\s*\{\s*"type"\s*:\s*"(heartbeat|login)"/.test(text) ? '' : text;
    }
    case 'assistant':
    case 'approval': {
      const texts = [textOfContent(message.content)];
      for (const call of calls) {
        try {
          const args = JSON.parse(call.function?.arguments ?? '{}') as Record<string, unknown>;
          if (call.function?.name === 'send_message' && typeof args.message === 'string') texts.push(args.message);
          else texts.push(`${call.function?.name ?? ''} ${call.function?.arguments ?? ''}`);
        } catch {
          texts.push(call.function?.arguments ?? '');
        }
      }
      return texts.filter(Boolean).join('\n');
    }
    default:
      return textOfContent(message.content);
  }
}

/** Brings the organization's index up to date: new and edited messages get their text and embedding. */
export async function indexPendingMessages(prisma: PrismaClient, organizationId: string, settings: SearchSettings): Promise<number> {
  let indexed = 0;
  for (;;) {
    const batch = await unindexedMessages(prisma, organizationId, INDEX_BATCH);
    await upsertIndexEntries(
      prisma,
      batch.map((message) => {
        const text = searchableText(message);
        return { messageId: message.id, text, embedding: settings.embeddings && text ? embedMessageText(text) : [], sourceUpdatedAt: message.updatedAt };
      }),
    );
    indexed += batch.length;
    if (batch.length < INDEX_BATCH) return indexed;
  }
}

/** Fuses ranked lists: score = Σ weight / (k + rank), ranks from 1; a list without the item adds 0. */
export function reciprocalRankFusion(vector: RankedRow[], fts: RankedRow[], limit: number): Array<{ id: string; vectorRank: number | null; ftsRank: number | null; rrfScore: number }> {
  const fused = new Map<string, { id: string; vectorRank: number | null; ftsRank: number | null; rrfScore: number }>();
  const add = (rows: RankedRow[], key: 'vectorRank' | 'ftsRank') =>
    rows.forEach((row, index) => {
      const item = fused.get(row.id) ?? { id: row.id, vectorRank: null, ftsRank: null, rrfScore: 0 };
      item[key] = index + 1;
      item.rrfScore += RRF_WEIGHT / (RRF_K + index + 1);
      fused.set(row.id, item);
    });
  add(vector, 'vectorRank');
  add(fts, 'ftsRank');
  return [...fused.values()].sort((a, b) => b.rrfScore - a.rrfScore).slice(0, limit);
}

/** Runs a validated search within one organization. */
export async function runMessageSearch(prisma: PrismaClient, organizationId: string, settings: SearchSettings, params: SearchParams): Promise<SearchOutcome> {
  await indexPendingMessages(prisma, organizationId, settings);
  const filter: MessageFilter = { organizationId, agentId: params.agentId, roles: params.roles, startDate: params.startDate, endDate: params.endDate };
  const query = params.query?.trim();
  let rows: Array<{ id: string; vectorRank: number | null; ftsRank: number | null; rrfScore: number }>;
  let mode: SearchOutcome['mode'] = params.mode;
  let note: string | null = null;
  if (!query) {
    mode = 'timestamp';
    rows = (await recentSearch(prisma, filter, params.limit)).map((row) => ({ id: row.id, vectorRank: null, ftsRank: null, rrfScore: row.score }));
  } else {
    if (params.mode !== 'fts' && !settings.embeddings) {
      if (params.mode === 'vector') {
        throw new AppError('BAD_USER_INPUT', 'input.mode: VECTOR search needs message embeddings, which this server does not compute (MESSAGE_EMBEDDINGS=off); use FTS', {
          path: 'input.mode',
        });
      }
      mode = 'fts';
      note = 'HYBRID search fell back to FTS: this server does not compute message embeddings (MESSAGE_EMBEDDINGS=off)';
    }
    if (mode === 'fts') {
      rows = (await ftsSearch(prisma, query, filter, params.limit)).map((row, index) => ({ id: row.id, vectorRank: null, ftsRank: index + 1, rrfScore: 1 / (index + 1) }));
    } else if (mode === 'vector') {
      rows = (await vectorSearch(prisma, settings.vectorBackend, embedMessageText(query), filter, params.limit)).map((row, index) => ({
        id: row.id,
        vectorRank: index + 1,
        ftsRank: null,
        rrfScore: 1 / (index + 1),
      }));
    } else {
      const candidates = Math.min(Math.max(params.limit * 3, 30), 300);
      const [vector, fts] = await Promise.all([
        vectorSearch(prisma, settings.vectorBackend, embedMessageText(query), filter, candidates),
        ftsSearch(prisma, query, filter, candidates),
      ]);
      rows = reciprocalRankFusion(vector, fts, params.limit);
    }
  }
  const texts = new Map(
    (await prisma.messageSearchIndex.findMany({ where: { messageId: { in: rows.map((row) => row.id) } }, select: { messageId: true, text: true } })).map((entry) => [
      entry.messageId,
      entry.text,
    ]),
  );
  return { mode, note, hits: rows.map((row) => ({ messageId: row.id, text: texts.get(row.id) ?? '', ftsRank: row.ftsRank, vectorRank: row.vectorRank, rrfScore: row.rrfScore })) };
}

// ---- the GraphQL use case ----

const ROLES = ['system', 'user', 'assistant', 'tool', 'approval', 'summary'] as const;

export const searchMessagesInput = z.object({
  query: z.string().max(10_000, 'must be at most 10000 characters').nullish(),
  mode: z.enum(['vector', 'fts', 'hybrid']).nullish(),
  roles: z.array(z.enum(ROLES)).max(ROLES.length).nullish(),
  agentId: z.string().nullish(),
  startDate: z.date().nullish(),
  endDate: z.date().nullish(),
  limit: z
    .number()
    .int()
    .min(1, 'must be at least 1')
    .max(MESSAGE_SEARCH_MAX_LIMIT, `must be at most ${MESSAGE_SEARCH_MAX_LIMIT}`)
    .nullish(),
});

export function searchSettingsOf(ctx: Pick<ServiceContext, 'runtime'>): SearchSettings {
  return { vectorBackend: ctx.runtime.vectorSearch, embeddings: ctx.runtime.context.messageEmbeddings };
}

/** An end date at exactly midnight UTC covers that whole day (Letta). */
function endOfDayIfMidnight(date: Date): Date {
  return date.getUTCHours() === 0 && date.getUTCMinutes() === 0 && date.getUTCSeconds() === 0 && date.getUTCMilliseconds() === 0
    ? new Date(date.getTime() + 86_400_000 - 1)
    : date;
}

export async function searchMessages(ctx: ServiceContext, rawInput: unknown) {
  const input = parseInput(searchMessagesInput, rawInput ?? {});
  if (input.agentId) await assertAgentInOrg(ctx.prisma, ctx.orgId, input.agentId, 'input.agentId');
  const endDate = input.endDate ? endOfDayIfMidnight(input.endDate) : undefined;
  if (input.startDate && endDate && input.startDate > endDate) throw badInput('input.startDate', 'must not be after endDate');
  const outcome = await runMessageSearch(ctx.prisma, ctx.orgId, searchSettingsOf(ctx), {
    query: input.query ?? undefined,
    mode: input.mode ?? 'hybrid',
    roles: input.roles ?? undefined,
    agentId: input.agentId ?? undefined,
    startDate: input.startDate ?? undefined,
    endDate,
    limit: input.limit ?? MESSAGE_SEARCH_DEFAULT_LIMIT,
  });
  const rows = await ctx.prisma.message.findMany({ where: { id: { in: outcome.hits.map((hit) => hit.messageId) }, organizationId: ctx.orgId } });
  const agentIds = [...new Set(rows.map((row) => row.agentId))];
  const agents = await ctx.prisma.agent.findMany({ where: { id: { in: agentIds } }, select: { id: true, agentType: true } });
  const typeOf = new Map(agents.map((agent) => [agent.id, agent.agentType]));
  const byId = new Map(rows.map((row) => [row.id, row]));
  const results = outcome.hits.flatMap((hit) => {
    const row = byId.get(hit.messageId);
    if (!row) return [];
    const messages = toEdges([row], typeOf.get(row.agentId) ?? 'letta_v1_agent', { useAssistantMessage: true }).map((edge) => edge.node);
    return [{ ...hit, agentId: row.agentId, role: row.role, createdAt: row.createdAt, messages }];
  });
  return { mode: outcome.mode, note: outcome.note, results };
}
