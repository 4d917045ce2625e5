/**
 * Nested-list benchmark: the GraphQL server against a hand-written SQL baseline.
 *
 *   npx tsx bench/nested-query.ts
 *
 * Starts the real server (services mode: PostgreSQL, a fresh `bench_<random>` schema, auth
 * disabled) on an ephemeral port, seeds 50 agents × 5 memory blocks × 8 tools through the
 * GraphQL API, then measures over keep-alive HTTP, with a fixed number of requests in flight,
 *
 *   query { agents(first: 50) { edges { node { id blocks { label value } tools { name } } } } }
 *
 * against two tiny node:http servers that answer the same JSON from hand-written SQL (pg.Pool on
 * the same schema):
 *   - "SQL json_agg": one statement; PostgreSQL builds the whole response document, Node only
 *     writes the text;
 *   - "SQL 3 queries": agents page, then blocks and tools of those agents (`= ANY($1)`, the two
 *     run in parallel), assembled and JSON.stringify'd in Node (what a hand-written REST
 *     endpoint typically does).
 * The two are about equally fast (PostgreSQL-bound vs. Node-bound); the ratio is taken against
 * whichever was faster in the run.
 * Before timing, every baseline's response must deep-equal the GraphQL one (same agents, same
 * order, same block/tool order); otherwise the run aborts with exit code 1.
 *
 * The load generator is autocannon in a worker thread (bench/lib/load.ts: its own event loop), so
 * it does not queue behind the servers' JavaScript; it still shares the machine's cores with them
 * and with PostgreSQL. Every response must be byte-identical to the verified one.
 *
 * Environment:
 *   BENCH_SECONDS         timed window per target (default 10)
 *   BENCH_ROUNDS          the timed window is cut into this many slices, measured interleaved with
 *                         the other targets' (default 5)
 *   BENCH_WARMUP_SECONDS  warm-up per target (default 2)
 *   BENCH_CONCURRENCY     requests in flight (default 8)
 *   BENCH_DATABASE_URL    PostgreSQL server (default DATABASE_URL without its schema, else
 *                         postgresql://postgres@127.0.0.1:5432/test)
 *
 * Exit code 0 whatever the ratio (a measurement, not a test); non-zero when responses differ,
 * a request fails, or anything else goes wrong. The schema is dropped at the end.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { isDeepStrictEqual } from 'node:util';
import pg from 'pg';
import { DEFAULT_ORG_ID } from '../src/ids.js';
import { cleanupStep, runMain, runPendingCleanups } from './lib/cleanup.js';
import { sleep } from './lib/clock.js';
import { numberFromEnv } from './lib/env.js';
import { fetchText, graphql } from './lib/graphql.js';
import { LoadGenerator } from './lib/load.js';
import { closeServer, freshSchemaUrl, machine, openServer, type BenchServer } from './lib/server.js';
import { Distribution } from './lib/stats.js';
import { fixed, printTable } from './lib/table.js';

const AGENTS = 50;
const BLOCKS_PER_AGENT = 5;
const TOOLS_PER_AGENT = 8;
const TARGET_PERCENT = 25;

const QUERY = 'query { agents(first: 50) { edges { node { id blocks { label value } tools { name } } } } }';

const SECONDS = numberFromEnv('BENCH_SECONDS', 10, { min: 0.1, integer: false });
const WARMUP_SECONDS = numberFromEnv('BENCH_WARMUP_SECONDS', 2, { integer: false });
const CONCURRENCY = numberFromEnv('BENCH_CONCURRENCY', 8, { min: 1 });
const ROUNDS = numberFromEnv('BENCH_ROUNDS', 5, { min: 1 });

// ---- seeding through the GraphQL API ----

async function seed(url: string): Promise<void> {
  const listed = await graphql<{ tools: { edges: Array<{ node: { id: string; name: string } }> } }>(
    url,
    'query { tools(first: 100) { edges { node { id name } } } }',
  );
  const toolIds = listed.tools.edges.slice(0, TOOLS_PER_AGENT).map((edge) => edge.node.id);
  for (let i = toolIds.length; i < TOOLS_PER_AGENT; i++) {
    const created = await graphql<{ createTool: { tool: { id: string } } }>(
      url,
      'mutation ($input: CreateToolInput!) { createTool(input: $input) { tool { id } } }',
      { input: { name: `bench_tool_${i}`, description: `Benchmark tool ${i}`, parameters: { type: 'object', properties: {} } } },
    );
    toolIds.push(created.createTool.tool.id);
  }
  for (let i = 0; i < AGENTS; i++) {
    await graphql(url, 'mutation ($input: CreateAgentInput!) { createAgent(input: $input) { agent { id } } }', {
      input: {
        name: `bench agent ${i}`,
        includeBaseTools: false,
        toolIds,
        memoryBlocks: Array.from({ length: BLOCKS_PER_AGENT }, (_, j) => ({
          label: `block_${j}`,
          value: `value ${i}.${j}: ${'lorem ipsum '.repeat(4)}`,
        })),
      },
    });
  }
}

// ---- hand-written baselines ----

interface Baseline {
  readonly name: string;
  readonly url: string;
  statementCount(): number;
  close(): Promise<void>;
}

/** One statement: PostgreSQL builds the response document; Node sends the text as is. */
const JSON_AGG_SQL = `
SELECT json_build_object('data', json_build_object('agents', json_build_object('edges',
         coalesce(json_agg(json_build_object('node', json_build_object(
           'id', a.id,
           'blocks', coalesce(b.items, '[]'::json),
           'tools', coalesce(t.items, '[]'::json))) ORDER BY a."createdAt" DESC, a.id DESC), '[]'::json))))::text AS body
  FROM (SELECT id, "createdAt" FROM "Agent" WHERE "organizationId" = $1
         ORDER BY "createdAt" DESC, id DESC LIMIT $2) a
  LEFT JOIN LATERAL (
    SELECT json_agg(json_build_object('label', blk.label, 'value', blk.value) ORDER BY ba."createdAt", ba."blockLabel") AS items
      FROM "BlockAgent" ba JOIN "Block" blk ON blk.id = ba."blockId"
     WHERE ba."agentId" = a.id) b ON true
  LEFT JOIN LATERAL (
    SELECT json_agg(json_build_object('name', tl.name) ORDER BY ta."createdAt", ta."toolId") AS items
      FROM "ToolAgent" ta JOIN "Tool" tl ON tl.id = ta."toolId"
     WHERE ta."agentId" = a.id) t ON true`;

