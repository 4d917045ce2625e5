import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { collect, eventually, SERVICES_MODE, startTestServer, type TestServer } from './helpers/server.js';
import { freePort } from './helpers/ports.js';
import { startModelServer, type ModelServer, type RecordedRequest } from './model-server/server.js';

/**
 * Several real server processes sharing PostgreSQL and Redis (services mode only): runs are
 * queued in the database and executed by whichever instance has workers, in per-agent order;
 * cancellation reaches the executing instance; an instance that dies does not leave its run
 * running.
 */

type Data = Record<string, any>;
const ROOT = fileURLToPath(new URL('..', import.meta.url));
const LIVENESS = { RUN_HEARTBEAT_MS: '200', RUN_STALE_AFTER_MS: '1500' };

async function post(url: string, query: string, variables?: Record<string, unknown>): Promise<Data> {
  const response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query, variables }) });
  const body = (await response.json()) as { data?: Data; errors?: unknown };
  if (body.errors) throw new Error(JSON.stringify(body.errors));
  return body.data!;
}

interface Instance {
  url: string;
  process: ChildProcess;
  kill(): void;
}

/** `src/main.ts` in a child process on the database of `like`, ready when /readyz answers. */
async function spawnInstance(like: TestServer, env: Record<string, string>): Promise<Instance> {
  const port = await freePort();
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
    cwd: ROOT,
    env: { ...process.env, ...like.env, ...env, PORT: String(port), HOST: '127.0.0.1', LOG_LEVEL: 'silent' },
    stdio: 'ignore',
  });
  children.add(child);
  child.once('exit', () => children.delete(child));
  const url = `http://127.0.0.1:${port}/graphql`;
  // A hang guard, not a timing: tsx compiles the server from source, which takes long on a loaded machine.
  const deadline = Date.now() + 120_000;
  while (!(await fetch(new URL('/readyz', url)).then((response) => response.ok).catch(() => false))) {
    if (child.exitCode !== null) throw new Error(`instance exited with ${child.exitCode}`);
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error('instance did not start');
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return { url, process: child, kill: () => child.kill('SIGKILL') };
}

/** Instances still running; killed when this test process exits, however it ends (they would outlive it and keep polling the queue). */
const children = new Set<ChildProcess>();
process.once('exit', () => children.forEach((child) => child.kill('SIGKILL')));

const SEND_ASYNC = `mutation($id: ID!, $text: String!) { sendMessageAsync(input: { agentId: $id, input: $text }) { run { id } } }`;
const RUN = `query($id: ID!) { run(id: $id) { status stopReason startedAt completedAt error { code message } } }`;
const CREATE_AGENT = `mutation { createAgent(input: { model: "test/scripted" }) { agent { id } } }`;

function lastUserText(request: RecordedRequest): string {
  const user = request.body.messages.filter((message) => message.role === 'user').at(-1);
  return typeof user?.content === 'string' ? user.content : JSON.stringify(user?.content);
}

async function runEnded(url: string, runId: string): Promise<Data> {
  let run: Data = {};
  await eventually(
    () => ['COMPLETED', 'FAILED', 'CANCELLED'].includes(run.status),
    async () => (run = (await post(url, RUN, { id: runId })).run),
    20_000,
  );
  return run;
}

