import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { graphql } from '../src/generated/gql/index.js';
import { embedLocally } from '../src/agent/embeddings/local.js';
import { passageIndexName } from '../src/db/vector-index.js';
import { SERVICES_MODE, closeAll, dropSchemaOf, freshDatabaseEnv, startTestServer, type TestServer } from './helpers/server.js';

const NewSearchAgent = graphql(`
  mutation NewSearchAgent($input: CreateAgentInput!) { createAgent(input: $input) { agent { id } } }
`);
const RankArchival = graphql(`
  query RankArchival($id: ID!, $query: String!, $tags: [String!], $mode: TagMatchMode, $topK: Int, $start: DateTime, $end: DateTime) {
    agent(id: $id) {
      archivalSearch(query: $query, tags: $tags, tagMatchMode: $mode, topK: $topK, startDatetime: $start, endDatetime: $end) { id tags timestamp score }
    }
  }
`);

/**
 * Archival search through the API against the exact ranking computed here with the same local
 * embedder, before and after a restart (which must find the HNSW index in place on PGlite). With
 * a few hundred passages PGlite's planner scans rather than use the index, so every search here is
 * exact in both modes; test/db/vector-search.test.ts covers searches through the index.
 */
const COUNT = 300;
const DIM = 384;
const WORDS = 'apple river mountain cloud engine paper garden silver window rocket violin castle forest ocean pepper tiger marble lantern desert honey'.split(' ');
const textOf = (i: number) => {
  let state = i * 2654435761 + 1;
  const words = [];
  for (let w = 0; w < 5; w++) {
    state = (state * 1103515245 + 12345) % 2147483648;
    words.push(WORDS[state % WORDS.length]!);
  }
  return `${words.join(' ')} ${i}`;
};
const tagsOf = (i: number) => [i % 2 === 0 ? 'even' : 'odd', ...(i % 3 === 0 ? ['three'] : []), ...(i % 100 === 0 ? ['rare'] : [])];
const createdOf = (i: number) => new Date(Date.UTC(2024, 0, 1) + i * 3_600_000);

interface Filter {
  tags?: string[];
  mode?: 'ANY' | 'ALL';
  start?: string;
  end?: string;
}

describe('archival search over hundreds of passages', () => {
  let t: TestServer | undefined;
  let env: Record<string, string>;
  let dataDir: string | undefined;
  let agentId: string;
  const ids: string[] = [];
  const vectors = Array.from({ length: COUNT }, (_, i) => embedLocally(textOf(i), DIM));

  const exact = (query: string, topK: number, filter: Filter) => {
    const q = embedLocally(query, DIM);
    const from = filter.start ? new Date(filter.start) : undefined;
    const to = filter.end ? new Date(filter.end) : undefined;
    const matches = (i: number) =>
      (!filter.tags || (filter.mode === 'ALL' ? filter.tags.every((tag) => tagsOf(i).includes(tag)) : filter.tags.some((tag) => tagsOf(i).includes(tag)))) &&
      (!from || createdOf(i) >= from) &&
      (!to || createdOf(i) <= to);
    return vectors
      .map((vector, i) => ({ i, score: vector.reduce((sum, value, d) => sum + value * q[d]!, 0) }))
      .filter(({ i }) => matches(i))
      .sort((a, b) => b.score - a.score || (ids[a.i]! < ids[b.i]! ? -1 : 1))
      .slice(0, topK);
  };
  /** The hits have the exact top-k's scores, in order (which of two equally near passages comes first may differ). */
  const expectExact = (hits: Array<{ id: string; tags: string[]; score: number }>, query: string, topK: number, filter: Filter) => {
    const expected = exact(query, topK, filter);
    expect(hits).toHaveLength(expected.length);
    hits.forEach((hit, i) => expect(hit.score, `${query} ${JSON.stringify(filter)} #${i}`).toBeCloseTo(expected[i]!.score, 5));
    const scoreOf = new Map(expected.map(({ i, score }) => [ids[i]!, score]));
    // Every hit is one of the exact top-k, unless it ties with the last of them.
    hits.forEach((hit) => expect(scoreOf.has(hit.id) || Math.abs(hit.score - expected.at(-1)!.score) < 1e-5).toBe(true));
    if (filter.tags) {
      const wanted = filter.tags;
      expect(hits.every((hit) => (filter.mode === 'ALL' ? wanted.every((tag) => hit.tags.includes(tag)) : wanted.some((tag) => hit.tags.includes(tag))))).toBe(true);
    }
  };
  const search = async (server: TestServer, query: string, topK: number, filter: Filter = {}) =>
    (await server.ok(RankArchival, { id: agentId, query, topK, ...filter })).agent!.archivalSearch;

  const CASES: Array<[query: string, topK: number, filter: Filter]> = [
    ['river garden window', 10, {}],
    ['tiger honey desert', 25, { tags: ['three'] }],
    ['silver rocket', 15, { tags: ['odd', 'three'], mode: 'ALL' }],
    ['castle forest ocean', 20, { start: '2024-01-03T00:00:00Z', end: '2024-01-08T06:30:00Z' }],
    // Fewer matches (3) than topK: all of them.
    ['paper lantern', 10, { tags: ['rare'] }],
  ];

  beforeAll(async () => {
    if (SERVICES_MODE) env = freshDatabaseEnv();
    else {
      dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'agentgraph-archival-'));
      env = { DATA_DIR: dataDir };
    }
    t = await startTestServer({ ...env, MAX_QUERY_ALIASES: '100' }, { dropOnClose: false });
    agentId = (await t.ok(NewSearchAgent, { input: { name: 'archive' } })).createAgent.agent.id;
    for (let start = 0; start < COUNT; start += 100) {
      const fields = [];
      for (let i = start; i < Math.min(COUNT, start + 100); i++) {
        fields.push(`p${i}: createPassage(input: { agentId: "${agentId}", text: "${textOf(i)}", tags: ${JSON.stringify(tagsOf(i))}, createdAt: "${createdOf(i).toISOString()}" }) { passage { id } }`);
      }
      const result = await t.request<Record<string, { passage: { id: string } }>, never>(`mutation { ${fields.join('\n')} }`);
      expect(result.errors).toBeUndefined();
      for (let i = start; i < Math.min(COUNT, start + 100); i++) ids[i] = result.data![`p${i}`]!.passage.id;
    }
  }, 300_000);
  afterAll(async () => {
    await closeAll(t);
    if (env?.DATABASE_URL) await dropSchemaOf(env.DATABASE_URL);
    if (dataDir) fs.rmSync(dataDir, { recursive: true, force: true });
  });

  it('returns the exact top-k, filters applied inside the query', async () => {
    for (const [query, topK, filter] of CASES) expectExact(await search(t!, query, topK, filter), query, topK, filter);
  });

  it('after a restart: the index exists once and searches give the same results', async () => {
    const before = await Promise.all(CASES.map(([query, topK, filter]) => search(t!, query, topK, filter)));
    await t!.close();
    t = undefined;
    t = await startTestServer({ ...env, MAX_QUERY_ALIASES: '100' }, { dropOnClose: false });
    const indexes = await t.app.db.prisma.$queryRaw<Array<{ indexname: string }>>`SELECT indexname FROM pg_indexes WHERE schemaname = current_schema() AND indexdef LIKE '%hnsw%'`;
    expect(indexes.map((index) => index.indexname)).toEqual(SERVICES_MODE ? [] : [passageIndexName(DIM)]);
    const after = await Promise.all(CASES.map(([query, topK, filter]) => search(t!, query, topK, filter)));
    expect(after).toEqual(before);
  });
});
