/**
 * Nested-list benchmark: the GraphQL server against a hand-written SQL baseline.
 *
 *   npx tsx bench/nested-query.ts [embedded|services|both]     (default: both)
 *
 * Each mode starts the real server in this process (auth and rate limits off, logs silent) on an
 * ephemeral port:
 *   - embedded: DATA_DIR=memory:// (in-memory PGlite on its thread, reached through pg and
 *     Prisma's adapter-pg over a Unix socket);
 *   - services: PostgreSQL in a fresh `bench_<random>` schema (dropped at the end) and Redis.
 * It seeds 50 agents × 5 memory blocks × 8 tools through the GraphQL API, then measures over
 * keep-alive HTTP, with a fixed number of requests in flight,
 *
 *   query { agents(first: 50) { edges { node { id blocks { label value } tools { name } } } } }
 *
 * against two tiny node:http servers (bench/nested-query/baselines.ts) that answer the same JSON
 * from hand-written SQL on the same data:
 *   - "SQL json_agg": one statement; PostgreSQL builds the whole response document, Node only
 *     writes the text;
 *   - "SQL 3 queries": agents page, then blocks and tools of those agents (`= ANY($1)`, the two
 *     run in parallel), assembled and JSON.stringify'd in Node (what a hand-written REST
 *     endpoint typically does).
 * Services mode: the baselines use a pg.Pool of their own (the server's size and search_path)
 * with prepared statements. Embedded mode: PGlite serves one connection, so they run their
 * statements on the server's own pool, as the server's Prisma adapter does.
 * The ratio is taken against whichever baseline was faster in the run.
 * Before timing, every baseline's response must deep-equal the GraphQL one (same agents, same
 * order, same block/tool order); otherwise the run aborts with exit code 1.
 *
 * The server's operation limits (cost, depth, tokens, aliases, response size, query deadline)
 * stay at their defaults: the measured path is the production one.
 *
 * The load generator is autocannon in a worker thread (bench/lib/load.ts: its own event loop), so
 * it does not queue behind the servers' JavaScript; it still shares the machine's cores with them
 * and with PostgreSQL. Every response must be byte-identical to the verified one.
 *
 * Environment:
 *   BENCH_SECONDS         timed window per target and concurrency (default 10)
 *   BENCH_ROUNDS          the timed window is cut into this many slices, measured interleaved with
 *                         the other targets' (default 5)
 *   BENCH_WARMUP_SECONDS  warm-up per target and concurrency (default 2)
 *   BENCH_CONCURRENCY     requests in flight: a comma-separated list, each measured in turn
 *                         (default 16,8,1; the targets: ≥ 40% of the fastest baseline at 16 and
 *                         8, and a GraphQL p50 ≤ 3 ms at 1)
 *   BENCH_PROFILE=1       after the timings, a CPU profile of the server's thread under GraphQL
 *                         load alone (BENCH_PROFILE_SECONDS, default 5, at the first concurrency),
 *                         printed as tables; BENCH_PROFILE_FILE=path also writes the .cpuprofile
 *                         (one mode at a time, or the second overwrites it)
 *   BENCH_DATABASE_URL    PostgreSQL server (default DATABASE_URL without its schema, else
 *                         postgresql://postgres@127.0.0.1:5432/test)
 *   BENCH_REDIS_URL       Redis for services mode (default REDIS_URL, else redis://127.0.0.1:6379)
 *
 * Exit code 0 whatever the ratio (a measurement, not a test); non-zero when responses differ,
 * a request fails, or anything else goes wrong. The schema is dropped at the end.
 */
