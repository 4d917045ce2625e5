import type { Logger } from '../logger.js';
import type { SqlSession } from './sql-session.js';

/**
 * pgvector HNSW indexes on Passage embeddings (PGlite only). Embeddings are `real[]` of any
 * length, so there is one partial expression index per dimension,
 * `USING hnsw ((embedding::vector(N)) vector_cosine_ops) WHERE "embeddingDim" = N`, which
 * src/db/vector-search.ts matches by casting to `vector(N)` and repeating the predicate. They are
 * not in schema.prisma or the migrations: PostgreSQL without pgvector has no `vector` type, and
 * the dimensions are only known at run time (see docs/development.md, Migrations).
 *
 * The server makes sure one exists for its default embedding's dimension at start-up and for any
 * other dimension before passages of it are first written; each is created once
 * (`IF NOT EXISTS`, remembered per process), so a restart costs one catalog lookup.
 */

/** pgvector's HNSW indexes `vector` up to 2,000 dimensions; longer embeddings are searched exactly. */
export const HNSW_MAX_DIMENSIONS = 2000;
/** Memory for building an index over existing passages (the graph must fit, or the build crawls). */
const BUILD_MEMORY = '512MB';

export const passageIndexName = (dimension: number) => `Passage_embedding_${dimension}_hnsw_idx`;

export type EnsurePassageIndex = (dimension: number) => Promise<void>;

export function passageIndexer(session: () => Promise<SqlSession>, logger: Logger): EnsurePassageIndex {
  const ensured = new Map<number, Promise<void>>();
  const create = async (dimension: number) => {
    const name = passageIndexName(dimension);
    const sql = await session();
    try {
      const [existing] = await sql.query<{ count: number }>(`SELECT count(*)::int AS count FROM pg_indexes WHERE schemaname = current_schema() AND indexname = $1`, [name]);
      if (existing!.count > 0) return;
      const started = Date.now();
      // One script is one implicit transaction: SET LOCAL lasts until its end, nothing else runs
      // between (PGlite has a single connection), and a failure rolls all of it back.
      await sql.exec(`SET LOCAL maintenance_work_mem = '${BUILD_MEMORY}';
        CREATE INDEX IF NOT EXISTS "${name}" ON "Passage" USING hnsw ((embedding::vector(${dimension})) vector_cosine_ops) WHERE "embeddingDim" = ${dimension};
        ANALYZE "Passage";`);
      logger.info({ index: name, ms: Date.now() - started }, 'created the vector index for this embedding dimension');
    } finally {
      await sql.release();
    }
  };
  return (dimension) => {
    if (!Number.isInteger(dimension) || dimension < 1 || dimension > HNSW_MAX_DIMENSIONS) return Promise.resolve();
    let pending = ensured.get(dimension);
    if (!pending) {
      pending = create(dimension);
      ensured.set(dimension, pending);
      // A failed attempt is retried by the next caller rather than remembered.
      pending.catch(() => ensured.delete(dimension));
    }
    return pending;
  };
}
