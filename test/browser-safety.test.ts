import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import http from 'node:http';
import WebSocket from 'ws';
import { SSE_PATH } from '../src/server.js';
import { startTestServer, type TestServer } from './helpers/server.js';

/** Browser safety (issue 14): CORS allow-list, CSRF prevention, WebSocket Origin, introspection. */

const EVIL = 'http://evil.example';
const APP = 'http://app.example:5173';
const CREATE_BLOCK = 'mutation{createBlock(input:{label:"x",value:"y"}){block{id}}}';

async function blockCount(t: TestServer) {
  return t.app.db.prisma.block.count({ where: { label: 'x' } });
}

/** Opens a graphql-ws socket with this Origin; resolves with the HTTP status of a refusal, or 101. */
function openSocket(t: TestServer, origin: string): Promise<{ status: number; socket?: WebSocket }> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(t.wsUrl, 'graphql-transport-ws', { origin });
    socket.once('open', () => resolve({ status: 101, socket }));
    socket.once('unexpected-response', (_req, res) => resolve({ status: res.statusCode ?? 0 }));
    socket.once('error', reject);
  });
}

/** fetch() refuses TRACE; node's http does not. */
function rawRequest(url: string, method: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const request = http.request(url, { method, agent: false }, (response) => {
      let body = '';
      response.on('data', (chunk: Buffer) => (body += chunk.toString('utf8')));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, body }));
    });
    request.on('error', reject);
    request.end();
  });
}