describe.runIf(SERVICES_MODE)('three instances: A and C serve the API, only B executes runs', () => {
  let model: ModelServer;
  let a: TestServer;
  let b: Instance;
  let c: Instance;
  let providers: string;

  beforeAll(async () => {
    model = await startModelServer();
    providers = JSON.stringify([{ name: 'test', baseUrl: model.url }]);
    a = await startTestServer({ LLM_PROVIDERS: providers, RUN_WORKERS: '0', LLM_TIMEOUT_MS: '60000', ...LIVENESS });
    [b, c] = await Promise.all([
      spawnInstance(a, { LLM_PROVIDERS: providers, RUN_WORKERS: '4', LLM_TIMEOUT_MS: '60000', ...LIVENESS }),
      spawnInstance(a, { LLM_PROVIDERS: providers, RUN_WORKERS: '0', ...LIVENESS }),
    ]);
  }, 180_000);
  afterAll(async () => {
    b?.kill();
    c?.kill();
    await a?.close();
    await model?.close();
  });

  it('a run sent to A executes on B, streams to a subscriber on A, and a cancel from C aborts its model call at once', async () => {
    const agent = (await post(a.url, CREATE_AGENT)).createAgent.agent;
    model.enqueue({ text: 'a long and slow answer that will never be finished', chunkSize: 4, chunkDelayMs: 300 });
    const requests = model.requests.length;
    const runId = (await post(a.url, SEND_ASYNC, { id: agent.id, text: 'talk slowly' })).sendMessageAsync.run.id;
    const stream = collect<{ runEvents: Data }>(a.ws(), {
      query: `subscription($r: ID!) { runEvents(runId: $r) { __typename seq ... on MessageDeltaEvent { kind delta } ... on StopReasonEvent { stopReason status } } }`,
      variables: { r: runId },
    });
    await eventually(() => stream.values.some((value) => value.runEvents.kind === 'ASSISTANT'), undefined, 15_000);
    const request = model.requests[requests]!;
    expect(request.aborted).toBe(false);

    const cancelledAt = Date.now();
    const cancelled = (await post(c.url, `mutation($id: ID!) { cancelRun(input: { runId: $id }) { run { status } } }`, { id: runId })).cancelRun.run;
    expect(cancelled.status).toBe('CANCELLED');
    await eventually(() => request.aborted, undefined, 5_000);
    // Within the heartbeat's reach on an idle machine; the bound only catches a cancel that waits for
    // the run to end (the reply would take ~4 s more). It took 0.6–1 s at load 13–37.
    expect(request.abortedAt! - cancelledAt).toBeLessThan(2_000);

    await eventually(() => stream.completed, undefined, 10_000);
    expect(stream.errors).toEqual([]);
    const events = stream.values.map((value) => value.runEvents).filter((event) => event.__typename !== 'PingEvent');
    expect(events.map((event) => event.seq)).toEqual([...events.keys()].map((index) => index + 1));
    expect(events.find((event) => event.__typename === 'StopReasonEvent')).toMatchObject({ stopReason: 'CANCELLED', status: 'CANCELLED' });
    expect((await runEnded(a.url, runId)).status).toBe('CANCELLED');
  });

  it('runs sent through A and C in turn execute on B in the order they were sent, one at a time', async () => {
    const agent = (await post(a.url, CREATE_AGENT)).createAgent.agent;
    const texts = Array.from({ length: 6 }, (_, index) => `message ${index}`);
    const from = model.requests.length;
    for (const text of texts) model.enqueue({ text: `answer to ${text}`, delayMs: 40 });
    const runIds: string[] = [];
    for (const [index, text] of texts.entries()) {
      runIds.push((await post(index % 2 ? c.url : a.url, SEND_ASYNC, { id: agent.id, text })).sendMessageAsync.run.id);
    }
    const runs = [];
    for (const id of runIds) runs.push(await runEnded(a.url, id));
    expect(runs.map((run) => run.stopReason)).toEqual(texts.map(() => 'END_TURN'));
    expect(model.requests.slice(from).map(lastUserText)).toEqual(texts);
    for (let index = 1; index < runs.length; index += 1) {
      expect(Date.parse(runs[index]!.startedAt)).toBeGreaterThanOrEqual(Date.parse(runs[index - 1]!.completedAt));
    }
  });

  it('when B dies mid-run, its run fails within a bounded time, and a run queued behind it waits for the next worker', async () => {
    const agent = (await post(a.url, CREATE_AGENT)).createAgent.agent;
    model.enqueue({ hang: true });
    const requests = model.requests.length;
    const first = (await post(a.url, SEND_ASYNC, { id: agent.id, text: 'work hard' })).sendMessageAsync.run.id;
    await eventually(() => model.requests.length > requests, undefined, 15_000); // B waits for the model
    const second = (await post(c.url, SEND_ASYNC, { id: agent.id, text: 'and then this' })).sendMessageAsync.run.id;
    const stream = collect<{ runEvents: Data }>(a.ws(), {
      query: `subscription($r: ID!) { runEvents(runId: $r) { __typename ... on StopReasonEvent { stopReason status } ... on ErrorEvent { code message } } }`,
      variables: { r: first },
    });

    const killedAt = Date.now();
    b.kill();
    const failed = await runEnded(a.url, first);
    expect(Date.now() - killedAt).toBeLessThan(10_000);
    expect(failed).toMatchObject({ status: 'FAILED', stopReason: 'ERROR', error: { code: 'INTERNAL' } });
    await eventually(() => stream.completed || stream.errors.length > 0, undefined, 10_000);
    expect(stream.errors).toEqual([]);
    const events = stream.values.map((value) => value.runEvents).filter((event) => event.__typename !== 'PingEvent');
    expect(events.find((event) => event.__typename === 'StopReasonEvent')).toMatchObject({ stopReason: 'ERROR', status: 'FAILED' });
    expect(events.at(-1)).toMatchObject({ __typename: 'ErrorEvent', code: 'INTERNAL' });

    // No instance executes runs now: the second run stays queued, then a new worker takes it.
    expect((await post(a.url, RUN, { id: second })).run.status).toBe('CREATED');
    model.enqueue({ text: 'back to work' });
    b = await spawnInstance(a, { LLM_PROVIDERS: providers, RUN_WORKERS: '4', ...LIVENESS });
    expect(await runEnded(a.url, second)).toMatchObject({ status: 'COMPLETED', stopReason: 'END_TURN' });
    expect(lastUserText(model.requests.at(-1)!)).toBe('and then this');
  });
});

