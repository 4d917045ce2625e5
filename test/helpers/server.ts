import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { print, type DocumentNode } from 'graphql';
import type { TypedDocumentNode } from '@graphql-typed-document-node/core';
import { createClient as createWsClient, type Client as WsClient } from 'graphql-ws';
import WebSocket from 'ws';
import { closeAppContext, createAppContext, type AppContext } from '../../src/app.js';
import { loadConfig } from '../../src/config.js';
import { createLogger } from '../../src/logger.js';
import { startServer, type RunningServer } from '../../src/server.js';
import { startModelServer, type ModelServer, type ModelServerOptions } from '../model-server/server.js';
import { findOrCreateOrganization, mintApiKey } from '../../src/services/platform/auth.js';

/**
 * The suite runs in the mode the environment selects: DATABASE_URL (+ REDIS_URL) → services,
 * nothing → embedded. Each test server gets its own database (a fresh PostgreSQL schema or a
 * fresh in-memory PGlite), so test files run in parallel without seeing each other.
 */
export const SERVICES_MODE = Boolean(process.env.DATABASE_URL);
export const MODE = SERVICES_MODE ? 'services' : 'embedded';

export interface GraphQLResult<T> {
  status: number;
  data?: T | null;
  errors?: Array<{ message: string; path?: string[]; extensions?: Record<string, unknown> }>;
}

export interface TestServer {
  readonly app: AppContext;
  readonly server: RunningServer;
  readonly url: string;
  readonly wsUrl: string;
  /** Database settings of this server, to start another instance on the same data. */
  readonly env: Record<string, string>;
  request<T, V>(document: TypedDocumentNode<T, V> | DocumentNode | string, variables?: V, options?: { token?: string }): Promise<GraphQLResult<T>>;
  /** Data of a request that must succeed. */
  ok<T, V>(document: TypedDocumentNode<T, V>, variables?: V, options?: { token?: string }): Promise<T>;
  ws(options?: { token?: string }): WsClient;
  /** A fresh organization with a key, for tenancy tests. */
  newOrganization(name?: string): Promise<{ orgId: string; token: string }>;
  close(): Promise<void>;
}

export function uniqueName(prefix: string) {
  return `${prefix}_${randomBytes(6).toString('hex')}`;
}

/** Environment for a new isolated database in the current mode. */
export function freshDatabaseEnv(): Record<string, string> {
  if (!SERVICES_MODE) return { DATA_DIR: 'memory://' };
  const url = new URL(process.env.DATABASE_URL!);
  url.searchParams.set('schema', uniqueName('t'));
  return { DATABASE_URL: url.toString(), ...(process.env.REDIS_URL ? { REDIS_URL: process.env.REDIS_URL } : {}) };
}

export async function dropSchemaOf(databaseUrl: string) {
  const url = new URL(databaseUrl);
  const schema = url.searchParams.get('schema');
  if (!schema) return;
  url.searchParams.delete('schema');
  const client = new pg.Client({ connectionString: url.toString() });
  await client.connect();
  try {
    await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  } finally {
    await client.end();
  }
}

export const NO_RATE_LIMITS: Record<string, string> = {
  RATE_LIMIT_PER_MINUTE: '0',
  RATE_LIMIT_AUTH_FAILURES_PER_MINUTE: '0',
  RATE_LIMIT_RUNS_PER_MINUTE: '0',
  RATE_LIMIT_SUBSCRIPTIONS_PER_CONNECTION: '0',
  RATE_LIMIT_SUBSCRIPTIONS_PER_KEY: '0',
};

export async function startTestServer(
  overrides: Record<string, string> = {},
  options: { dropOnClose?: boolean } = {},
): Promise<TestServer> {
  // Rate limits are off unless a test sets them: the suite's many requests all come from 127.0.0.1.
  const env = { ...NO_RATE_LIMITS, ...freshDatabaseEnv(), ...overrides };
  const config = loadConfig({ HOST: '127.0.0.1', PORT: '0', LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent', ...env });
  const app = await createAppContext(config, createLogger(config));
  const server = await startServer(app);
  const url = server.url;
  const wsUrl = url.replace(/^http/, 'ws');
  const clients: WsClient[] = [];

  const request: TestServer['request'] = async (document, variables, opts = {}) => {
    const query = typeof document === 'string' ? document : print(document);
    const response = await fetch(url, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        ...(opts.token ? { authorization: `Bearer ${opts.token}` } : {}),
      },
      body: JSON.stringify({ query, variables }),
    });
    const body = (await response.json()) as GraphQLResult<never>;
    return { ...body, status: response.status };
  };

  return {
    app,
    server,
    url,
    wsUrl,
    env,
    request,
    async ok(document, variables, opts) {
      const result = await request(document, variables, opts);
      if (result.errors?.length || !result.data) {
        throw new Error(`GraphQL request failed: ${JSON.stringify(result.errors ?? result)}`);
      }
      return result.data;
    },
    ws(opts = {}) {
      const client = createWsClient({
        url: wsUrl,
        webSocketImpl: WebSocket,
        retryAttempts: 0,
        lazy: false,
        connectionParams: opts.token ? { authorization: `Bearer ${opts.token}` } : {},
        onNonLazyError: () => {},
      });
      clients.push(client);
      return client;
    },
    async newOrganization(name = uniqueName('org')) {
      const org = await findOrCreateOrganization(app.db.prisma, name);
      const { key } = await mintApiKey(app.db.prisma, org.id, 'test');
      return { orgId: org.id, token: key };
    },
    async close() {
      await Promise.allSettled(clients.map((client) => client.dispose()));
      await server.close();
      await closeAppContext(app);
      if (options.dropOnClose !== false && env.DATABASE_URL) await dropSchemaOf(env.DATABASE_URL);
    },
  };
}

/** Subscribes over graphql-ws and collects values (and errors) as they arrive. */
export function collect<T>(client: WsClient, payload: { query: string; variables?: Record<string, unknown> }) {
  const state = {
    values: [] as T[],
    errors: [] as unknown[],
    completed: false,
    dispose: () => {},
  };
  state.dispose = client.subscribe<T>(payload, {
    next: (value) => (value.errors ? state.errors.push(value.errors) : state.values.push(value.data as T)),
    error: (error) => state.errors.push(error),
    complete: () => {
      state.completed = true;
    },
  });
  return state;
}

/** Waits until `done()` holds, calling `poke()` between checks (e.g. to publish until a subscriber is live). */
export async function eventually(done: () => boolean, poke: () => unknown = () => {}, timeoutMs = 10_000) {
  const deadline = Date.now() + timeoutMs;
  while (!done()) {
    if (Date.now() > deadline) throw new Error('condition not reached in time');
    await poke();
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** A test server whose models come from a scripted model server (provider "test"; agents use "test/..."). */
export async function startWithScriptedModel(
  overrides: Record<string, string> = {},
  modelOptions: ModelServerOptions = {},
): Promise<{ model: ModelServer; t: TestServer }> {
  const model = await startModelServer(modelOptions);
  const t = await startTestServer({ LLM_PROVIDERS: JSON.stringify([{ name: 'test', baseUrl: model.url }]), ...overrides });
  return { model, t };
}

export async function closeAll(...things: Array<{ close(): Promise<void> } | undefined>) {
  for (const thing of things) await thing?.close();
}
