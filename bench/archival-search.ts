/**
 * Archival search benchmark: one agent with BENCH_PASSAGES passages of 384 dimensions; query
 * latency (p50/p99) of `nearestPassages` and recall@10 against an exact top-10 computed here
 * (JavaScript, double precision), on every path the server has:
 *   - pglite/scan      PGlite + pgvector `<=>` without an index (an exact scan: what the fallback runs)
 *   - pglite/hnsw      PGlite + pgvector with the HNSW index the server creates (src/db/vector-index.ts),
 *                      at ef_search 40 / 100 / 200 / 400 (the server's), and with tag filters
 *   - postgres/exact   the machine's PostgreSQL 15 (no pgvector), exact cosine in SQL (needs DATABASE_URL)
 * The exact paths are measured at a tenth, a third and all of the passages, to show how they
 * grow. Also: the index build over the passages and the cost of inserting one passage with and
 * without the index.
 *
 *   DATABASE_URL=postgresql://postgres@127.0.0.1:5432/test npx tsx bench/archival-search.ts
 *
 * Environment: BENCH_PASSAGES (default 100000), BENCH_QUERIES (default 50; the exact paths run
 * BENCH_EXACT_QUERIES, default 10, as they take seconds each), BENCH_NOISE (default 0.8).
 * Vectors are random points around 200 random centres (so neighbours are meaningful), normalised;
 * BENCH_NOISE is the spread around a centre relative to the centres' spread (2 makes clusters
 * overlap and HNSW's job harder).
 * Every passage has one of ten tags t0..t9; one in a thousand also has the tag `rare`.
 */
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { HNSW_EF_SEARCH, openDatabase, type Database } from '../src/db/client.js';
import { nearestPassages, type VectorMethod, type VectorQuery } from '../src/db/vector-search.js';
import { normalize } from '../src/agent/embeddings/types.js';
import { createLogger } from '../src/logger.js';
import { DEFAULT_ORG_ID, newId } from '../src/ids.js';
import { nowMs } from './lib/clock.js';
import { numberFromEnv } from './lib/env.js';
import { stats } from './lib/stats.js';

const PASSAGES = numberFromEnv('BENCH_PASSAGES', 100_000, { min: 10 });
const QUERIES = numberFromEnv('BENCH_QUERIES', 50, { min: 1 });
const EXACT_QUERIES = Math.min(QUERIES, numberFromEnv('BENCH_EXACT_QUERIES', 10, { min: 1 }));
const NOISE = numberFromEnv('BENCH_NOISE', 0.8, { integer: false });
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
  return normalize(centre.map((value) => value + gaussian() * NOISE));
};

const vectors = Array.from({ length: PASSAGES }, point);
const queries = Array.from({ length: QUERIES }, point);
const ids = vectors.map(() => newId('Passage'));
const tagsOf = (i: number) => (i % 1000 === 0 ? [`t${i % 10}`, 'rare'] : [`t${i % 10}`]);
const logger = createLogger({ LOG_LEVEL: 'silent' });

type Filter = { label: string; tags?: VectorQuery['tags'] };
const NO_FILTER: Filter = { label: '' };

function exactTopK(query: number[], count: number, filter: Filter): string[] {
  const scored: Array<{ id: string; dot: number }> = [];
  for (let i = 0; i < count; i++) {
    const tags = tagsOf(i);
    if (filter.tags && !filter.tags.values.some((tag) => tags.includes(tag))) continue;
    const vector = vectors[i]!;
    let dot = 0;
    for (let d = 0; d < DIM; d++) dot += vector[d]! * query[d]!;
    scored.push({ id: ids[i]!, dot });
  }
  scored.sort((a, b) => b.dot - a.dot || (a.id < b.id ? -1 : 1));
  return scored.slice(0, K).map((entry) => entry.id);
}

/** Multi-row INSERTs of array literals: far quicker than createMany for 100,000 rows. */
async function seedDatabase(db: Database, agentId: string, from: number, to: number) {
  const session = await db.session();
  try {
    for (let start = from; start < to; start += 500) {
      const end = Math.min(to, start + 500);
      const rows = [];
      for (let i = start; i < end; i++) {
        const created = new Date(Date.UTC(2024, 0, 1) + i * 1000).toISOString();
        rows.push(`('${ids[i]}', '${DEFAULT_ORG_ID}', '${agentId}', 'passage ${i}', '{${tagsOf(i).join(',')}}', '{${vectors[i]!.join(',')}}', ${DIM}, '${created}', now())`);
      }
      await session.exec(`INSERT INTO "Passage" (id, "organizationId", "agentId", text, tags, embedding, "embeddingDim", "createdAt", "updatedAt") VALUES ${rows.join(',')}`);
    }
    // As the server's periodic ANALYZE (PGlite) or autovacuum (PostgreSQL) would have by then.
    await session.exec('ANALYZE "Passage"');
  } finally {
    await session.release();
  }
}

const ms = (value: number) => `${value.toFixed(1).padStart(8)} ms`;