describe.runIf(SERVICES_MODE)('two instances that both execute runs', () => {
  let model: ModelServer;
  let a: TestServer;
  let b: Instance;

  beforeAll(async () => {
    model = await startModelServer();
    const providers = JSON.stringify([{ name: 'test', baseUrl: model.url }]);
    a = await startTestServer({ LLM_PROVIDERS: providers, RUN_WORKERS: '8' });
    b = await spawnInstance(a, { LLM_PROVIDERS: providers, RUN_WORKERS: '8' });
  }, 180_000);
  afterAll(async () => {
    b?.kill();
    await a?.close();
    await model?.close();
  });

  it('share the queue: each agent runs one run at a time in the order sent, and both instances execute', async () => {
    const agents: string[] = [];
    for (let index = 0; index < 3; index += 1) agents.push((await post(a.url, CREATE_AGENT)).createAgent.agent.id);
    const sent = new Map<string, Array<{ text: string; runId: string }>>(agents.map((id) => [id, []]));
    // Every request takes a while, so that two runs of one agent would overlap if the order broke.
    const brainDelay = { delayMs: 30 };
    for (let round = 0; round < 6; round += 1) {
      for (const [index, agentId] of agents.entries()) {
        const text = `agent ${index} message ${round}`;
        model.enqueue({ text: `answer to ${text}`, ...brainDelay });
        const url = (round + index) % 2 ? b.url : a.url;
        sent.get(agentId)!.push({ text, runId: (await post(url, SEND_ASYNC, { id: agentId, text })).sendMessageAsync.run.id });
      }
    }
    for (const [agentId, runs] of sent) {
      const ended = [];
      for (const { runId } of runs) ended.push(await runEnded(a.url, runId));
      expect(ended.map((run) => run.status)).toEqual(runs.map(() => 'COMPLETED'));
      for (let index = 1; index < ended.length; index += 1) {
        expect(Date.parse(ended[index]!.startedAt)).toBeGreaterThanOrEqual(Date.parse(ended[index - 1]!.completedAt));
      }
      const seen = model.requests.map(lastUserText).filter((text) => text.startsWith(`agent ${agents.indexOf(agentId)} `));
      expect(seen).toEqual(runs.map((run) => run.text));
    }

    const url = new URL(a.env.DATABASE_URL!);
    const schema = url.searchParams.get('schema')!;
    url.searchParams.delete('schema');
    const client = new pg.Client({ connectionString: url.toString() });
    await client.connect();
    try {
      const { rows } = await client.query(`SELECT count(DISTINCT "executorId")::int AS executors FROM "${schema}"."Run"`);
      expect(rows[0].executors).toBe(2);
    } finally {
      await client.end();
    }
  });
});