const AGENTS_SQL = `SELECT id FROM "Agent" WHERE "organizationId" = $1 ORDER BY "createdAt" DESC, id DESC LIMIT $2`;
const BLOCKS_SQL = `
SELECT ba."agentId", b.label, b.value FROM "BlockAgent" ba JOIN "Block" b ON b.id = ba."blockId"
 WHERE ba."agentId" = ANY($1) ORDER BY ba."agentId", ba."createdAt", ba."blockLabel"`;
const TOOLS_SQL = `
SELECT ta."agentId", t.name FROM "ToolAgent" ta JOIN "Tool" t ON t.id = ta."toolId"
 WHERE ta."agentId" = ANY($1) ORDER BY ta."agentId", ta."createdAt", ta."toolId"`;

type Handler = (count: () => void) => Promise<string>;

function jsonAggHandler(pool: pg.Pool): Handler {
  return async (count) => {
    count();
    const { rows } = await pool.query<{ body: string }>({ name: 'bench_json_agg', text: JSON_AGG_SQL, values: [DEFAULT_ORG_ID, AGENTS] });
    return rows[0]!.body;
  };
}

function threeQueriesHandler(pool: pg.Pool): Handler {
  return async (count) => {
    count();
    const agents = await pool.query<{ id: string }>({ name: 'bench_agents', text: AGENTS_SQL, values: [DEFAULT_ORG_ID, AGENTS] });
    const ids = agents.rows.map((row) => row.id);
    const nodes = new Map(ids.map((id) => [id, { id, blocks: [] as Array<{ label: string; value: string }>, tools: [] as Array<{ name: string }> }]));
    count();
    count();
    const [blocks, tools] = await Promise.all([
      pool.query<{ agentId: string; label: string; value: string }>({ name: 'bench_blocks', text: BLOCKS_SQL, values: [ids] }),
      pool.query<{ agentId: string; name: string }>({ name: 'bench_tools', text: TOOLS_SQL, values: [ids] }),
    ]);
    for (const row of blocks.rows) nodes.get(row.agentId)!.blocks.push({ label: row.label, value: row.value });
    for (const row of tools.rows) nodes.get(row.agentId)!.tools.push({ name: row.name });
    return JSON.stringify({ data: { agents: { edges: [...nodes.values()].map((node) => ({ node })) } } });
  };
}