describe('browser safety in the default mode (AUTH_MODE=auto on loopback, no key yet)', () => {
  let t: TestServer;
  beforeAll(async () => {
    t = await startTestServer({ CORS_ORIGINS: APP });
  });
  afterAll(async () => {
    await t?.close();
  });

  it('refuses the form-encoded mutation of a page from another origin (the issue\'s curl)', async () => {
    const before = await blockCount(t);
    const response = await fetch(t.url, {
      method: 'POST',
      headers: { origin: EVIL, 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ query: CREATE_BLOCK }),
    });
    expect(response.status).toBe(403);
    expect(response.headers.get('access-control-allow-origin')).toBeNull();
    expect(response.headers.get('access-control-allow-credentials')).toBeNull();
    const body = (await response.json()) as { errors: Array<{ message: string; extensions: { code: string } }> };
    expect(body.errors[0]!.extensions.code).toBe('FORBIDDEN');
    expect(body.errors[0]!.message).toContain('CORS_ORIGINS');
    expect(await blockCount(t)).toBe(before);
  });

  it('requires the preflight header on every request a form could send, multipart included', async () => {
    const before = await blockCount(t);
    const form = new FormData();
    form.append('operations', JSON.stringify({ query: CREATE_BLOCK }));
    form.append('map', '{}');
    const attempts: Array<[string, RequestInit, string?]> = [
      ['urlencoded', { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ query: CREATE_BLOCK }) }],
      ['text/plain', { method: 'POST', headers: { 'content-type': 'text/plain' }, body: JSON.stringify({ query: CREATE_BLOCK }) }],
      ['multipart', { method: 'POST', body: form }],
      ['GET', { method: 'GET' }, `?query=${encodeURIComponent('{ agents { totalCount } }')}`],
      ['SSE GET', { method: 'GET', headers: { accept: 'text/event-stream' } }, `stream?query=${encodeURIComponent('{ agents { totalCount } }')}`],
    ];
    for (const [name, init, suffix] of attempts) {
      const url = suffix?.startsWith('stream') ? new URL(SSE_PATH + suffix.slice('stream'.length), t.url).toString() : t.url + (suffix ?? '');
      const response = await fetch(url, init);
      expect(response.status, name).toBe(403);
      const body = (await response.json()) as { errors: Array<{ message: string; extensions: { code: string } }> };
      expect(body.errors[0]!.extensions.code, name).toBe('FORBIDDEN');
      expect(body.errors[0]!.message, name).toContain('x-graphql-yoga-csrf');
    }
    expect(await blockCount(t)).toBe(before);

    // With the header (which a foreign page cannot add without a preflight), the same requests run.
    const allowed = await fetch(t.url, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-graphql-yoga-csrf': '1' },
      body: new URLSearchParams({ query: CREATE_BLOCK }),
    });
    expect(allowed.status).toBe(200);
    expect(await blockCount(t)).toBe(before + 1);
    const get = await fetch(`${t.url}?query=${encodeURIComponent('{ agents { totalCount } }')}`, { headers: { 'x-graphql-yoga-csrf': '1' } });
    expect(get.status).toBe(200);
  });

  it('answers the allowed origin with its own origin and no credentials, and refuses others at the preflight', async () => {
    const preflight = (origin: string) =>
      fetch(t.url, { method: 'OPTIONS', headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type,authorization' } });
    const good = await preflight(APP);
    expect(good.status).toBe(204);
    expect(good.headers.get('access-control-allow-origin')).toBe(APP);
    expect(good.headers.get('access-control-allow-credentials')).toBeNull();
    expect(good.headers.get('access-control-allow-headers')).toContain('authorization');
    const bad = await preflight(EVIL);
    expect(bad.status).toBe(403);
    expect(bad.headers.get('access-control-allow-origin')).toBeNull();

    const response = await fetch(t.url, {
      method: 'POST',
      headers: { origin: APP, 'content-type': 'application/json' },
      body: JSON.stringify({ query: '{ agents { totalCount } }' }),
    });
    expect(response.status).toBe(200);
    expect(response.headers.get('access-control-allow-origin')).toBe(APP);
    expect(((await response.json()) as { data: unknown }).data).toEqual({ agents: { totalCount: expect.any(Number) } });

    // The server's own pages (GraphiQL) are same-origin.
    const own = new URL(t.url).origin;
    const same = await fetch(t.url, { method: 'POST', headers: { origin: own, 'content-type': 'application/json' }, body: JSON.stringify({ query: '{ __typename }' }) });
    expect(same.status).toBe(200);
  });

  it('refuses a WebSocket from another origin and accepts one from an allowed origin', async () => {
    expect((await openSocket(t, EVIL)).status).toBe(403);
    const { status, socket } = await openSocket(t, APP);
    expect(status).toBe(101);
    const ack = new Promise((resolve) => socket!.once('message', (data) => resolve(JSON.parse(String(data)))));
    socket!.send(JSON.stringify({ type: 'connection_init', payload: {} }));
    expect(await ack).toEqual({ type: 'connection_ack' });
    socket!.close();
  });

  it('refuses TRACE and other methods with 405, not 500', async () => {
    for (const method of ['TRACE', 'PUT', 'DELETE', 'PATCH']) {
      const { status, body } = await rawRequest(t.url, method);
      expect(status, method).toBe(405);
      expect((JSON.parse(body) as { errors: Array<{ extensions: { code: string } }> }).errors[0]!.extensions.code).toBe('BAD_USER_INPUT');
    }
  });
});

describe('introspection follows the auth policy', () => {
  const INTROSPECT = '{ __schema { queryType { name } } }';
  let t: TestServer;
  let off: TestServer;
  beforeAll(async () => {
    t = await startTestServer({ AUTH_MODE: 'required' });
    off = await startTestServer({ INTROSPECTION: 'false', GRAPHIQL: 'false' });
  });
  afterAll(async () => {
    await t?.close();
    await off?.close();
  });

  it('needs a key when keys are required', async () => {
    const anonymous = await t.request(INTROSPECT);
    expect(anonymous.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
    expect(anonymous.data ?? null).toBeNull();
    const wrong = await t.request('{ __type(name: "Agent") { name } }', undefined, { token: 'agk_wrong' });
    expect(wrong.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
    const { token } = await t.newOrganization();
    expect(await t.request(INTROSPECT, undefined, { token })).toMatchObject({ data: { __schema: { queryType: { name: 'Query' } } } });
  });

  it('can be switched off, and GraphiQL with it', async () => {
    const result = await off.request(INTROSPECT);
    expect(result.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    expect((await off.request('{ __typename }')).data).toEqual({ __typename: 'Query' });
    const page = await fetch(off.url, { headers: { accept: 'text/html' } });
    expect(await page.text()).not.toContain('<title>agentgraph</title>');
  });
});
