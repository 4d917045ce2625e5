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
 * The load generator runs in a worker thread (its own event loop), so it does not queue behind
 * the servers' JavaScript; it still shares the machine's cores with them and with PostgreSQL.
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
import os from 'node:os';
import type { AddressInfo } from 'node:net';
import { isDeepStrictEqual } from 'node:util';
import { Worker } from 'node:worker_threads';
import pg from 'pg';
import { closeAppContext, createAppContext, type AppContext } from '../src/app.js';
import { loadConfig } from '../src/config.js';
import { DEFAULT_ORG_ID } from '../src/ids.js';
import { createLogger } from '../src/logger.js';
import { startServer, type RunningServer } from '../src/server.js';
import { dropSchemaOf, uniqueName } from '../test/helpers/server.js';

const AGENTS = 50;
const BLOCKS_PER_AGENT = 5;
const TOOLS_PER_AGENT = 8;
const TARGET_PERCENT = 25;

const QUERY = 'query { agents(first: 50) { edges { node { id blocks { label value } tools { name } } } } }';

function numberFromEnv(name: string, fallback: number, min: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value < min) throw new Error(`${name} must be a number ≥ ${min}, got '${raw}'`);
  return value;
}

const SECONDS = numberFromEnv('BENCH_SECONDS', 10, 0.1);
const WARMUP_SECONDS = numberFromEnv('BENCH_WARMUP_SECONDS', 2, 0);
const CONCURRENCY = Math.floor(numberFromEnv('BENCH_CONCURRENCY', 8, 1));
const ROUNDS = Math.floor(numberFromEnv('BENCH_ROUNDS', 5, 1));

function databaseUrl(): string {
  const url = new URL(process.env.BENCH_DATABASE_URL || process.env.DATABASE_URL || 'postgresql://postgres@127.0.0.1:5432/test');
  url.searchParams.set('schema', uniqueName('bench'));
  return url.toString();
}

// ---- GraphQL client for seeding and verification ----

async function graphql<T>(url: string, query: string, variables?: Record<string, unknown>): Promise<T> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ query, variables }),
  });
  const body = (await response.json()) as { data?: T; errors?: unknown[] };
  if (response.status !== 200 || body.errors?.length || !body.data) {
    throw new Error(`GraphQL request failed (${response.status}): ${JSON.stringify(body.errors ?? body).slice(0, 500)}`);
  }
  return body.data;
}

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

// ---- load generator (worker thread, plain JS so that it needs no TypeScript loader) ----

const LOAD_WORKER = `
const { parentPort, workerData } = require('node:worker_threads');
const http = require('node:http');
const { concurrency } = workerData;
const agent = new http.Agent({ keepAlive: true, maxSockets: concurrency, maxFreeSockets: concurrency });

function once(target, payload) {
  return new Promise((resolve, reject) => {
    const start = process.hrtime.bigint();
    const req = http.request({
      host: target.hostname, port: target.port, path: target.pathname, method: 'POST', agent,
      headers: { 'content-type': 'application/json', accept: 'application/graphql-response+json, application/json', 'content-length': payload.length },
    }, (res) => {
      let size = 0;
      res.on('data', (chunk) => { size += chunk.length; });
      res.on('end', () => resolve({ status: res.statusCode, size, ms: Number(process.hrtime.bigint() - start) / 1e6 }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(payload);
  });
}

parentPort.on('message', async ({ url, body, seconds, expectedSize }) => {
  const target = new URL(url);
  const payload = Buffer.from(body);
  const latencies = [];
  let inWindow = 0;
  let failures = 0;
  let firstFailure = null;
  let stop = false;
  const startedAt = performance.now();
  const deadline = startedAt + seconds * 1000;
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (!stop && performance.now() < deadline) {
      try {
        const result = await once(target, payload);
        if (result.status !== 200 || (expectedSize >= 0 && result.size !== expectedSize)) {
          failures += 1;
          firstFailure ??= 'status ' + result.status + ', ' + result.size + ' bytes (expected ' + expectedSize + ')';
        } else {
          latencies.push(result.ms);
          if (performance.now() <= deadline) inWindow += 1;
        }
      } catch (error) {
        failures += 1;
        firstFailure ??= String(error && error.message || error);
        stop = true;
      }
    }
  }));
  const elapsedMs = performance.now() - startedAt;
  const array = Float64Array.from(latencies);
  parentPort.postMessage({ latencies: array, inWindow, windowMs: seconds * 1000, failures, firstFailure, elapsedMs }, [array.buffer]);
});
`;

