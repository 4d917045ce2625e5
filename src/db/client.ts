import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { PrismaPg } from '@prisma/adapter-pg';
import { PrismaClient } from '../generated/prisma/client.js';
import type { Config } from '../config.js';
import type { Logger } from '../logger.js';
import { applyMigrations } from './migrate.js';
import { pgSession, sharedSession } from './sessions.js';
import { PGLITE_SOCKET_PORT, startPgliteThread } from './pglite-thread.js';
import type { SqlSession } from './sql-session.js';
import { passageIndexer, type EnsurePassageIndex } from './vector-index.js';
import { registerDirectSql } from './direct-sql.js';
import { startAutoAnalyze } from './pglite-analyze.js';
import { EmbeddedPool } from './embedded-pool.js';

export type { PrismaClient };

export interface Database {
  readonly prisma: PrismaClient;
  readonly kind: 'postgres' | 'pglite';
  /** Whether pgvector is available (PGlite) or search falls back to exact SQL (plain PostgreSQL). */
  readonly hasVector: boolean;
  /** Makes sure passages of this embedding length are indexed for vector search (pgvector only; a no-op elsewhere). */
  readonly ensurePassageIndex: EnsurePassageIndex;
  /** How many of a file's passages one INSERT writes (insertFilePassages). */
  readonly passageRowsPerStatement: number;
  /** SQL statements sent since start, through Prisma and direct-sql.ts (for N+1 tests and benchmarks). */
  statementCount(): number;
  /** A dedicated session for raw SQL; release it when done. */
  session(): Promise<SqlSession>;
  close(): Promise<void>;
}

export const MIGRATIONS_DIR = fileURLToPath(new URL('../../prisma/migrations', import.meta.url));

/** DATABASE_URL set → PostgreSQL through adapter-pg; unset → PGlite in DATA_DIR. Migrates before returning. */
export async function openDatabase(
  config: Pick<Config, 'DATABASE_URL' | 'DATA_DIR'>,
  logger: Logger,
): Promise<Database> {
  const database: Database & { afterMigrations?: () => Promise<void> } = config.DATABASE_URL
    ? await openPostgres(config.DATABASE_URL)
    : await openPglite(config.DATA_DIR, logger);
  try {
    const session = await database.session();
    let applied: string[];
    try {
      ({ applied } = await applyMigrations(session, {
        migrationsDir: MIGRATIONS_DIR,
        log: (msg, data) => logger.info(data ?? {}, msg),
      }));
    } finally {
      await session.release();
    }
    await database.afterMigrations?.();
    logger.info({ database: database.kind, applied: applied.length }, 'database ready');
  } catch (error) {
    await database.close();
    throw error;
  }
  return database;
}

/** `?schema=name` selects a PostgreSQL schema, as in Prisma's own URLs (the tests use one per file). */
function splitSchema(url: string): { connectionString: string; schema: string | undefined } {
  const parsed = new URL(url);
  const schema = parsed.searchParams.get('schema') ?? undefined;
  parsed.searchParams.delete('schema');
  return { connectionString: parsed.toString(), schema };
}

type ClientOptions = ConstructorParameters<typeof PrismaClient>[0];
type AdapterFactory = NonNullable<ClientOptions['adapter']>;

/**
 * Counts statements where Prisma hands them to the driver adapter. Prisma's own `query` log event
 * JSON-stringifies every statement's parameters on the main thread (a file's megabytes of text
 * included), for every statement, only so that they can be counted here.
 */
function countingClient(factory: AdapterFactory, transactionOptions?: ClientOptions['transactionOptions']) {
  let statements = 0;
  const counted = <T extends object>(queryable: T): T =>
    new Proxy(queryable, {
      get(target, key) {
        const value: unknown = Reflect.get(target, key, target);
        if (typeof value !== 'function') return value;
        if (key === 'queryRaw' || key === 'executeRaw') {
          return (...args: unknown[]) => {
            statements += 1;
            return value.apply(target, args);
          };
        }
        if (key === 'startTransaction' || key === 'connect') return async (...args: unknown[]) => counted(await value.apply(target, args));
        return value.bind(target);
      },
    });
  const prisma = new PrismaClient({ adapter: counted(factory), ...(transactionOptions ? { transactionOptions } : {}) });
  return { prisma, statementCount: () => statements };
}

