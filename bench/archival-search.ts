/**
 * Archival search benchmark: one agent with BENCH_PASSAGES passages of 384 dimensions; query
 * latency (p50/p99) and recall@10 against exact search computed in the bench (JavaScript, double
 * precision), for every search path the server has:
 *   - pglite/pgvector  PGlite with pgvector, `<=>` without an index (what the server does by default)
 *   - pglite/exact     the exact SQL of PostgreSQL-without-pgvector, run on PGlite (same data)
 *   - pglite/hnsw      PGlite with an HNSW expression index (BENCH_HNSW=1; approximate)
 *   - postgres/exact   the machine's PostgreSQL 15 (no pgvector), exact cosine in SQL (needs DATABASE_URL)
 * Then the exact paths again at a tenth and a third of the passages, to show how they grow.
 *
 *   DATABASE_URL=postgresql://postgres@127.0.0.1:5432/test npx tsx bench/archival-search.ts
 *
 * Environment: BENCH_PASSAGES (default 100000), BENCH_QUERIES (default 50), BENCH_HNSW (default 0).
 * Vectors are random points around 200 random centres (so neighbours are meaningful), normalised.
 */
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { openDatabase, type Database } from '../src/db/client.js';
import { nearestPassages, type VectorMethod } from '../src/db/vector-search.js';
import { normalize } from '../src/agent/embeddings/types.js';
import { createLogger } from '../src/logger.js';
import { DEFAULT_ORG_ID, newId } from '../src/ids.js';

const PASSAGES = Number(process.env.BENCH_PASSAGES ?? 100_000);
const QUERIES = Number(process.env.BENCH_QUERIES ?? 50);
const HNSW = process.env.BENCH_HNSW === '1';
const DIM = 384;
const K = 10;

let seed = 42;
const random = () => {
  seed = (seed * 1103515245 + 12345) % 2147483648;
  return seed / 2147483648;
};
const gaussian = () => Math.sqrt(-2 * Math.log(random() + 1e-12)) * Math.cos(2 * Math.PI * random());
const centres = Array.from({ length: 200 }, () => Array.from({ length: DIM }, gaussian));
const point = () => {
  const centre = centres[Math.floor(random() * centres.length)]!;
  return normalize(centre.map((value) => value + gaussian() * 0.8));
};

const vectors = Array.from({ length: PASSAGES }, point);
const queries = Array.from({ length: QUERIES }, point);
const ids = vectors.map(() => newId('Passage'));
const logger = createLogger({ LOG_LEVEL: 'silent' });

function exactTopK(query: number[], count: number): string[] {
  const scored = vectors.slice(0, count).map((vector, i) => {
    let dot = 0;
    for (let d = 0; d < DIM; d++) dot += vector[d]! * query[d]!;
    return { id: ids[i]!, dot };
  });
  scored.sort((a, b) => b.dot - a.dot || a.id.localeCompare(b.id));
  return scored.slice(0, K).map((entry) => entry.id);
}

async function seedDatabase(db: Database, agentId: string, from: number, to: number) {
  for (let start = from; start < to; start += 1000) {
    const end = Math.min(to, start + 1000);
    await db.prisma.passage.createMany({
      data: Array.from({ length: end - start }, (_, j) => ({
        id: ids[start + j]!,
        organizationId: DEFAULT_ORG_ID,
        agentId,
        text: `passage ${start + j}`,
        embedding: vectors[start + j]!,
        embeddingDim: DIM,
        createdAt: new Date(Date.UTC(2024, 0, 1) + (start + j) * 1000),
      })),
    });
  }
}

const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;

async function measure(label: string, db: Database, method: VectorMethod, agentId: string, count: number) {
  const times: number[] = [];
  let recall = 0;
  await nearestPassages(db.prisma, method, { organizationId: DEFAULT_ORG_ID, scope: { kind: 'archival', agentId }, embedding: queries[0]!, limit: K });
  for (const query of queries) {
    const start = process.hrtime.bigint();
    const hits = await nearestPassages(db.prisma, method, { organizationId: DEFAULT_ORG_ID, scope: { kind: 'archival', agentId }, embedding: query, limit: K });
    times.push(Number(process.hrtime.bigint() - start) / 1e6);
    const truth = new Set(exactTopK(query, count));
    recall += hits.filter((hit) => truth.has(hit.id)).length / K;
  }
  times.sort((a, b) => a - b);
  const row = { label, passages: count, p50: percentile(times, 50), p99: percentile(times, 99), recall: recall / queries.length };
  console.log(`${label.padEnd(18)} ${String(count).padStart(7)} passages   p50 ${row.p50.toFixed(1).padStart(8)} ms   p99 ${row.p99.toFixed(1).padStart(8)} ms   recall@10 ${row.recall.toFixed(3)}`);
  return row;
}

async function prepare(db: Database) {
  await db.prisma.organization.upsert({ where: { id: DEFAULT_ORG_ID }, create: { id: DEFAULT_ORG_ID, name: 'default' }, update: {} });
  const agentId = newId('Agent');
  await db.prisma.agent.create({ data: { id: agentId, organizationId: DEFAULT_ORG_ID, name: 'bench' } });
  return agentId;
}

async function growth(label: string, db: Database, method: VectorMethod, agentId: string, seeded: { count: number }) {
  const rows = [];
  for (const count of [Math.floor(PASSAGES / 10), Math.floor(PASSAGES / 3), PASSAGES]) {
    if (count > seeded.count) {
      await seedDatabase(db, agentId, seeded.count, count);
      seeded.count = count;
    }
    rows.push(await measure(label, db, method, agentId, count));
  }
  return rows;
}

async function main() {
  console.log(`archival search: ${PASSAGES} passages x ${DIM} dims, ${QUERIES} queries, top ${K}\n`);
  const pglite = await openDatabase({ DATA_DIR: 'memory://', DATABASE_URL: undefined }, logger);
  try {
    const agentId = await prepare(pglite);
    const seeded = { count: 0 };
    await growth('pglite/pgvector', pglite, 'pgvector', agentId, seeded);
    await measure('pglite/exact', pglite, 'exact', agentId, PASSAGES);
    if (HNSW) {
      const started = Date.now();
      await pglite.prisma.$executeRawUnsafe(`CREATE INDEX passage_hnsw_bench ON "Passage" USING hnsw ((embedding::vector(${DIM})) vector_cosine_ops)`);
      console.log(`(hnsw index built in ${((Date.now() - started) / 1000).toFixed(1)} s)`);
      await measure('pglite/hnsw', pglite, 'pgvector', agentId, PASSAGES);
    }
  } finally {
    await pglite.close();
  }
  if (process.env.DATABASE_URL) {
    const schema = `bench_${randomUUID().slice(0, 8)}`;
    const url = new URL(process.env.DATABASE_URL);
    url.searchParams.set('schema', schema);
    const postgres = await openDatabase({ DATA_DIR: './unused', DATABASE_URL: url.toString() }, logger);
    try {
      const agentId = await prepare(postgres);
      await growth('postgres/exact', postgres, 'exact', agentId, { count: 0 });
    } finally {
      await postgres.close();
      url.searchParams.delete('schema');
      const client = new pg.Client({ connectionString: url.toString() });
      await client.connect();
      await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
      await client.end();
    }
  }
}

await main();
