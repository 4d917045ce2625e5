import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { print } from 'graphql';
import type { TypedDocumentNode } from '@graphql-typed-document-node/core';
import { createClient, type Client as WsClient } from 'graphql-ws';
import WebSocket from 'ws';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { graphql } from '../src/generated/gql/index.js';
import { freePort } from './helpers/ports.js';
import { dropSchemaOf, freshDatabaseEnv, SERVICES_MODE, uniqueName } from './helpers/server.js';

/**
 * The server as operators run it (`npm start`): real child processes of `node --import tsx src/main.ts`, started and stopped
 * with signals, on data that outlives the process (a temp DATA_DIR in embedded mode, a fresh
 * PostgreSQL schema in services mode).
 */

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const SHUTDOWN_TIMEOUT_MS = 3000;
const READY_TIMEOUT_MS = 30_000;

const LifecycleCreateAgent = graphql(`
  mutation LifecycleCreateAgent($name: String!) {
    createAgent(input: { name: $name }) { agent { id name } }
  }
`);

const LifecycleRenameAgent = graphql(`
  mutation LifecycleRenameAgent($id: ID!, $name: String!) {
    updateAgent(input: { id: $id, name: $name }) { agent { id } }
  }
`);

const LifecycleGetAgent = graphql(`
  query LifecycleGetAgent($id: ID!) {
    agent(id: $id) { id name }
  }
`);

const LifecycleOrganization = graphql(`
  query LifecycleOrganization {
    organization { name }
  }
`);

const LifecycleAgentEvents = graphql(`
  subscription LifecycleAgentEvents($id: ID!) {
    agentEvents(agentId: $id) { type }
  }
`);

// ---------------------------------------------------------------------------------------------
// Processes, data and cleanup

const children = new Set<ChildProcess>();
const tempDirs: string[] = [];
const schemaUrls: string[] = [];
const wsClients: WsClient[] = [];
/** Processes that outlive one test (a describe's server); killed in afterAll instead of afterEach. */
const shared = new Set<ChildProcess>();

/** Database settings for a new, persistent data set in the current mode. */
async function persistentDataEnv(): Promise<Record<string, string>> {
  if (SERVICES_MODE) {
    const env = freshDatabaseEnv();
    schemaUrls.push(env.DATABASE_URL!);
    return env;
  }
  const dir = await mkdtemp(path.join(os.tmpdir(), 'agentgraph-lifecycle-'));
  tempDirs.push(dir);
  return { DATA_DIR: dir };
}

interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

interface Proc {
  readonly child: ChildProcess;
  readonly exited: Promise<Exit>;
  stdout(): string;
  stderr(): string;
}

function run(args: string[], env: Record<string, string>): Proc {
  // One process, as `npm start` runs it: signals reach the server directly.
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts', ...args], {
    cwd: ROOT,
    env: { ...process.env, LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
    // A process group lets killAll reach anything the server may have started.
    detached: true,
  });
  children.add(child);
  let out = '';
  let err = '';
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => (out += chunk));
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (err += chunk));
  const exited = new Promise<Exit>((resolve) => {
    child.once('close', (code, signal) => {
      children.delete(child);
      resolve({ code, signal });
    });
    child.once('error', (error) => {
      err += `spawn error: ${error.message}\n`;
    });
  });
  return { child, exited, stdout: () => out, stderr: () => err };
}

function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no result within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** Runs a CLI command to completion. */
async function cli(args: string[], env: Record<string, string>) {
  const proc = run(args, env);
  const { code } = await withTimeout(proc.exited, 30_000, `src/main.ts ${args.join(' ')}`);
  return { code, stdout: proc.stdout(), stderr: proc.stderr() };
}

interface ServerProc extends Proc {
  readonly port: number;
  readonly base: string;
  readonly graphqlUrl: string;
  readonly wsUrl: string;
  /** SIGTERM and wait for the exit. */
  stop(): Promise<Exit>;
}

