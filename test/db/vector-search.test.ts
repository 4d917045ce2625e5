import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase, type Database } from '../../src/db/client.js';
import { nearestPassages } from '../../src/db/vector-search.js';
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
