import { Prisma } from '../generated/prisma/client.js';
import type { PrismaClient } from './client.js';
import type { VectorMethod } from './vector-search.js';

/**
 * The SQL of message search, written once for PGlite and PostgreSQL 15: full-text search over the
 * GIN-indexed tsvector of MessageSearchIndex, and cosine similarity over its embeddings —
 * pgvector's `<=>` where the extension is loaded (PGlite), exact arithmetic on real[] otherwise.
 * Embeddings are unit vectors, so the dot product is the cosine.
 */


export interface MessageFilter {
  organizationId: string;
  agentId?: string;
  roles?: string[];
  startDate?: Date;
  endDate?: Date;
}

export interface RankedRow {
  id: string;
  score: number;
}

function filterSql(filter: MessageFilter): Prisma.Sql {
  const clauses = [Prisma.sql`m."organizationId" = ${filter.organizationId}`, Prisma.sql`s."text" <> ''`];
  if (filter.agentId) clauses.push(Prisma.sql`m."agentId" = ${filter.agentId}`);
  if (filter.roles?.length) clauses.push(Prisma.sql`m."role"::text IN (SELECT jsonb_array_elements_text(${JSON.stringify(filter.roles)}::jsonb))`);
  if (filter.startDate) clauses.push(Prisma.sql`m."createdAt" >= ${filter.startDate.toISOString()}::timestamptz`);
  if (filter.endDate) clauses.push(Prisma.sql`m."createdAt" <= ${filter.endDate.toISOString()}::timestamptz`);
  return Prisma.join(clauses, ' AND ');
}

const FROM = Prisma.sql`"MessageSearchIndex" s JOIN "Message" m ON m."id" = s."messageId"`;
const vectorLiteral = (vector: number[]) => `{${vector.join(',')}}`;

/** Messages matching a web-style query (quoted phrases, OR, -word), best ts_rank_cd first. */
export async function ftsSearch(prisma: PrismaClient, query: string, filter: MessageFilter, limit: number): Promise<RankedRow[]> {
  const rows = await prisma.$queryRaw<Array<{ id: string; score: number }>>`
    SELECT s."messageId" AS id, ts_rank_cd(s."tsv", q)::float8 AS score
      FROM ${FROM}, websearch_to_tsquery('english', ${query}) q
     WHERE ${filterSql(filter)} AND s."tsv" @@ q
     ORDER BY score DESC, m."sequenceId" DESC
     LIMIT ${limit}`;
  return rows.map((row) => ({ id: row.id, score: Number(row.score) }));
}

/** Messages nearest to an embedding by cosine similarity, most similar first. */
export async function vectorSearch(prisma: PrismaClient, backend: VectorMethod, embedding: number[], filter: MessageFilter, limit: number): Promise<RankedRow[]> {
  if (embedding.length === 0) return [];
  const vector = vectorLiteral(embedding);
  const similarity =
    backend === 'pgvector'
      ? Prisma.sql`(1 - (s."embedding"::vector <=> ${vector}::real[]::vector))`
      : Prisma.sql`(SELECT sum(a * b) FROM unnest(s."embedding", ${vector}::real[]) AS t(a, b))`;
  const rows = await prisma.$queryRaw<Array<{ id: string; score: number }>>`
    SELECT id, score FROM (
      SELECT s."messageId" AS id, ${similarity}::float8 AS score, m."sequenceId" AS seq
        FROM ${FROM}
       WHERE ${filterSql(filter)} AND cardinality(s."embedding") = ${embedding.length}::int
    ) ranked
    ORDER BY score DESC, seq DESC
    LIMIT ${limit}`;
  return rows.map((row) => ({ id: row.id, score: Number(row.score) }));
}

/** The newest searchable messages (search without a query). */
export async function recentSearch(prisma: PrismaClient, filter: MessageFilter, limit: number): Promise<RankedRow[]> {
  const rows = await prisma.$queryRaw<Array<{ id: string }>>`
    SELECT s."messageId" AS id FROM ${FROM} WHERE ${filterSql(filter)} ORDER BY m."sequenceId" DESC LIMIT ${limit}`;
  return rows.map((row, index) => ({ id: row.id, score: 1 / (index + 1) }));
}

export interface UnindexedMessage {
  id: string;
  role: string;
  name: string | null;
  content: unknown;
  toolCalls: unknown;
  updatedAt: Date;
}

/** Messages of an organization with no index entry, or one older than the message. */
export async function unindexedMessages(prisma: PrismaClient, organizationId: string, limit: number): Promise<UnindexedMessage[]> {
  const rows = await prisma.$queryRaw<UnindexedMessage[]>`
    SELECT m."id", m."role"::text AS role, m."name", m."content", m."toolCalls" AS "toolCalls", m."updatedAt" AS "updatedAt"
      FROM "Message" m LEFT JOIN "MessageSearchIndex" s ON s."messageId" = m."id"
     WHERE m."organizationId" = ${organizationId} AND (s."messageId" IS NULL OR s."sourceUpdatedAt" < m."updatedAt")
     ORDER BY m."sequenceId"
     LIMIT ${limit}`;
  return rows.map((row) => ({
    ...row,
    content: typeof row.content === 'string' ? parseJson(row.content) : row.content,
    toolCalls: typeof row.toolCalls === 'string' ? parseJson(row.toolCalls) : row.toolCalls,
    updatedAt: new Date(row.updatedAt),
  }));
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

export interface IndexEntry {
  messageId: string;
  text: string;
  embedding: number[];
  sourceUpdatedAt: Date;
}

/** Writes (or refreshes) index entries; the tsvector is computed by the database from the text. */
export async function upsertIndexEntries(prisma: PrismaClient, entries: IndexEntry[]): Promise<void> {
  if (entries.length === 0) return;
  const values = entries.map(
    (entry) =>
      Prisma.sql`(${entry.messageId}, ${entry.text}::text, to_tsvector('english', ${entry.text}::text), ${vectorLiteral(entry.embedding)}::real[], ${entry.sourceUpdatedAt.toISOString()}::timestamptz)`,
  );
  await prisma.$executeRaw`
    INSERT INTO "MessageSearchIndex" ("messageId", "text", "tsv", "embedding", "sourceUpdatedAt")
    SELECT v.* FROM (VALUES ${Prisma.join(values)}) AS v("messageId", "text", "tsv", "embedding", "sourceUpdatedAt")
     WHERE EXISTS (SELECT 1 FROM "Message" m WHERE m."id" = v."messageId")
    ON CONFLICT ("messageId") DO UPDATE SET "text" = EXCLUDED."text", "tsv" = EXCLUDED."tsv",
      "embedding" = EXCLUDED."embedding", "sourceUpdatedAt" = EXCLUDED."sourceUpdatedAt"`;
}