/** Starts `src/main.ts` (serve) on a free port and waits until /readyz answers 200. */
async function startServerProcess(dataEnv: Record<string, string>, extra: Record<string, string> = {}): Promise<ServerProc> {
  const port = await freePort();
  const proc = run([], { ...dataEnv, HOST: '127.0.0.1', PORT: String(port), ...extra });
  const base = `http://127.0.0.1:${port}`;
  let exit: Exit | undefined;
  void proc.exited.then((value) => (exit = value));
  const deadline = Date.now() + READY_TIMEOUT_MS;
  for (;;) {
    if (exit) {
      throw new Error(`server exited during start-up (${JSON.stringify(exit)}):\n${proc.stderr()}\n${proc.stdout()}`);
    }
    if (Date.now() > deadline) {
      throw new Error(`server not ready within ${READY_TIMEOUT_MS} ms:\n${proc.stderr()}\n${proc.stdout()}`);
    }
    try {
      const response = await fetch(`${base}/readyz`, { signal: AbortSignal.timeout(2000) });
      await response.body?.cancel();
      if (response.status === 200) break;
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return {
    ...proc,
    port,
    base,
    graphqlUrl: `${base}/graphql`,
    wsUrl: `ws://127.0.0.1:${port}/graphql`,
    async stop() {
      proc.child.kill('SIGTERM');
      return withTimeout(proc.exited, SHUTDOWN_TIMEOUT_MS + 8000, 'server exit after SIGTERM');
    },
  };
}

interface Result<T> {
  status: number;
  data?: T | null;
  errors?: Array<{ message: string; extensions?: Record<string, unknown> }>;
}

async function request<T, V>(
  server: ServerProc,
  document: TypedDocumentNode<T, V>,
  variables?: V,
  token?: string,
): Promise<Result<T>> {
  const response = await fetch(server.graphqlUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify({ query: print(document), variables }),
  });
  return { ...((await response.json()) as Omit<Result<T>, 'status'>), status: response.status };
}

async function ok<T, V>(server: ServerProc, document: TypedDocumentNode<T, V>, variables?: V, token?: string) {
  const result = await request(server, document, variables, token);
  if (result.errors?.length || !result.data) throw new Error(`GraphQL request failed: ${JSON.stringify(result)}`);
  return result.data;
}

/** The JSON log lines of a process's stdout (other lines are skipped). */
function logMessages(stdout: string): string[] {
  return stdout
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => {
      try {
        return String((JSON.parse(line) as { msg?: unknown }).msg);
      } catch {
        return '';
      }
    });
}

async function killAll(includeShared: boolean) {
  await Promise.allSettled(wsClients.splice(0).map((client) => client.dispose()));
  const alive = [...children].filter((child) => includeShared || !shared.has(child));
  for (const child of alive) {
    try {
      process.kill(-child.pid!, 'SIGKILL');
    } catch {
      child.kill('SIGKILL');
    }
  }
  await Promise.all(
    alive.map((child) =>
      child.exitCode !== null || child.signalCode !== null
        ? undefined
        : new Promise((resolve) => {
            child.once('close', resolve);
            setTimeout(resolve, 5000).unref();
          }),
    ),
  );
}

afterEach(() => killAll(false));

afterAll(async () => {
  await killAll(true);
  await Promise.allSettled(tempDirs.map((dir) => rm(dir, { recursive: true, force: true })));
  await Promise.allSettled(schemaUrls.map((url) => dropSchemaOf(url)));
});

// ---------------------------------------------------------------------------------------------