import { isDeepStrictEqual } from 'node:util';
import pg from 'pg';
import { cleanupStep, runMain } from './lib/cleanup.js';
import { numberFromEnv } from './lib/env.js';
import { fetchText, graphql } from './lib/graphql.js';
import { LoadGenerator } from './lib/load.js';
import { closeServer, machine, modeEnv, modesFromArgs, openServer, type BenchServer, type Mode } from './lib/server.js';
import { fixed, printTable } from './lib/table.js';
import { jsonAggHandler, startBaseline, threeQueriesHandler, type RunSql } from './nested-query/baselines.js';
import { measureAll, printMeasurements, profileTarget, type Measurement, type Target } from './nested-query/measure.js';

const AGENTS = 50;
const BLOCKS_PER_AGENT = 5;
const TOOLS_PER_AGENT = 8;
/** Of the fastest baseline's throughput, at every concurrency but 1. */
const TARGET_PERCENT = 40;
/** GraphQL p50 with one request in flight. */
const TARGET_SINGLE_P50_MS = 3;

const QUERY = 'query { agents(first: 50) { edges { node { id blocks { label value } tools { name } } } } }';

const SECONDS = numberFromEnv('BENCH_SECONDS', 10, { min: 0.1, integer: false });
const WARMUP_SECONDS = numberFromEnv('BENCH_WARMUP_SECONDS', 2, { integer: false });
const ROUNDS = numberFromEnv('BENCH_ROUNDS', 5, { min: 1 });
const PROFILE = process.env.BENCH_PROFILE === '1';
const PROFILE_SECONDS = numberFromEnv('BENCH_PROFILE_SECONDS', 5, { min: 0.5, integer: false });

function concurrencyLevels(): number[] {
  const raw = process.env.BENCH_CONCURRENCY || '16,8,1';
  const levels = raw.split(',').map((part) => Number(part.trim()));
  if (!levels.every((level) => Number.isInteger(level) && level >= 1 && level <= 1000)) {
    throw new Error(`BENCH_CONCURRENCY must be a comma-separated list of integers in [1, 1000], got '${raw}'`);
  }
  return levels;
}
const CONCURRENCY = concurrencyLevels();

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

// ---- one mode ----

interface ModeResult {
  mode: Mode;
  /** Per concurrency: GraphQL's row, then the baselines'. */
  levels: Array<{ connections: number; rows: Measurement[] }>;
}

/** The baselines' statements: their own prepared-statement pool (services) or the server's pool (embedded). */
function baselineSql(mode: Mode, app: BenchServer['app'], schemaUrl: string | undefined): RunSql {
  if (mode === 'embedded') {
    return async <Row>(_name: string, text: string, values: unknown[]) => {
      const session = await app.db.session();
      try {
        return await session.query<Row>(text, values);
      } finally {
        await session.release();
      }
    };
  }
  const connection = new URL(schemaUrl!);
  const schema = connection.searchParams.get('schema')!;
  connection.searchParams.delete('schema');
  // The same pool size and search_path as the server's own pool (src/db/client.ts).
  const pool = new pg.Pool({ connectionString: connection.toString(), max: 10, options: `-c search_path="${schema}"` });
  cleanupStep(() => pool.end());
  return async <Row>(name: string, text: string, values: unknown[]) => (await pool.query({ name, text, values })).rows as Row[];
}

