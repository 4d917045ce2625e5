import { spawn, type ChildProcess } from 'node:child_process';
import net from 'node:net';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { collect, eventually, SERVICES_MODE, startTestServer, type TestServer } from './helpers/server.js';
import { startModelServer, type ModelServer } from './model-server/server.js';

type Data = Record<string, any>;
const ROOT = fileURLToPath(new URL('..', import.meta.url));

async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

async function post(url: string, query: string, variables?: Record<string, unknown>): Promise<Data> {
  const response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query, variables }) });
  const body = (await response.json()) as { data?: Data; errors?: unknown };
  if (body.errors) throw new Error(JSON.stringify(body.errors));
  return body.data!;
}

// A second real server process sharing PostgreSQL and Redis exists only in services mode.
describe.runIf(SERVICES_MODE)('a server instance that dies mid-run', () => {
  let model: ModelServer;
  let a: TestServer;
  let b: ChildProcess | undefined;
  let bUrl: string;
  const liveness = { RUN_HEARTBEAT_MS: '200', RUN_STALE_AFTER_MS: '1500' };

  beforeAll(async () => {
    model = await startModelServer();
    const providers = JSON.stringify([{ name: 'test', baseUrl: model.url }]);
    a = await startTestServer({ LLM_PROVIDERS: providers, ...liveness });
    const port = await freePort();
    bUrl = `http://127.0.0.1:${port}/graphql`;
    b = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
      cwd: ROOT,
      env: { ...process.env, ...a.env, ...liveness, LLM_PROVIDERS: providers, PORT: String(port), HOST: '127.0.0.1', LOG_LEVEL: 'silent' },
      stdio: 'ignore',
    });
    const deadline = Date.now() + 30_000;
    while (!(await fetch(new URL('/readyz', bUrl)).then((response) => response.ok).catch(() => false))) {
      if (Date.now() > deadline) throw new Error('instance B did not start');
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  });
  afterAll(async () => {
    b?.kill('SIGKILL');
    await a?.close();
    await model?.close();
  });

  it('fails its run within a bounded time, ends the stream, and the agent answers again', async () => {
    const agent = (await post(a.url, `mutation { createAgent(input: { model: "test/scripted" }) { agent { id } } }`)).createAgent.agent;
    model.enqueue({ hang: true });
    const requests = model.requests.length;
    const started = await post(bUrl, `mutation($id: ID!) { sendMessageAsync(agentId: $id, input: { input: "work hard" }) { run { id } } }`, { id: agent.id });
    const runId = started.sendMessageAsync.run.id;
    await eventually(() => model.requests.length > requests); // B is waiting for the model
    const stream = collect<{ runEvents: Data }>(a.ws(), {
      query: `subscription($r: ID!) { runEvents(runId: $r) { __typename ... on StopReasonEvent { stopReason status } ... on ErrorEvent { code message } } }`,
      variables: { r: runId },
    });

    const killedAt = Date.now();
    b!.kill('SIGKILL');
    let run: Data = {};
    await eventually(
      () => run.status === 'failed',
      async () => (run = (await post(a.url, `query($id: ID!) { run(id: $id) { status stopReason error { code message } } }`, { id: runId })).run),
      15_000,
    );
    expect(Date.now() - killedAt).toBeLessThan(10_000);
    expect(run).toMatchObject({ status: 'failed', stopReason: 'error', error: { code: 'INTERNAL' } });

    await eventually(() => stream.completed || stream.errors.length > 0, undefined, 10_000);
    expect(stream.errors).toEqual([]);
    const events = stream.values.map((value) => value.runEvents).filter((event) => event.__typename !== 'PingEvent');
    expect(events.find((event) => event.__typename === 'StopReasonEvent')).toMatchObject({ stopReason: 'error', status: 'failed' });
    expect(events.at(-1)).toMatchObject({ __typename: 'ErrorEvent', code: 'INTERNAL' });

    model.enqueue({ text: 'back to work' });
    const next = await post(a.url, `mutation($id: ID!) { sendMessage(agentId: $id, input: { input: "again" }) { stopReason } }`, { id: agent.id });
    expect(next.sendMessage.stopReason).toBe('end_turn');
  });
});
