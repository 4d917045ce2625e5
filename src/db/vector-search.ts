import { Prisma } from '../generated/prisma/client.js';
import type { PrismaClient } from './client.js';

/**
 * Nearest passages by cosine similarity. Embeddings are stored as real[] (unit length, see
 * src/agent/embeddings) with their dimension beside them. Where pgvector exists (PGlite) the
 * column is cast to `vector` and ordered by `<=>`; on PostgreSQL without it the same ranking is
 * computed exactly in SQL as a dot product. Every filter (scope, tags, dates, dimension) sits in
 * the WHERE clause, before the LIMIT, so a filtered search still returns up to `limit` rows.
 */

export type PassageScope =
  | { kind: 'archival'; agentId: string }
  | { kind: 'files'; folderIds: string[]; fileIds?: string[] };

export interface VectorQuery {
  organizationId: string;
  scope: PassageScope;
  embedding: number[];
  limit: number;
  tags?: { values: string[]; mode: 'any' | 'all' };
  createdFrom?: Date;
  createdTo?: Date;
}

export interface VectorHit {
  id: string;
  text: string;
  tags: string[];
  createdAt: Date;
  fileId: string | null;
  fileName: string | null;
  /** Cosine similarity, 1 = same direction. */
  score: number;
}

const arrayLiteral = (values: number[]) => `{${values.map((value) => (Number.isFinite(value) ? value : 0)).join(',')}}`;
const vectorLiteral = (values: number[]) => `[${values.map((value) => (Number.isFinite(value) ? value : 0)).join(',')}]`;

function filters(query: VectorQuery): Prisma.Sql {
  const clauses: Prisma.Sql[] = [
    Prisma.sql`p."organizationId" = ${query.organizationId}`,
    Prisma.sql`p."embeddingDim" = ${query.embedding.length}`,
  ];
  if (query.scope.kind === 'archival') {
    clauses.push(Prisma.sql`p."agentId" = ${query.scope.agentId}`, Prisma.sql`p."fileId" IS NULL`);
  } else {
    clauses.push(Prisma.sql`p."folderId" = ANY(${query.scope.folderIds}::text[])`, Prisma.sql`p."fileId" IS NOT NULL`);
    if (query.scope.fileIds) clauses.push(Prisma.sql`p."fileId" = ANY(${query.scope.fileIds}::text[])`);
  }
  if (query.tags && query.tags.values.length > 0) {
    clauses.push(query.tags.mode === 'all' ? Prisma.sql`p.tags @> ${query.tags.values}::text[]` : Prisma.sql`p.tags && ${query.tags.values}::text[]`);
  }
  if (query.createdFrom) clauses.push(Prisma.sql`p."createdAt" >= ${query.createdFrom}`);
  if (query.createdTo) clauses.push(Prisma.sql`p."createdAt" <= ${query.createdTo}`);
  return Prisma.join(clauses, ' AND ');
}

const COLUMNS = Prisma.sql`p.id, p.text, p.tags, p."createdAt", p."fileId", p."fileName"`;

/**
 * pgvector's cosine distance (`<=>`). The cast names the dimension so that an expression index
 * `USING hnsw ((embedding::vector(N)) vector_cosine_ops)` can serve it; without one (the default
 * schema has none) this is an exact scan.
 */
function pgvectorSearch(query: VectorQuery): Prisma.Sql {
  const vector = vectorLiteral(query.embedding);
  const typed = Prisma.raw(`vector(${Math.trunc(query.embedding.length)})`);
  return Prisma.sql`
    SELECT ${COLUMNS}, (1 - (p.embedding::${typed} <=> ${vector}::${typed}))::float8 AS score
    FROM "Passage" p
    WHERE ${filters(query)}
    ORDER BY p.embedding::${typed} <=> ${vector}::${typed}, p.id
    LIMIT ${query.limit}`;
}

/** Exact cosine similarity of unit vectors: a dot product over the two arrays, in double precision. */
function exactSearch(query: VectorQuery): Prisma.Sql {
  const array = arrayLiteral(query.embedding);
  return Prisma.sql`
    SELECT ${COLUMNS}, s.score
    FROM "Passage" p
    CROSS JOIN LATERAL (
      SELECT COALESCE(sum(a::float8 * b::float8), 0)::float8 AS score
      FROM unnest(p.embedding, ${array}::real[]) AS t(a, b)
    ) s
    WHERE ${filters(query)}
    ORDER BY s.score DESC, p.id
    LIMIT ${query.limit}`;
}

export type VectorMethod = 'pgvector' | 'exact';

export async function nearestPassages(prisma: PrismaClient | Prisma.TransactionClient, method: VectorMethod, query: VectorQuery): Promise<VectorHit[]> {
  if (query.limit <= 0 || query.embedding.length === 0) return [];
  const sql = method === 'pgvector' ? pgvectorSearch(query) : exactSearch(query);
  const rows = await prisma.$queryRaw<VectorHit[]>(sql);
  return rows.map((row) => ({ ...row, score: Number(row.score) }));
}