describe.sequential('a server process', () => {
  // One data set and one process for health and SIGTERM, then a second process on the same data.
  let dataEnv: Record<string, string>;
  let server: ServerProc;
  let survivor: { id: string; name: string };

  beforeAll(async () => {
    dataEnv = await persistentDataEnv();
    server = await startServerProcess(dataEnv, { SHUTDOWN_TIMEOUT_MS: String(SHUTDOWN_TIMEOUT_MS) });
    shared.add(server.child);
    const { createAgent } = await ok(server, LifecycleCreateAgent, { name: uniqueName('survivor') });
    survivor = createAgent.agent;
  });

  it('answers the health endpoints', async () => {
    const healthz = await fetch(`${server.base}/healthz`);
    expect(healthz.status).toBe(200);
    expect(await healthz.json()).toEqual({ status: 'ok' });
    const readyz = await fetch(`${server.base}/readyz`);
    expect(readyz.status).toBe(200);
    expect(await readyz.json()).toEqual({ status: 'ready' });
  });

  it('shuts down on SIGTERM within the timeout, closing open subscriptions', async () => {
    const { createAgent } = await ok(server, LifecycleCreateAgent, { name: 'x' });
    const id = createAgent.agent.id;

    const closeCodes: number[] = [];
    const client = createClient({
      url: server.wsUrl,
      webSocketImpl: WebSocket,
      retryAttempts: 0,
      lazy: false,
      onNonLazyError: () => {},
    });
    wsClients.push(client);
    client.on('closed', (event) => closeCodes.push((event as { code: number }).code));
    const events: string[] = [];
    let ended: 'error' | 'complete' | undefined;
    client.subscribe<{ agentEvents: { type: string } }>(
      { query: print(LifecycleAgentEvents), variables: { id } },
      {
        next: (value) => events.push(value.data?.agentEvents.type ?? `errors: ${JSON.stringify(value.errors)}`),
        error: () => (ended ??= 'error'),
        complete: () => (ended ??= 'complete'),
      },
    );

    // The subscription is live once an update made over HTTP arrives on it.
    const liveBy = Date.now() + 10_000;
    for (let n = 0; events.length === 0; n++) {
      if (Date.now() > liveBy) throw new Error(`subscription never delivered an event (ended: ${ended})`);
      await ok(server, LifecycleRenameAgent, { id, name: `x${n}` });
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(events[0]).toBe('AGENT_UPDATED');
    expect(ended).toBeUndefined();

    const sentAt = Date.now();
    const exit = await server.stop();
    const elapsed = Date.now() - sentAt;
    expect(exit).toEqual({ code: 0, signal: null });
    expect(elapsed).toBeLessThan(SHUTDOWN_TIMEOUT_MS + 2000);

    const closedBy = Date.now() + 5000;
    while ((closeCodes.length === 0 || ended === undefined) && Date.now() < closedBy) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    expect(closeCodes[0]).toBe(1001);
    expect(ended).toBeDefined();

    const messages = logMessages(server.stdout());
    expect(messages).toContain('shutting down');
    expect(messages).toContain('server closed');
    expect(messages.indexOf('shutting down')).toBeLessThan(messages.indexOf('server closed'));
  });

  it('keeps its data across a restart', async () => {
    if (server.child.exitCode === null && server.child.signalCode === null) expect((await server.stop()).code).toBe(0);
    const again = await startServerProcess(dataEnv);
    const { agent } = await ok(again, LifecycleGetAgent, { id: survivor.id });
    expect(agent).toEqual(survivor);
    expect((await again.stop()).code).toBe(0);
  });
});

describe('start-up failures', () => {
  it('refuses to start with bad configuration, naming the variable on one stderr line', async () => {
    const cases: Array<{ env: Record<string, string>; variable: string }> = [
      { env: { PORT: 'abc' }, variable: 'PORT' },
      { env: { AUTH_MODE: 'maybe' }, variable: 'AUTH_MODE' },
      { env: { DATABASE_URL: 'mysql://x' }, variable: 'DATABASE_URL' },
    ];
    const results = await Promise.all(cases.map(({ env }) => cli([], { HOST: '127.0.0.1', PORT: '0', DATA_DIR: 'memory://', ...env })));
    results.forEach((result, i) => {
      const { variable } = cases[i]!;
      const lines = result.stderr.trimEnd().split('\n');
      expect(result.code, result.stderr).toBe(1);
      expect(lines, result.stderr).toHaveLength(1);
      expect(lines[0]).toMatch(new RegExp(`\\b${variable}\\b`));
    });
  });

  it('prints the keys usage and exits 1 without arguments', async () => {
    const result = await cli(['keys'], { DATA_DIR: 'memory://' });
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/^usage:/);
    expect(result.stderr).toContain('keys create --org NAME');
    expect(result.stdout).toBe('');
  });
});

describe('keys command', () => {
  it('creates, lists and revokes keys that the server then honours', async () => {
    const dataEnv = await persistentDataEnv();

    // Mint a key with no server running (PGlite allows one process at a time).
    const created = await cli(['keys', 'create', '--org', 'acme', '--name', 'ci'], dataEnv);
    expect(created.code, created.stderr).toBe(0);
    const key = /^api key \(shown once\): (agk_\S+)$/m.exec(created.stdout)?.[1];
    const keyId = /^key id: (\S+)$/m.exec(created.stdout)?.[1];
    expect(key, created.stdout).toBeDefined();
    expect(keyId, created.stdout).toBeDefined();

    let server = await startServerProcess(dataEnv);
    const mine = await ok(server, LifecycleOrganization, undefined, key);
    expect(mine.organization.name).toBe('acme');
    // Loopback auth is open only until a key exists: now one does.
    const anonymous = await request(server, LifecycleOrganization);
    expect(anonymous.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
    expect((await server.stop()).code).toBe(0);

    const listed = await cli(['keys', 'list', '--org', 'acme'], dataEnv);
    expect(listed.code, listed.stderr).toBe(0);
    const row = listed.stdout.split('\n').find((line) => line.startsWith(`${keyId}\t`));
    expect(row, listed.stdout).toBeDefined();
    expect(row!.split('\t')).toContain('ci');
    expect(row!.split('\t').at(-1)).toBe('active');

    const revoked = await cli(['keys', 'revoke', '--org', 'acme', '--id', keyId!], dataEnv);
    expect(revoked.code, revoked.stderr).toBe(0);
    expect(revoked.stdout).toContain(`revoked ${keyId}`);

    server = await startServerProcess(dataEnv);
    const refused = await request(server, LifecycleOrganization, undefined, key);
    expect(refused.data?.organization ?? null).toBeNull();
    expect(refused.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
    expect((await server.stop()).code).toBe(0);
  }, 180_000); // five child processes, each compiling the server with tsx on start
});