async function openPostgres(url: string): Promise<Database> {
  const { connectionString, schema } = splitSchema(url);
  const pool = new pg.Pool({
    connectionString,
    max: 10,
    ...(schema ? { options: `-c search_path="${schema.replaceAll('"', '')}"` } : {}),
  });
  if (schema) {
    const client = await pool.connect();
    try {
      await client.query(`CREATE SCHEMA IF NOT EXISTS "${schema.replaceAll('"', '')}"`);
    } finally {
      client.release();
    }
  }
  const { prisma, statementCount } = countingClient(new PrismaPg(pool, schema ? { schema } : undefined));
  const directCount = registerDirectSql(prisma, pool);
  return {
    prisma,
    statementCount: () => statementCount() + directCount(),
    kind: 'postgres',
    hasVector: false,
    passageRowsPerStatement: Number.POSITIVE_INFINITY, // a whole embedding batch: no HNSW index to maintain here
    ensurePassageIndex: async () => {},
    session: async () => pgSession(await pool.connect()),
    close: async () => {
      await prisma.$disconnect();
      await pool.end();
    },
  };
}

/**
 * HNSW search settings for PGlite's one session. ef_search: candidates per scan; 400 keeps
 * recall@10 >= 0.95 with filters even on near-uniform vectors, where 100 gave 0.76 with a 10% tag
 * filter (see the archival bench). strict_order iterative scans go on past ef_search until LIMIT
 * rows pass the query's filters (agent, tags, dates), up to hnsw.max_scan_tuples.
 */
export const HNSW_EF_SEARCH = 400;
const HNSW_SESSION = `SET hnsw.ef_search = ${HNSW_EF_SEARCH}; SET hnsw.iterative_scan = strict_order;`;

export const PGLITE_TRANSACTION_WAIT_MS = 30_000;
/**
 * Every passage written on PGlite goes into its HNSW index, about 5 ms a row on its one connection
 * (measured in bench:isolation): 8 rows keep an INSERT near 40 ms, the longest a request or a run
 * then waits behind file processing (interactive statements go first, embedded-pool.ts).
 */
export const PGLITE_PASSAGE_ROWS_PER_STATEMENT = 8;
export const PGLITE_TRANSACTION_TIMEOUT_MS = 30_000;

/**
 * PGlite on its own thread (pglite-thread.ts), reached through pg and adapter-pg like PostgreSQL.
 * One connection: PGlite has a single session, and statements of two connections must not
 * interleave. Sessions share it too (SET applies to everyone, as before). Interactive statements
 * take it before background ones (embedded-pool.ts).
 */
async function openPglite(dataDir: string, logger: Logger): Promise<Database & { afterMigrations: () => Promise<void> }> {
  const location = dataDir.startsWith('memory://') ? dataDir : path.resolve(dataDir);
  if (!location.startsWith('memory://')) fs.mkdirSync(location, { recursive: true });
  const thread = await startPgliteThread(location, `CREATE EXTENSION IF NOT EXISTS vector; ${HNSW_SESSION}`);
  const pool = new EmbeddedPool({ host: thread.socketDir, port: PGLITE_SOCKET_PORT, user: 'postgres', database: 'postgres', idleTimeoutMillis: 0 });
  pool.on('error', (error) => logger.error({ err: error }, 'embedded database connection failed'));
  // Everything queues for the one connection: a transaction may wait longer to start (and take
  // longer under load) than Prisma's defaults of 2 s and 5 s allow.
  const { prisma, statementCount } = countingClient(new PrismaPg(pool), { maxWait: PGLITE_TRANSACTION_WAIT_MS, timeout: PGLITE_TRANSACTION_TIMEOUT_MS });
  const directCount = registerDirectSql(prisma, pool);
  let stopAnalyze: (() => Promise<void>) | undefined;
  return {
    prisma,
    statementCount: () => statementCount() + directCount(),
    kind: 'pglite',
    hasVector: true,
    passageRowsPerStatement: PGLITE_PASSAGE_ROWS_PER_STATEMENT,
    ensurePassageIndex: passageIndexer(async () => sharedSession(pool), logger),
    session: async () => sharedSession(pool),
    afterMigrations: async () => {
      stopAnalyze = await startAutoAnalyze(sharedSession(pool), logger);
    },
    close: async () => {
      await stopAnalyze?.();
      await prisma.$disconnect();
      await pool.end();
      await thread.close();
    },
  };
}