interface LoadResult {
  /** Latencies of all successful requests, including those that finished after the window. */
  latencies: Float64Array;
  /** Successful requests that finished inside the window, and its length: the throughput. */
  inWindow: number;
  windowMs: number;
  failures: number;
  firstFailure: string | null;
  elapsedMs: number;
}

class LoadGenerator {
  private readonly worker = new Worker(LOAD_WORKER, { eval: true, workerData: { concurrency: CONCURRENCY } });

  run(url: string, body: string, seconds: number, expectedSize: number): Promise<LoadResult> {
    return new Promise((resolve, reject) => {
      const onError = (error: Error) => reject(error);
      this.worker.once('error', onError);
      this.worker.once('message', (result: LoadResult) => {
        this.worker.off('error', onError);
        resolve(result);
      });
      this.worker.postMessage({ url, body, seconds, expectedSize });
    });
  }

  async close() {
    await this.worker.terminate();
  }
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

function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))]!;
}

async function fetchText(url: string, body: string): Promise<string> {
  const response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
  const text = await response.text();
  if (response.status !== 200) throw new Error(`${url} answered ${response.status}: ${text.slice(0, 300)}`);
  return text;
}

interface Target {
  name: string;
  url: string;
  expectedSize: number;
  statementCount(): number;
}

/**
 * Warms every target up, then measures them in ROUNDS interleaved slices of SECONDS / ROUNDS
 * each (the starting target rotating per round), so that a slow drift of the machine's speed
 * (other work, CPU steal) is shared by all targets instead of landing on one of them.
 */
async function measureAll(load: LoadGenerator, targets: Target[], body: string): Promise<Measurement[]> {
  for (const target of targets) {
    if (WARMUP_SECONDS <= 0) break;
    const warm = await load.run(target.url, body, WARMUP_SECONDS, target.expectedSize);
    if (warm.failures) throw new Error(`${target.name}: ${warm.failures} failed requests during warm-up (first: ${warm.firstFailure})`);
  }
  const totals = targets.map(() => ({ latencies: [] as Float64Array[], inWindow: 0, windowMs: 0, statements: 0 }));
  for (let round = 0; round < ROUNDS; round++) {
    for (let k = 0; k < targets.length; k++) {
      const index = (round + k) % targets.length;
      const target = targets[index]!;
      const before = target.statementCount();
      const result = await load.run(target.url, body, SECONDS / ROUNDS, target.expectedSize);
      const total = totals[index]!;
      total.statements += target.statementCount() - before;
      if (result.failures) throw new Error(`${target.name}: ${result.failures} failed requests (first: ${result.firstFailure})`);
      total.latencies.push(result.latencies);
      total.inWindow += result.inWindow;
      total.windowMs += result.windowMs;
    }
  }
  return targets.map((target, index) => {
    const total = totals[index]!;
    const sorted = new Float64Array(total.latencies.reduce((sum, part) => sum + part.length, 0));
    let offset = 0;
    for (const part of total.latencies) {
      sorted.set(part, offset);
      offset += part.length;
    }
    sorted.sort();
    const requests = sorted.length;
    return {
      name: target.name,
      requests,
      // Completions inside the windows per second: the drain after each window is not counted.
      rps: total.inWindow / (total.windowMs / 1000),
      p50: percentile(sorted, 0.5),
      p99: percentile(sorted, 0.99),
      statementsPerRequest: total.statements / requests,
    };
  });
}

