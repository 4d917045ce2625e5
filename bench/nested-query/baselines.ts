/** The hand-written baselines of bench/nested-query.ts: tiny node:http servers answering from SQL. */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { DEFAULT_ORG_ID } from '../../src/ids.js';

/**
 * Runs one statement. Services mode: a pg.Pool of its own with named (prepared) statements;
 * embedded mode: the server's own pool (PGlite serves one connection), as Prisma's adapter runs
 * its statements there: unnamed.
 */
export type RunSql = <Row>(name: string, text: string, values: unknown[]) => Promise<Row[]>;

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

export function jsonAggHandler(sql: RunSql, agents: number): Handler {
  return async (count) => {
    count();
    const rows = await sql<{ body: string }>('bench_json_agg', JSON_AGG_SQL, [DEFAULT_ORG_ID, agents]);
    return rows[0]!.body;
  };
}

export function threeQueriesHandler(sql: RunSql, agents: number): Handler {
  return async (count) => {
    count();
    const agentRows = await sql<{ id: string }>('bench_agents', AGENTS_SQL, [DEFAULT_ORG_ID, agents]);
    const ids = agentRows.map((row) => row.id);
    const nodes = new Map(ids.map((id) => [id, { id, blocks: [] as Array<{ label: string; value: string }>, tools: [] as Array<{ name: string }> }]));
    count();
    count();
    const [blocks, tools] = await Promise.all([
      sql<{ agentId: string; label: string; value: string }>('bench_blocks', BLOCKS_SQL, [ids]),
      sql<{ agentId: string; name: string }>('bench_tools', TOOLS_SQL, [ids]),
    ]);
    for (const row of blocks) nodes.get(row.agentId)!.blocks.push({ label: row.label, value: row.value });
    for (const row of tools) nodes.get(row.agentId)!.tools.push({ name: row.name });
    return JSON.stringify({ data: { agents: { edges: [...nodes.values()].map((node) => ({ node })) } } });
  };
}

export interface Baseline {
  readonly name: string;
  readonly url: string;
  statementCount(): number;
  close(): Promise<void>;
}

export async function startBaseline(name: string, handler: Handler): Promise<Baseline> {
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