async function runMode(mode: Mode, load: LoadGenerator): Promise<ModeResult> {
  const { env, schemaUrl } = modeEnv(mode);
  const opened: Partial<BenchServer> = {};
  const closeOpened = cleanupStep(() => closeServer(opened, schemaUrl));
  const closers: Array<() => Promise<void>> = [];
  try {
    // Rate limits off: the bench sends thousands of requests a minute from one address.
    Object.assign(opened, await openServer({ ...env, RATE_LIMIT_PER_MINUTE: '0' }));
    const { app, server } = opened as BenchServer;
    console.log(`\n=== ${mode}: GraphQL server ${server.url}${schemaUrl ? ` (PostgreSQL schema ${new URL(schemaUrl).searchParams.get('schema')})` : ' (PGlite in memory)'}`);

    const seedStart = performance.now();
    await seed(server.url);
    console.log(`seeded ${AGENTS} agents × ${BLOCKS_PER_AGENT} blocks × ${TOOLS_PER_AGENT} tools in ${((performance.now() - seedStart) / 1000).toFixed(1)} s`);

    const sql = baselineSql(mode, app, schemaUrl);
    const baselines = [
      await startBaseline('SQL json_agg (1 stmt)', jsonAggHandler(sql, AGENTS)),
      await startBaseline('SQL 3 queries + JSON.stringify', threeQueriesHandler(sql, AGENTS)),
    ];
    for (const baseline of baselines) closers.push(cleanupStep(() => baseline.close()));

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
    const targets: Target[] = [
      { name: 'GraphQL (yoga + Pothos + Prisma)', url: server.url, expectBody: graphqlText, statementCount: () => app.db.statementCount() },
      ...baselines.map((baseline) => ({
        name: baseline.name,
        url: baseline.url,
        expectBody: expectedBodies.get(baseline.name)!,
        statementCount: () => baseline.statementCount(),
      })),
    ];

    const levels: ModeResult['levels'] = [];
    for (const connections of CONCURRENCY) {
      console.log(
        `\n${mode}, ${connections} request${connections === 1 ? '' : 's'} in flight over keep-alive HTTP (autocannon), warm-up ${WARMUP_SECONDS} s, timed ${SECONDS} s per target in ${ROUNDS} interleaved rounds`,
      );
      const rows = await measureAll(load, targets, body, { seconds: SECONDS, warmupSeconds: WARMUP_SECONDS, rounds: ROUNDS, connections });
      console.log(`machine: ${machine()} (servers, load generator and database share these CPUs; other work skews the numbers)`);
      printMeasurements(rows);
      levels.push({ connections, rows });
    }
    if (PROFILE) await profileTarget(load, targets[0]!, body, PROFILE_SECONDS, CONCURRENCY[0]!, `${mode}, GraphQL target at ${CONCURRENCY[0]} connections`);
    return { mode, levels };
  } finally {
    for (const close of closers.reverse()) await close();
    await closeOpened();
  }
}

// ---- main ----

function printSummary(results: ModeResult[]): void {
  console.log(`\n=== targets: GraphQL ≥ ${TARGET_PERCENT}% of the fastest baseline's req/s (except at 1 connection); GraphQL p50 ≤ ${TARGET_SINGLE_P50_MS} ms at 1 connection`);
  const rows: string[][] = [];
  for (const { mode, levels } of results) {
    for (const { connections, rows: [graphqlRow, ...baselineRows] } of levels) {
      const fastest = baselineRows.reduce((best, row) => (row.rps > best.rps ? row : best));
      const ratio = (100 * graphqlRow!.rps) / fastest.rps;
      const met = connections === 1 ? graphqlRow!.p50 <= TARGET_SINGLE_P50_MS : ratio >= TARGET_PERCENT;
      rows.push([
        mode,
        String(connections),
        fixed(graphqlRow!.rps),
        `${fixed(fastest.rps)} (${fastest.name.startsWith('SQL json_agg') ? 'json_agg' : '3 queries'})`,
        `${ratio.toFixed(1)}%`,
        fixed(graphqlRow!.p50, 2),
        fixed(fastest.p50, 2),
        met ? 'met' : 'NOT met',
      ]);
    }
  }
  printTable(['mode', 'connections', 'GraphQL req/s', 'fastest baseline req/s', 'ratio', 'GraphQL p50 ms', 'baseline p50 ms', 'target'], rows);
}

async function main(): Promise<number> {
  const modes = modesFromArgs('bench/nested-query.ts');
  const load = new LoadGenerator();
  cleanupStep(() => load.close());
  const results: ModeResult[] = [];
  for (const mode of modes) results.push(await runMode(mode, load));
  printSummary(results);
  return 0;
}

runMain(main);