async function measure(label: string, db: Database, method: VectorMethod, agentId: string, count: number, options: { queries?: number; filter?: Filter } = {}) {
  const filter = options.filter ?? NO_FILTER;
  const used = queries.slice(0, options.queries ?? QUERIES);
  const search = (embedding: number[]) =>
    nearestPassages(db.prisma, method, { organizationId: DEFAULT_ORG_ID, scope: { kind: 'archival', agentId }, embedding, limit: K, tags: filter.tags });
  await search(used[0]!);
  const times: number[] = [];
  let recall = 0;
  let short = 0;
  for (const query of used) {
    const start = nowMs();
    const hits = await search(query);
    times.push(nowMs() - start);
    const truth = exactTopK(query, count, filter);
    if (hits.length < truth.length) short += 1;
    const wanted = new Set(truth);
    recall += hits.filter((hit) => wanted.has(hit.id)).length / truth.length;
  }
  const { p50, p99 } = stats(times);
  const name = `${label}${filter.label ? ` ${filter.label}` : ''}`;
  console.log(
    `${name.padEnd(30)} ${String(count).padStart(7)} passages   p50 ${ms(p50)}   p99 ${ms(p99)}   recall@10 ${(recall / used.length).toFixed(3)}${short ? `   ${short} short results` : ''}`,
  );
}

async function prepare(db: Database) {
  await db.prisma.organization.upsert({ where: { id: DEFAULT_ORG_ID }, create: { id: DEFAULT_ORG_ID, name: 'default' }, update: {} });
  const agentId = newId('Agent');
  await db.prisma.agent.create({ data: { id: agentId, organizationId: DEFAULT_ORG_ID, name: 'bench' } });
  return agentId;
}

/** The exact path at a tenth, a third and all of the passages; leaves all of them seeded. */
async function growth(label: string, db: Database, method: VectorMethod, agentId: string) {
  let seeded = 0;
  for (const count of [Math.floor(PASSAGES / 10), Math.floor(PASSAGES / 3), PASSAGES]) {
    await seedDatabase(db, agentId, seeded, count);
    seeded = count;
    await measure(label, db, method, agentId, count, { queries: EXACT_QUERIES });
  }
}

/** One passage per statement, as createPassage and the archival_memory_insert tool write them. */
async function insertCost(label: string, db: Database, agentId: string) {
  const times: number[] = [];
  for (let i = 0; i < 100; i++) {
    const start = nowMs();
    await db.prisma.passage.create({ data: { id: newId('Passage'), organizationId: DEFAULT_ORG_ID, agentId, text: 'extra', embedding: point(), embeddingDim: DIM } });
    times.push(nowMs() - start);
  }
  const { p50, p99 } = stats(times);
  console.log(`${`insert one passage, ${label}`.padEnd(46)}   p50 ${ms(p50)}   p99 ${ms(p99)}`);
  // Gone again, so that the recall figures compare like with like.
  await db.prisma.passage.deleteMany({ where: { agentId, text: 'extra' } });
}

async function main() {
  console.log(`archival search: ${PASSAGES} passages x ${DIM} dims (noise ${NOISE}), ${QUERIES} queries (${EXACT_QUERIES} on exact paths), top ${K}\n`);
  const pglite = await openDatabase({ DATA_DIR: 'memory://', DATABASE_URL: undefined }, logger);
  try {
    const agentId = await prepare(pglite);
    await growth('pglite/scan', pglite, 'pgvector', agentId);
    await insertCost('no index', pglite, agentId);
    const started = nowMs();
    await pglite.ensurePassageIndex(DIM);
    console.log(`(the server's HNSW index over ${PASSAGES} passages built in ${((nowMs() - started) / 1000).toFixed(1)} s)`);
    const session = await pglite.session();
    for (const ef of [...[40, 100, 200, 400].filter((ef) => ef !== HNSW_EF_SEARCH), HNSW_EF_SEARCH]) {
      // PGlite has one session, so this applies to the searches below; the server's value comes last and stays.
      await session.exec(`SET hnsw.ef_search = ${ef}`);
      await measure(`pglite/hnsw ef_search ${ef}`, pglite, 'pgvector', agentId, PASSAGES);
    }
    await session.release();
    await measure('pglite/hnsw', pglite, 'pgvector', agentId, PASSAGES, { filter: { label: 'tag t3 (10%)', tags: { values: ['t3'], mode: 'any' } } });
    await measure('pglite/hnsw', pglite, 'pgvector', agentId, PASSAGES, { filter: { label: 'tag rare (0.1%)', tags: { values: ['rare'], mode: 'any' } } });
    await insertCost('HNSW index', pglite, agentId);
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
      await growth('postgres/exact', postgres, 'exact', agentId);
      await measure('postgres/exact', postgres, 'exact', agentId, PASSAGES, { queries: EXACT_QUERIES, filter: { label: 'tag rare (0.1%)', tags: { values: ['rare'], mode: 'any' } } });
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
