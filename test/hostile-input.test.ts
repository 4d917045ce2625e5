import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { SSE_PATH } from '../src/server.js';
import { startTestServer, type TestServer } from './helpers/server.js';

/** Hostile input (issue 14): every case is BAD_USER_INPUT with a clear message, never INTERNAL or 5xx. */

const NUL = '\u0000';
const LONE = '\ud800';

/** `{"a":{"a":…}}` nested `depth` levels, as text (JSON.stringify of such a value would overflow too). */
function deepJsonText(depth: number): string {
  return '{"a":'.repeat(depth) + '1' + '}'.repeat(depth);
}

type Errors = Array<{ message: string; extensions?: { code?: string } }>;

async function post(t: TestServer, body: string, headers: Record<string, string> = {}) {
  const response = await fetch(t.url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body });
  const text = await response.text();
  return { status: response.status, body: JSON.parse(text) as { data?: unknown; errors?: Errors } };
}

function expectBadInput(result: { status: number; body: { errors?: Errors } }, name: string, message?: RegExp) {
  expect(result.status, name).toBeLessThan(500);
  expect(result.body.errors?.map((error) => error.extensions?.code), name).toEqual(['BAD_USER_INPUT']);
  if (message) expect(result.body.errors![0]!.message, name).toMatch(message);
}

describe('hostile input', () => {
  let t: TestServer;
  let agentId: string;
  beforeAll(async () => {
    t = await startTestServer();
    agentId = ((await t.ok('mutation { createAgent(input: { name: "h" }) { agent { id } } }' as never)) as { createAgent: { agent: { id: string } } }).createAgent.agent.id;
  });
  afterAll(async () => {
    await t?.close();
  });

  const stringCases: Array<[string, string, (bad: string) => Record<string, unknown>]> = [
    ['agents filter name', 'query($v: AgentFilter) { agents(filter: $v) { totalCount } }', (bad) => ({ v: { name: bad } })],
    ['agents filter tags', 'query($v: AgentFilter) { agents(filter: $v) { totalCount } }', (bad) => ({ v: { tags: [bad] } })],
    ['agents filter search', 'query($v: AgentFilter) { agents(filter: $v) { totalCount } }', (bad) => ({ v: { search: bad } })],
    ['blocks filter label', 'query($v: BlockFilter) { blocks(filter: $v) { edges { cursor } } }', (bad) => ({ v: { label: bad } })],
    ['tools filter name', 'query($v: ToolFilter) { tools(filter: $v) { edges { cursor } } }', (bad) => ({ v: { name: bad } })],
    ['message search text', 'query($v: String) { searchMessages(input: { query: $v }) { __typename } }', (bad) => ({ v: bad })],
    ['block label', 'mutation($v: String!) { createBlock(input: { label: $v, value: "x" }) { block { id } } }', (bad) => ({ v: bad })],
    ['block tags', 'mutation($v: String!) { createBlock(input: { label: "l", value: "x", tags: [$v] }) { block { id } } }', (bad) => ({ v: bad })],
    ['tool description', 'mutation($v: String!) { createTool(input: { name: "t_x", description: $v }) { tool { id } } }', (bad) => ({ v: bad })],
    ['tool approval name', 'mutation($a: ID!, $v: String!) { setToolApproval(input: { agentId: $a, toolName: $v, requiresApproval: true }) { __typename } }', (bad) => ({ v: bad })],
    ['agent metadata', 'mutation($v: JSON) { createAgent(input: { name: "m", metadata: $v }) { agent { id } } }', (bad) => ({ v: { note: bad, [bad]: 1 } })],
  ];

  const withAgent = (variables: Record<string, unknown>) => ({ a: agentId, ...variables });

  it.each(stringCases)('NUL in %s', async (name, query, variables) => {
    expectBadInput(await post(t, JSON.stringify({ query, variables: withAgent(variables(`a${NUL}b`)) })), name, name === 'block label' ? undefined : /NUL/);
  });

  it.each(stringCases)('a lone surrogate in %s', async (name, query, variables) => {
    expectBadInput(await post(t, JSON.stringify({ query, variables: withAgent(variables(`a${LONE}b`)) })), name, /surrogate/);
  });

  it('NUL and lone surrogates written in the query text itself', async () => {
    expectBadInput(await post(t, JSON.stringify({ query: '{ agents(filter: { name: "a\\u0000b" }) { totalCount } }' })), 'literal NUL', /NUL/);
    expectBadInput(await post(t, JSON.stringify({ query: '{ agents(filter: { tags: ["\\ud800"] }) { totalCount } }' })), 'literal surrogate', /surrogate|Unicode/);
  });

  it('NUL in a message cursor', async () => {
    const query = 'query($id: ID!, $after: String) { agent(id: $id) { messages(first: 2, after: $after) { edges { cursor } } } }';
    expectBadInput(await post(t, JSON.stringify({ query, variables: { id: agentId, after: `x${NUL}` } })), 'cursor');
  });

  it('JSON nested 10,000 levels deep in metadata and in importAgent(input: { json })', async () => {
    const deep = deepJsonText(10_000);
    const metadata = `{"query":"mutation($v: JSON) { createAgent(input: { name: \\"d\\", metadata: $v }) { agent { id } } }","variables":{"v":${deep}}}`;
    expectBadInput(await post(t, metadata), 'metadata', /nested/);
    const importJson = `{"query":"mutation($v: JSON) { importAgent(input: { json: $v }) { agentIds } }","variables":{"v":${deep}}}`;
    expectBadInput(await post(t, importJson), 'importAgent', /nested/);
    const asString = JSON.stringify({ query: 'mutation($v: JSON) { importAgent(input: { json: $v }) { agentIds } }', variables: { v: deep } });
    expectBadInput(await post(t, asString), 'importAgent string', /nested/);
  });

  it('malformed variables and extensions in GET', async () => {
    const query = encodeURIComponent('{ agents { totalCount } }');
    for (const suffix of ['&variables={', '&extensions={', '&variables=[1]', '&extensions=3']) {
      const response = await fetch(`${t.url}?query=${query}${suffix}`, { headers: { 'x-graphql-yoga-csrf': '1', accept: 'application/json' } });
      const body = (await response.json()) as { errors?: Errors };
      expectBadInput({ status: response.status, body }, suffix);
    }
  });

  it('a multipart map sent as an array', async () => {
    const form = new FormData();
    form.append('operations', JSON.stringify({ query: 'mutation($f: Upload) { importAgent(input: { file: $f }) { agentIds } }', variables: { f: null } }));
    form.append('map', JSON.stringify([['variables.f']]));
    form.append('0', new Blob(['{}']), 'a.af');
    const response = await fetch(t.url, { method: 'POST', body: form, headers: { 'x-graphql-yoga-csrf': '1' } });
    const body = (await response.json()) as { errors?: Errors };
    expectBadInput({ status: response.status, body }, 'map array', /map/);
  });
});