async function startBaseline(name: string, handler: Handler): Promise<Baseline> {
  let statements = 0;
  const count = () => void (statements += 1);
  const server = http.createServer((req, res) => {
    // Read (and ignore) the request body, as a real endpoint would.
    req.resume();
    req.on('end', () => {
      handler(count).then(
        (body) => {
          res.writeHead(200, { 'content-type': 'application/graphql-response+json; charset=utf-8', 'content-length': Buffer.byteLength(body) });
          res.end(body);
        },
        (error: unknown) => {
          console.error(`${name}: ${error instanceof Error ? error.message : String(error)}`);
          res.writeHead(500).end();
        },
      );
    });
  });
  server.keepAliveTimeout = 30_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    name,
    url: `http://127.0.0.1:${port}/`,
    statementCount: () => statements,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

// ---- measurement ----

interface Measurement {
  name: string;
  requests: number;
  rps: number;
  p50: number;
  p99: number;
  statementsPerRequest: number;
}

interface Target {
  name: string;
  url: string;
  /** The verified response: every response must be exactly this. */
  expectBody: string;
  statementCount(): number;
}

/**
 * Waits until a counter has stopped moving for 60 ms: autocannon drops the requests still in
 * flight when it stops, but the server finishes them, and their statements belong to this slice
 * (not to the next target's).
 */
async function settled(counter: () => number): Promise<void> {
  let last = counter();
  for (let quiet = 0; quiet < 3; ) {
    await sleep(20);
    const now = counter();
    quiet = now === last ? quiet + 1 : 0;
    last = now;
  }
}

/**
 * Warms every target up, then measures them in ROUNDS interleaved slices of SECONDS / ROUNDS
 * each (the starting target rotating per round), so that a slow drift of the machine's speed
 * (other work, CPU steal) is shared by all targets instead of landing on one of them.
 */
async function measureAll(load: LoadGenerator, targets: Target[], body: string): Promise<Measurement[]> {
  for (const target of targets) {
    if (WARMUP_SECONDS <= 0) break;
    const warm = await load.run({ url: target.url, body, seconds: WARMUP_SECONDS, connections: CONCURRENCY, expectBody: target.expectBody });
    if (warm.failures) throw new Error(`${target.name}: ${warm.failures} failed requests during warm-up (first: ${warm.firstFailure})`);
  }
  const totals = targets.map(() => ({ latencies: new Distribution(), inWindow: 0, windowMs: 0, sent: 0, statements: 0 }));
  for (let round = 0; round < ROUNDS; round++) {
    for (let k = 0; k < targets.length; k++) {
      const index = (round + k) % targets.length;
      const target = targets[index]!;
      const before = target.statementCount();
      const result = await load.run({ url: target.url, body, seconds: SECONDS / ROUNDS, connections: CONCURRENCY, expectBody: target.expectBody });
      const total = totals[index]!;
      await settled(target.statementCount);
      total.statements += target.statementCount() - before;
      if (result.failures) throw new Error(`${target.name}: ${result.failures} failed requests (first: ${result.firstFailure})`);
      total.latencies.recordAll(result.latencies);
      total.inWindow += result.inWindow;
      total.sent += result.sent;
      total.windowMs += result.windowMs;
    }
  }
  return targets.map((target, index) => {
    const total = totals[index]!;
    const requests = total.latencies.count;
    return {
      name: target.name,
      requests,
      // Completions inside the windows per second: the drain after each window is not counted.
      rps: total.inWindow / (total.windowMs / 1000),
      p50: total.latencies.percentile(50),
      p99: total.latencies.percentile(99),
      // Every request sent reached the server, also those autocannon dropped when it stopped.
      statementsPerRequest: total.statements / total.sent,
    };
  });
}

function printMeasurements(rows: Measurement[]) {
  printTable(
    ['target', 'requests', 'req/s', 'p50 ms', 'p99 ms', 'SQL stmts/req'],
    rows.map((row) => [row.name, String(row.requests), fixed(row.rps), fixed(row.p50, 2), fixed(row.p99, 2), fixed(row.statementsPerRequest, 2)]),
  );
}

/** The path of the first place where two JSON values differ (with both values), or null when deep-equal. */
function firstDifference(expected: unknown, actual: unknown, path = '$'): string | null {
  if (isDeepStrictEqual(expected, actual)) return null;
  if (Array.isArray(expected) && Array.isArray(actual)) {
    for (let i = 0; i < Math.max(expected.length, actual.length); i++) {
      const found = firstDifference(expected[i], actual[i], `${path}[${i}]`);
      if (found) return found;
    }
  } else if (expected && actual && typeof expected === 'object' && typeof actual === 'object' && !Array.isArray(expected) && !Array.isArray(actual)) {
    const keys = new Set([...Object.keys(expected), ...Object.keys(actual)]);
    for (const key of keys) {
      const found = firstDifference((expected as Record<string, unknown>)[key], (actual as Record<string, unknown>)[key], `${path}.${key}`);
      if (found) return found;
    }
  }
  return `${path}: GraphQL ${JSON.stringify(expected)?.slice(0, 200)}, baseline ${JSON.stringify(actual)?.slice(0, 200)}`;
}

// ---- main ----

async function main(): Promise<number> {
  const DATABASE_URL = freshSchemaUrl();
  const opened: Partial<BenchServer> = {};
  cleanupStep(() => closeServer(opened, DATABASE_URL));
  try {
    Object.assign(opened, await openServer({ DATABASE_URL }));
    const { app, server } = opened as BenchServer;
    const schema = new URL(DATABASE_URL).searchParams.get('schema')!;
    console.log(`GraphQL server ${server.url} (PostgreSQL schema ${schema})`);

    const seedStart = performance.now();
    await seed(server.url);
    console.log(`seeded ${AGENTS} agents × ${BLOCKS_PER_AGENT} blocks × ${TOOLS_PER_AGENT} tools in ${((performance.now() - seedStart) / 1000).toFixed(1)} s`);

    const connection = new URL(DATABASE_URL);
    connection.searchParams.delete('schema');
    // The same pool size and search_path as the server's own pool (src/db/client.ts).
    const pool = new pg.Pool({ connectionString: connection.toString(), max: 10, options: `-c search_path="${schema}"` });
    cleanupStep(() => pool.end());
    const baselines = [
      await startBaseline('SQL json_agg (1 stmt)', jsonAggHandler(pool)),
      await startBaseline('SQL 3 queries + JSON.stringify', threeQueriesHandler(pool)),
    ];
    for (const baseline of baselines) cleanupStep(() => baseline.close());

    // Verify once, before timing: the same document from every target.
    const body = JSON.stringify({ query: QUERY });
    const graphqlText = await fetchText(server.url, body);
    const graphqlJson = JSON.parse(graphqlText) as {
      data?: { agents: { edges: Array<{ node: { blocks: unknown[]; tools: unknown[] } }> } };
      errors?: unknown;
    };
    const edges = graphqlJson.data?.agents.edges ?? [];
    if (
      graphqlJson.errors ||
      edges.length !== AGENTS ||
      !edges.every((edge) => edge.node.blocks.length === BLOCKS_PER_AGENT && edge.node.tools.length === TOOLS_PER_AGENT)
    ) {
      throw new Error(`unexpected GraphQL response: ${graphqlText.slice(0, 500)}`);
    }
    const before = app.db.statementCount();
    await fetchText(server.url, body);
    const singleRequestStatements = app.db.statementCount() - before;
    const expectedBodies = new Map<string, string>();
    for (const baseline of baselines) {
      const text = await fetchText(baseline.url, body);
      const difference = firstDifference(graphqlJson, JSON.parse(text));
      if (difference) {
        throw new Error(`the ${baseline.name} response differs from the GraphQL response at ${difference}`);
      }
      expectedBodies.set(baseline.name, text);
    }
    console.log(
      `responses verified deep-equal (${AGENTS} agents; GraphQL ${Buffer.byteLength(graphqlText)} bytes, ${singleRequestStatements} SQL statements for one request)`,
    );
    console.log(
      `load: autocannon, ${CONCURRENCY} requests in flight over keep-alive HTTP, warm-up ${WARMUP_SECONDS} s, timed ${SECONDS} s per target in ${ROUNDS} interleaved rounds`,
    );
    console.log(`machine: ${machine()} (servers, load generator and PostgreSQL share these CPUs; other work skews the numbers)\n`);

    const load = new LoadGenerator();
    cleanupStep(() => load.close());
    const results = await measureAll(
      load,
      [
        { name: 'GraphQL (yoga + Pothos + Prisma)', url: server.url, expectBody: graphqlText, statementCount: () => app.db.statementCount() },
        ...baselines.map((baseline) => ({
          name: baseline.name,
          url: baseline.url,
          expectBody: expectedBodies.get(baseline.name)!,
          statementCount: () => baseline.statementCount(),
        })),
      ],
      body,
    );

    printMeasurements(results);
    const [graphqlResult, ...baselineResults] = results as [Measurement, ...Measurement[]];
    const fastest = baselineResults.reduce((best, row) => (row.rps > best.rps ? row : best));
    console.log('');
    for (const row of baselineResults) {
      console.log(`GraphQL / ${row.name}: ${((100 * graphqlResult.rps) / row.rps).toFixed(1)}% of its throughput`);
    }
    const ratio = (100 * graphqlResult.rps) / fastest.rps;
    console.log(
      `GraphQL / baseline (fastest: ${fastest.name}): ${ratio.toFixed(1)}%  (target ≥ ${TARGET_PERCENT}%: ${ratio >= TARGET_PERCENT ? 'met' : 'NOT met'})`,
    );
    return 0;
  } finally {
    await runPendingCleanups(); // latest first: load generator, baselines, pool, server and schema
  }
}

runMain(main);
