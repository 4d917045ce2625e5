import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Prisma } from '../../src/generated/prisma/client.js';
import { HNSW_EF_SEARCH, openDatabase, type Database } from '../../src/db/client.js';
import { nearestPassages, searchStatement, type VectorQuery } from '../../src/db/vector-search.js';
import { passageIndexName } from '../../src/db/vector-index.js';
import { analyzeChangedTables } from '../../src/db/pglite-analyze.js';
import { normalize } from '../../src/agent/embeddings/types.js';
import { embedLocally } from '../../src/agent/embeddings/local.js';
import { createLogger } from '../../src/logger.js';
import { DEFAULT_ORG_ID, newId } from '../../src/ids.js';

/**
 * pgvector (PGlite) and the exact SQL used on PostgreSQL without it must rank alike. PGlite has
 * both, so the comparison runs here in either test mode.
 */
const WORDS = 'apple river mountain cloud engine paper garden silver window rocket violin castle forest ocean pepper tiger marble lantern desert honey'.split(' ');

function sentence(seed: number): string {
  const words: string[] = [];
  let state = seed * 2654435761;
  for (let i = 0; i < 6; i++) {
    state = (state * 1103515245 + 12345) % 2147483648;
    words.push(WORDS[state % WORDS.length]!);
  }
  return words.join(' ');
}

describe('vector search', () => {
  let db: Database;
  const agentId = newId('Agent');
  const otherAgentId = newId('Agent');
  beforeAll(async () => {
    db = await openDatabase({ DATA_DIR: 'memory://', DATABASE_URL: undefined }, createLogger({ LOG_LEVEL: 'silent' }));
    await db.prisma.organization.upsert({ where: { id: DEFAULT_ORG_ID }, create: { id: DEFAULT_ORG_ID, name: 'default' }, update: {} });
    for (const id of [agentId, otherAgentId]) await db.prisma.agent.create({ data: { id, organizationId: DEFAULT_ORG_ID, name: id } });
    const rows = Array.from({ length: 400 }, (_, i) => {
      const text = `${sentence(i)} ${i}`;
      const embedding = embedLocally(text, 64);
      return {
        id: newId('Passage'),
        organizationId: DEFAULT_ORG_ID,
        agentId: i % 10 === 0 ? otherAgentId : agentId,
        text,
        tags: i % 3 === 0 ? ['three'] : i % 5 === 0 ? ['five'] : [],
        embedding,
        embeddingDim: 64,
        createdAt: new Date(Date.UTC(2024, 0, 1) + i * 3_600_000),
      };
    });
    await db.prisma.passage.createMany({ data: rows });
  }, 60_000);
  afterAll(async () => db?.close());

  it('pgvector and exact cosine return the same top-k with the same scores', async () => {
    for (let q = 0; q < 8; q++) {
      const embedding = embedLocally(sentence(1000 + q), 64);
      const base = { organizationId: DEFAULT_ORG_ID, scope: { kind: 'archival' as const, agentId }, embedding, limit: 10 };
      const viaVector = await nearestPassages(db.prisma, 'pgvector', base);
      const exact = await nearestPassages(db.prisma, 'exact', base);
      expect(viaVector).toHaveLength(10);
      expect(viaVector.map((hit) => hit.id)).toEqual(exact.map((hit) => hit.id));
      viaVector.forEach((hit, i) => expect(hit.score).toBeCloseTo(exact[i]!.score, 5));
      expect(viaVector.every((hit, i) => i === 0 || viaVector[i - 1]!.score >= hit.score)).toBe(true);
    }
  });

  it('applies scope, tag and date filters before the limit', async () => {
    const embedding = embedLocally(sentence(7), 64);
    for (const method of ['pgvector', 'exact'] as const) {
      const tagged = await nearestPassages(db.prisma, method, {
        organizationId: DEFAULT_ORG_ID,
        scope: { kind: 'archival', agentId },
        embedding,
        limit: 20,
        tags: { values: ['five'], mode: 'any' },
        createdFrom: new Date(Date.UTC(2024, 0, 3)),
      });
      expect(tagged).toHaveLength(20);
      expect(tagged.every((hit) => hit.tags.includes('five') && hit.createdAt >= new Date(Date.UTC(2024, 0, 3)))).toBe(true);
      const other = await nearestPassages(db.prisma, method, { organizationId: DEFAULT_ORG_ID, scope: { kind: 'archival', agentId: otherAgentId }, embedding, limit: 100 });
      expect(other).toHaveLength(40);
      const wrongDim = await nearestPassages(db.prisma, method, { organizationId: DEFAULT_ORG_ID, scope: { kind: 'archival', agentId }, embedding: embedding.slice(0, 32), limit: 5 });
      expect(wrongDim).toEqual([]);
    }
  });
});

/**
 * The HNSW index the server creates (PGlite). Enough passages that the planner prefers the index
 * (at ef_search 400 it still scans 6,000 rows): clustered points, so that nearest neighbours exist.
 */
