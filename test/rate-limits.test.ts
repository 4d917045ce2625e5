import { afterAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { closeAll, SERVICES_MODE, startTestServer, startWithScriptedModel, uniqueName, type TestServer } from './helpers/server.js';
import type { ModelServer } from './model-server/server.js';

/** Rate limits (issue 14): 429 + RATE_LIMITED + Retry-After over HTTP; an error on the id over graphql-ws. */

type Body = { data?: unknown; errors?: Array<{ message: string; extensions?: Record<string, unknown> }> };

async function post(url: string, query: string, token?: string) {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify({ query }),
  });
  return { status: response.status, retryAfter: response.headers.get('retry-after'), body: (await response.json()) as Body };
}

const cleanup: Array<{ close(): Promise<void> } | undefined> = [];
afterAll(async () => {
  await closeAll(...cleanup.reverse());
});

function expectLimited(result: Awaited<ReturnType<typeof post>>, what: string) {
  expect(result.status, what).toBe(429);
  expect(Number(result.retryAfter), what).toBeGreaterThanOrEqual(1);
  expect(result.body.errors?.[0]?.extensions?.code, what).toBe('RATE_LIMITED');
  expect(result.body.errors?.[0]?.message, what).toMatch(/retry after \d+ s/);
}

describe('rate limits', () => {
  it('limits requests per client address without a key, and per key with one', { timeout: 120_000 }, async () => {
    const t = await startTestServer({ RATE_LIMIT_PER_MINUTE: '4', REDIS_PREFIX: uniqueName('rl') + ':' });
    cleanup.push(t);
    const results = [];
    for (let i = 0; i < 6; i++) results.push(await post(t.url, '{ agents { totalCount } }'));
    expect(results.slice(0, 4).map((result) => result.status)).toEqual([200, 200, 200, 200]);
    for (const result of results.slice(4)) expectLimited(result, 'anonymous');

    // A key has its own budget, apart from the address's.
    const { token } = await t.newOrganization();
    expect((await post(t.url, '{ agents { totalCount } }', token)).status).toBe(200);
  });

  it('limits wrong keys per client address', { timeout: 120_000 }, async () => {
    const t = await startTestServer({ AUTH_MODE: 'required', RATE_LIMIT_AUTH_FAILURES_PER_MINUTE: '3', REDIS_PREFIX: uniqueName('rl') + ':' });
    cleanup.push(t);
    const codes = [];
    for (let i = 0; i < 6; i++) {
      const result = await post(t.url, '{ agents { totalCount } }', `agk_wrong${i}`);
      codes.push(result.body.errors?.[0]?.extensions?.code);
      if (i >= 4) expectLimited(result, `wrong key ${i}`);
    }
    expect(codes.slice(0, 3)).toEqual(['UNAUTHENTICATED', 'UNAUTHENTICATED', 'UNAUTHENTICATED']);
    // graphql-ws from the same address is refused at connection_init too.
    const socket = new WebSocket(t.wsUrl, 'graphql-transport-ws');
    await new Promise((resolve) => socket.once('open', resolve));
    socket.send(JSON.stringify({ type: 'connection_init', payload: { authorization: 'Bearer agk_wrong_ws' } }));
    const code = await new Promise<number>((resolve) => socket.once('close', (closeCode) => resolve(closeCode)));
    expect(code).toBe(4403);
  });

  it('limits runs started per minute', { timeout: 120_000 }, async () => {
    const { model, t } = await startWithScriptedModel({ RATE_LIMIT_RUNS_PER_MINUTE: '2', REDIS_PREFIX: uniqueName('rl') + ':' });
    cleanup.push(model as ModelServer, t);
    const agent = await post(t.url, 'mutation { createAgent(input: { model: "test/scripted" }) { agent { id } } }');
    const agentId = (agent.body.data as { createAgent: { agent: { id: string } } }).createAgent.agent.id;
    const send = `mutation { sendMessageAsync(input: { agentId: "${agentId}", input: "hi" }) { run { id } } }`;
    expect((await post(t.url, send)).body.errors).toBeUndefined();
    expect((await post(t.url, send)).body.errors).toBeUndefined();
    expectLimited(await post(t.url, send), 'third run');
  });

  it('limits subscriptions per graphql-ws connection with an error on the id, keeping the socket', { timeout: 120_000 }, async () => {
    const t = await startTestServer({ RATE_LIMIT_SUBSCRIPTIONS_PER_CONNECTION: '2', REDIS_PREFIX: uniqueName('rl') + ':' });
    cleanup.push(t);
    const agent = (await t.ok('mutation { createAgent(input: { name: "s" }) { agent { id } } }' as never)) as { createAgent: { agent: { id: string } } };
    const query = `subscription { agentEvents(agentId: "${agent.createAgent.agent.id}") { type } }`;
    const socket = new WebSocket(t.wsUrl, 'graphql-transport-ws');
    const messages: Array<{ id?: string; type: string; payload?: Body['errors'] }> = [];
    socket.on('message', (data) => messages.push(JSON.parse(String(data))));
    let closed = false;
    socket.on('close', () => (closed = true));
    await new Promise((resolve) => socket.once('open', resolve));
    const waitFor = async (match: (m: (typeof messages)[number]) => boolean) => {
      for (let i = 0; i < 400 && !messages.some(match); i++) await new Promise((resolve) => setTimeout(resolve, 25));
      return messages.find(match);
    };
    socket.send(JSON.stringify({ type: 'connection_init', payload: {} }));
    await waitFor((m) => m.type === 'connection_ack');
    for (const id of ['1', '2', '3']) socket.send(JSON.stringify({ id, type: 'subscribe', payload: { query } }));
    const refused = await waitFor((m) => m.id === '3' && m.type === 'error');
    expect(refused?.payload?.[0]?.extensions?.code).toBe('RATE_LIMITED');
    expect(messages.filter((m) => m.type === 'error').map((m) => m.id)).toEqual(['3']);
    // Completing one frees its slot.
    socket.send(JSON.stringify({ id: '1', type: 'complete' }));
    await new Promise((resolve) => setTimeout(resolve, 200));
    socket.send(JSON.stringify({ id: '4', type: 'subscribe', payload: { query } }));
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(messages.filter((m) => m.id === '4' && m.type === 'error')).toEqual([]);
    expect(closed).toBe(false);
    socket.close();
  });

  it.runIf(SERVICES_MODE)('holds across instances sharing Redis', { timeout: 120_000 }, async () => {
    const prefix = uniqueName('rl') + ':';
    const a: TestServer = await startTestServer({ RATE_LIMIT_PER_MINUTE: '4', REDIS_PREFIX: prefix });
    cleanup.push(a);
    const b: TestServer = await startTestServer({ RATE_LIMIT_PER_MINUTE: '4', REDIS_PREFIX: prefix });
    cleanup.push(b);
    const statuses = [];
    for (const server of [a, a, b, b, a, b]) statuses.push((await post(server.url, '{ agents { totalCount } }')).status);
    expect(statuses).toEqual([200, 200, 200, 200, 429, 429]);
  });
});