describe('subscriptions over the limits', () => {
  let t: TestServer;
  beforeAll(async () => {
    t = await startTestServer({ MAX_QUERY_DEPTH: '4', MAX_QUERY_ALIASES: '2' });
  });
  afterAll(async () => {
    await t?.close();
  });

  const TOO_DEEP = 'subscription { agentEvents(agentId: "agent-00000000-0000-4000-8000-000000000000") { agent { blocks { agents { blocks { id } } } } } }';
  const TOO_MANY_ALIASES = 'subscription { a: agentEvents(agentId: "agent-00000000-0000-4000-8000-000000000000") { b: type c: type d: type } }';

  it('get BAD_USER_INPUT on their own id over graphql-ws, and the socket stays open', async () => {
    const socket = new WebSocket(t.wsUrl, 'graphql-transport-ws');
    const messages: Array<{ id?: string; type: string; payload?: Errors }> = [];
    socket.on('message', (data) => messages.push(JSON.parse(String(data))));
    let closed = false;
    socket.on('close', () => (closed = true));
    await new Promise((resolve) => socket.once('open', resolve));
    socket.send(JSON.stringify({ type: 'connection_init', payload: {} }));
    const waitFor = async (match: (m: (typeof messages)[number]) => boolean) => {
      for (let i = 0; i < 200 && !messages.some(match); i++) await new Promise((resolve) => setTimeout(resolve, 25));
      return messages.find(match);
    };
    await waitFor((m) => m.type === 'connection_ack');
    socket.send(JSON.stringify({ id: 'deep', type: 'subscribe', payload: { query: TOO_DEEP } }));
    socket.send(JSON.stringify({ id: 'aliases', type: 'subscribe', payload: { query: TOO_MANY_ALIASES } }));
    for (const id of ['deep', 'aliases']) {
      const error = await waitFor((m) => m.id === id && m.type === 'error');
      expect(error?.payload?.[0]?.extensions?.code, id).toBe('BAD_USER_INPUT');
    }
    socket.send(JSON.stringify({ id: 'ok', type: 'subscribe', payload: { query: '{ agents { totalCount } }' } }));
    expect(await waitFor((m) => m.id === 'ok' && m.type === 'complete')).toBeDefined();
    expect(closed).toBe(false);
    socket.close();
  });

  it('get BAD_USER_INPUT over SSE, not a 500', async () => {
    for (const query of [TOO_DEEP, TOO_MANY_ALIASES]) {
      const response = await fetch(new URL(SSE_PATH, t.url), {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'text/event-stream' },
        body: JSON.stringify({ query }),
      });
      expect(response.status).toBeLessThan(500);
      const text = await response.text();
      expect(text).toContain('BAD_USER_INPUT');
      expect(text).not.toContain('INTERNAL');
    }
  });
});
