/** Starting the real server for a bench, in embedded or services mode, and describing the machine. */
import os from 'node:os';
import { closeAppContext, createAppContext, type AppContext } from '../../src/app.js';
import { loadConfig } from '../../src/config.js';
import { createLogger } from '../../src/logger.js';
import { startServer, type RunningServer } from '../../src/server.js';
import { dropSchemaOf, uniqueName } from '../../test/helpers/server.js';

export type Mode = 'embedded' | 'services';

/** The modes named by the first argument (embedded, services or both; default both). */
export function modesFromArgs(script: string): Mode[] {
  const arg = process.argv[2] ?? 'both';
  if (!['embedded', 'services', 'both'].includes(arg)) throw new Error(`usage: npx tsx ${script} [embedded|services|both], got '${arg}'`);
  return arg === 'both' ? ['embedded', 'services'] : [arg as Mode];
}

/** BENCH_DATABASE_URL (else DATABASE_URL, else the local test database) with a fresh `bench_<random>` schema. */
export function freshSchemaUrl(): string {
  const url = new URL(process.env.BENCH_DATABASE_URL || process.env.DATABASE_URL || 'postgresql://postgres@127.0.0.1:5432/test');
  url.searchParams.set('schema', uniqueName('bench'));
  return url.toString();
}

export interface ModeEnv {
  /** DATA_DIR=memory:// (embedded), or DATABASE_URL with a fresh schema and REDIS_URL (services). */
  env: Record<string, string>;
  schemaUrl?: string;
  redisUrl?: string;
}

export function modeEnv(mode: Mode): ModeEnv {
  if (mode === 'embedded') return { env: { DATA_DIR: 'memory://' } };
  const schemaUrl = freshSchemaUrl();
  const redisUrl = process.env.BENCH_REDIS_URL || process.env.REDIS_URL || 'redis://127.0.0.1:6379';
  return { env: { DATABASE_URL: schemaUrl, REDIS_URL: redisUrl }, schemaUrl, redisUrl };
}

/**
 * The server settings every bench uses: loopback, an ephemeral port, no auth, no logs, no
 * GraphiQL, and no rate limits (a bench sends hundreds of requests and subscriptions a minute
 * from one address).
 */
export const BENCH_SERVER_ENV = {
  HOST: '127.0.0.1',
  PORT: '0',
  LOG_LEVEL: 'silent',
  AUTH_MODE: 'disabled',
  GRAPHIQL: 'false',
  RATE_LIMIT_PER_MINUTE: '0',
  RATE_LIMIT_RUNS_PER_MINUTE: '0',
  RATE_LIMIT_SUBSCRIPTIONS_PER_CONNECTION: '0',
  RATE_LIMIT_SUBSCRIPTIONS_PER_KEY: '0',
} as const;

export interface BenchServer {
  app: AppContext;
  server: RunningServer;
}

/** The real server in this thread, configured from `env` (on top of BENCH_SERVER_ENV). */
export async function openServer(env: Record<string, string>): Promise<BenchServer> {
  const config = loadConfig({ ...BENCH_SERVER_ENV, ...env });
  const app = await createAppContext(config, createLogger(config));
  try {
    return { app, server: await startServer(app) };
  } catch (error) {
    await closeAppContext(app).catch(() => {});
    throw error;
  }
}

/** Closes what openServer opened (either may be missing) and drops the schema; logs failures. */
export async function closeServer(opened: Partial<BenchServer>, schemaUrl?: string): Promise<void> {
  await opened.server?.close().catch((error: unknown) => console.error('server close:', error));
  if (opened.app) await closeAppContext(opened.app).catch((error: unknown) => console.error('app close:', error));
  if (schemaUrl) await dropSchemaOf(schemaUrl).catch((error: unknown) => console.error('drop schema:', error));
}

/** "2 CPUs, load average 1.20 0.90 0.70". */
export const machine = (): string => `${os.cpus().length} CPUs, load average ${os.loadavg().map((value) => value.toFixed(2)).join(' ')}`;