describe('vector search with the HNSW index', () => {
  const DIM = 32;
  const COUNT = 20000;
  let db: Database;
  const agentId = newId('Agent');
  let state = 7;
  const random = () => {
    state = (state * 1103515245 + 12345) % 2147483648;
    return state / 2147483648;
  };
  const gaussian = () => Math.sqrt(-2 * Math.log(random() + 1e-12)) * Math.cos(2 * Math.PI * random());
  const centres = Array.from({ length: 50 }, () => Array.from({ length: DIM }, gaussian));
  const point = () => normalize(centres[Math.floor(random() * centres.length)]!.map((value) => value + gaussian() * 0.6));
  const query = (embedding: number[], limit: number, extra: Partial<VectorQuery> = {}): VectorQuery => ({
    organizationId: DEFAULT_ORG_ID,
    scope: { kind: 'archival', agentId },
    embedding,
    limit,
    ...extra,
  });
  const plan = async (q: VectorQuery) =>
    (await db.prisma.$queryRaw<Array<{ 'QUERY PLAN': string }>>(Prisma.sql`EXPLAIN ${searchStatement('pgvector', q)}`)).map((row) => row['QUERY PLAN']).join('\n');

  beforeAll(async () => {
    db = await openDatabase({ DATA_DIR: 'memory://', DATABASE_URL: undefined }, createLogger({ LOG_LEVEL: 'silent' }));
    await db.prisma.organization.upsert({ where: { id: DEFAULT_ORG_ID }, create: { id: DEFAULT_ORG_ID, name: 'default' }, update: {} });
    await db.prisma.agent.create({ data: { id: agentId, organizationId: DEFAULT_ORG_ID, name: 'hnsw' } });
    const session = await db.session();
    for (let start = 0; start < COUNT; start += 500) {
      const rows = Array.from({ length: 500 }, (_, j) => {
        const i = start + j;
        const tags = [i % 2 === 0 ? 'even' : 'odd', ...(i % 1000 === 0 ? ['rare'] : [])];
        return `('${newId('Passage')}', '${DEFAULT_ORG_ID}', '${agentId}', 'p${i}', '{${tags.join(',')}}', '{${point().join(',')}}', ${DIM}, now())`;
      });
      await session.exec(`INSERT INTO "Passage" (id, "organizationId", "agentId", text, tags, embedding, "embeddingDim", "updatedAt") VALUES ${rows.join(',')}`);
    }
    await db.ensurePassageIndex(DIM);
    await db.ensurePassageIndex(DIM);
    await session.release();
  }, 120_000);
  afterAll(async () => db?.close());

  it('is created once per dimension and used for searches of that dimension', async () => {
    const indexes = await db.prisma.$queryRaw<Array<{ indexname: string; indexdef: string }>>`SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'Passage' AND indexdef LIKE '%hnsw%'`;
    expect(indexes.map((index) => index.indexname)).toEqual([passageIndexName(DIM)]);
    expect(indexes[0]!.indexdef).toContain(`WHERE ("embeddingDim" = ${DIM})`);
    expect(await plan(query(point(), 10))).toContain(`Index Scan using "${passageIndexName(DIM)}"`);
    // Other dimensions are not served by it.
    expect(await plan(query(point().slice(0, 16), 10))).not.toContain('hnsw');
  });

  it('returns the full topK with a filter that removes half the candidates, close to the exact answer', async () => {
    let found = 0;
    let wanted = 0;
    for (let q = 0; q < 10; q++) {
      const embedding = point();
      // 250 rows where half the ef_search (400) candidates pass: the scan must go on past them.
      const filtered = query(embedding, 250, { tags: { values: ['even'], mode: 'any' } });
      expect(await plan(filtered)).toContain('Index Scan using');
      const hits = await nearestPassages(db.prisma, 'pgvector', filtered);
      expect(hits).toHaveLength(250);
      expect(hits.every((hit) => hit.tags.includes('even'))).toBe(true);
      expect(hits.every((hit, i) => i === 0 || hits[i - 1]!.score >= hit.score)).toBe(true);
      const exact = new Set((await nearestPassages(db.prisma, 'exact', filtered)).map((hit) => hit.id));
      found += hits.filter((hit) => exact.has(hit.id)).length;
      wanted += exact.size;
    }
    expect(found / wanted).toBeGreaterThanOrEqual(0.95);
  });

  it('falls back to an exact scan when the index scan gives up before topK', async () => {
    const session = await db.session();
    try {
      // PGlite's one session: index scans stop after their first candidates (about ef_search),
      // far short of the limit, as an iterative scan does at hnsw.max_scan_tuples.
      await session.exec('SET hnsw.iterative_scan = off; SET hnsw.ef_search = 40');
      const embedding = point();
      const hits = await nearestPassages(db.prisma, 'pgvector', query(embedding, 500));
      const exact = await nearestPassages(db.prisma, 'exact', query(embedding, 500));
      expect(hits.map((hit) => hit.id)).toEqual(exact.map((hit) => hit.id));
    } finally {
      await session.exec(`SET hnsw.iterative_scan = strict_order; SET hnsw.ef_search = ${HNSW_EF_SEARCH}`);
      await session.release();
    }
  });

  it('keeps statistics current without autovacuum', async () => {
    const session = await db.session();
    try {
      await session.exec(`INSERT INTO "Agent" (id, "organizationId", name, "updatedAt") SELECT 'agent-stats-' || g, '${DEFAULT_ORG_ID}', 'n' || g, now() FROM generate_series(1, 60) g`);
      await expect.poll(async () => analyzeChangedTables(session, createLogger({ LOG_LEVEL: 'silent' })), { timeout: 10_000 }).toContain('Agent');
    } finally {
      await session.release();
    }
  });
});