function printTable(rows: Measurement[]) {
  const header = ['target', 'requests', 'req/s', 'p50 ms', 'p99 ms', 'SQL stmts/req'];
  const lines = rows.map((row) => [
    row.name,
    String(row.requests),
    row.rps.toFixed(1),
    row.p50.toFixed(2),
    row.p99.toFixed(2),
    row.statementsPerRequest.toFixed(2),
  ]);
  const widths = header.map((title, i) => Math.max(title.length, ...lines.map((line) => line[i]!.length)));
  const format = (cells: string[]) => cells.map((cell, i) => (i === 0 ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!))).join('  ');
  console.log(format(header));
  console.log(widths.map((width) => '-'.repeat(width)).join('  '));
  for (const line of lines) console.log(format(line));
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
  const DATABASE_URL = databaseUrl();
  const cleanups: Array<() => Promise<unknown>> = [];
  let cleaned: Promise<void> | undefined;
  const cleanup = () =>
    (cleaned ??= (async () => {
      for (const step of cleanups.reverse()) {
        try {
          await step();
        } catch (error) {
          console.error('cleanup:', error instanceof Error ? error.message : error);
        }
      }
    })());
  const onSignal = (signal: NodeJS.Signals) => {
    console.error(`\n${signal}: cleaning up`);
    void cleanup().finally(() => process.exit(130));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);

  try {
    cleanups.push(() => dropSchemaOf(DATABASE_URL));
    const config = loadConfig({
      HOST: '127.0.0.1',
      PORT: '0',
      DATABASE_URL,
      LOG_LEVEL: 'silent',
      AUTH_MODE: 'disabled',
      GRAPHIQL: 'false',
    });
    const app: AppContext = await createAppContext(config, createLogger(config));
    cleanups.push(() => closeAppContext(app));
    const server: RunningServer = await startServer(app);
    cleanups.push(() => server.close());
    const schema = new URL(DATABASE_URL).searchParams.get('schema')!;
    console.log(`GraphQL server ${server.url} (PostgreSQL schema ${schema})`);

    const seedStart = performance.now();
    await seed(server.url);
    console.log(`seeded ${AGENTS} agents × ${BLOCKS_PER_AGENT} blocks × ${TOOLS_PER_AGENT} tools in ${((performance.now() - seedStart) / 1000).toFixed(1)} s`);

    const connection = new URL(DATABASE_URL);
    connection.searchParams.delete('schema');
    // The same pool size and search_path as the server's own pool (src/db/client.ts).
    const pool = new pg.Pool({ connectionString: connection.toString(), max: 10, options: `-c search_path="${schema}"` });
    cleanups.push(() => pool.end());
    const baselines = [
      await startBaseline('SQL json_agg (1 stmt)', jsonAggHandler(pool)),
      await startBaseline('SQL 3 queries + JSON.stringify', threeQueriesHandler(pool)),
    ];
    for (const baseline of baselines) cleanups.push(() => baseline.close());

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
    const expectedSizes = new Map<string, number>();
    for (const baseline of baselines) {
      const text = await fetchText(baseline.url, body);
      const difference = firstDifference(graphqlJson, JSON.parse(text));
      if (difference) {
        throw new Error(`the ${baseline.name} response differs from the GraphQL response at ${difference}`);
      }
      expectedSizes.set(baseline.name, Buffer.byteLength(text));
    }
    console.log(
      `responses verified deep-equal (${AGENTS} agents; GraphQL ${Buffer.byteLength(graphqlText)} bytes, ${singleRequestStatements} SQL statements for one request)`,
    );
    console.log(
      `load: ${CONCURRENCY} requests in flight over keep-alive HTTP, warm-up ${WARMUP_SECONDS} s, timed ${SECONDS} s per target in ${ROUNDS} interleaved rounds`,
    );
    console.log(
      `machine: ${os.cpus().length} CPUs, load average ${os.loadavg().map((value) => value.toFixed(2)).join(' ')} ` +
        '(servers, load generator and PostgreSQL share these CPUs; other work skews the numbers)\n',
    );

    const load = new LoadGenerator();
    cleanups.push(() => load.close());
    const results = await measureAll(
      load,
      [
        { name: 'GraphQL (yoga + Pothos + Prisma)', url: server.url, expectedSize: Buffer.byteLength(graphqlText), statementCount: () => app.db.statementCount() },
        ...baselines.map((baseline) => ({
          name: baseline.name,
          url: baseline.url,
          expectedSize: expectedSizes.get(baseline.name)!,
          statementCount: () => baseline.statementCount(),
        })),
      ],
      body,
    );

    printTable(results);
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
    await cleanup();
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error('benchmark failed:', error instanceof Error ? (error.stack ?? error.message) : error);
    process.exit(1);
  },
);
