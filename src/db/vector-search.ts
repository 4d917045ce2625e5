import { Prisma } from '../generated/prisma/client.js';
import type { PrismaClient } from './client.js';

/**
 * Nearest passages by cosine similarity. Embeddings are stored as real[] (unit length, see
 * src/agent/embeddings) with their dimension beside them. Where pgvector exists (PGlite) the
 * column is cast to `vector(N)` and ordered by `<=>`, which the HNSW index of that dimension
 * serves (src/db/vector-index.ts); on PostgreSQL without it the same ranking is computed exactly
 * in SQL as a dot product. Every filter (scope, tags, dates, dimension) sits in the WHERE clause,
 * before the LIMIT, so a filtered search still returns up to `limit` rows.
 */

export type PassageScope =
  | { kind: 'archival'; agentId: string }
  | { kind: 'files'; folderIds: string[] };

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

const numberList = (values: number[]) => values.map((value) => (Number.isFinite(value) ? value : 0)).join(',');

function filters(query: VectorQuery): Prisma.Sql {
  const clauses: Prisma.Sql[] = [
    Prisma.sql`p."organizationId" = ${query.organizationId}`,
    // A literal, not a parameter: the planner must see that it implies the index's predicate.
    Prisma.raw(`p."embeddingDim" = ${Math.trunc(query.embedding.length)}`),
  ];
  if (query.scope.kind === 'archival') {
    clauses.push(Prisma.sql`p."agentId" = ${query.scope.agentId}`, Prisma.sql`p."fileId" IS NULL`);
  } else {
    clauses.push(Prisma.sql`p."folderId" = ANY(${query.scope.folderIds}::text[])`, Prisma.sql`p."fileId" IS NOT NULL`);
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
 * pgvector's cosine distance (`<=>`). The cast names the dimension so that the partial index
 * `USING hnsw ((embedding::vector(N)) vector_cosine_ops) WHERE "embeddingDim" = N` can serve the
 * ORDER BY (the planner adds an incremental sort for the id tie-break, reading one row past the
 * limit). The session's strict-order iterative scan keeps reading the index until `limit` rows
 * pass the filters; without the index, or where the planner prefers the filters' own indexes,
 * this is an exact scan.
 */
function pgvectorSearch(query: VectorQuery): Prisma.Sql {
  const vector = `[${numberList(query.embedding)}]`;
  const typed = Prisma.raw(`vector(${Math.trunc(query.embedding.length)})`);
  return Prisma.sql`
    SELECT ${COLUMNS}, (1 - (p.embedding::${typed} <=> ${vector}::${typed}))::float8 AS score
    FROM "Passage" p
    WHERE ${filters(query)}
    ORDER BY p.embedding::${typed} <=> ${vector}::${typed}, p.id
    LIMIT ${query.limit}`;
}

/**
 * Exact cosine similarity of unit vectors: a dot product over the two arrays, in double
 * precision. Two unnests in one select list run in lockstep; `unnest(a, b)` in FROM (the obvious
 * form) fills a tuplestore for every passage and is about 1.5x slower.
 */
function exactSearch(query: VectorQuery): Prisma.Sql {
  const array = `{${numberList(query.embedding)}}`;
  return Prisma.sql`
    SELECT ${COLUMNS}, s.score
    FROM "Passage" p
    CROSS JOIN LATERAL (
      SELECT COALESCE(sum(a::float8 * b::float8), 0)::float8 AS score
      FROM (SELECT unnest(p.embedding) AS a, unnest(${array}::real[]) AS b) AS pairs
    ) s
    WHERE ${filters(query)}
    ORDER BY s.score DESC, p.id
    LIMIT ${query.limit}`;
}

export type VectorMethod = 'pgvector' | 'exact';

/** The statement a search runs first (exported for EXPLAIN in tests). */
export const searchStatement = (method: VectorMethod, query: VectorQuery): Prisma.Sql => (method === 'pgvector' ? pgvectorSearch(query) : exactSearch(query));

export async function nearestPassages(prisma: PrismaClient, method: VectorMethod, query: VectorQuery): Promise<VectorHit[]> {
  if (query.limit <= 0 || query.embedding.length === 0) return [];
  let rows: VectorHit[];
  if (method === 'exact') {
    // The exact scan's cost estimate is large enough to trigger JIT compilation, which costs more
    // than it saves here (a third of the query's time on PostgreSQL 15).
    [, rows] = await prisma.$transaction([prisma.$executeRaw`SET LOCAL jit = off`, prisma.$queryRaw<VectorHit[]>(exactSearch(query))]);
  } else {
    rows = await prisma.$queryRaw<VectorHit[]>(pgvectorSearch(query));
    // An HNSW scan gives up after hnsw.max_scan_tuples index entries, so fewer rows than asked can
    // mean a very selective filter rather than too few matches. The same query without index scans
    // (the filters' bitmap scans remain) then gives the exact answer.
    if (rows.length < query.limit) {
      [, rows] = await prisma.$transaction([prisma.$executeRaw`SET LOCAL enable_indexscan = off`, prisma.$queryRaw<VectorHit[]>(pgvectorSearch(query))]);
    }
  }
  return rows.map((row) => ({ ...row, score: Number(row.score) }));
}
