import { afterAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { closeAll, eventually, startTestServer } from './helpers/server.js';
import { SSE_PATH } from '../src/server.js';

/** Errors sent over graphql-ws and SSE, and refused sockets and streams, in the Prometheus metrics (issue 14). */

const cleanup: Array<{ close(): Promise<void> } | undefined> = [];
afterAll(async () => {
  await closeAll(...cleanup.reverse());
});

function sample(text: string, name: string, labels: Record<string, string>): number {
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`)) continue;
    if (!Object.entries(labels).every(([key, value]) => line.includes(`${key}="${value}"`))) continue;
    return Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return 0;
}

const MISSING_AGENT = 'agent-00000000-0000-4000-8000-000000000000';

describe('metrics of the streaming transports', () => {
  it('counts errors sent over graphql-ws and SSE by code, operation and transport, and refused sockets and streams by reason', { timeout: 120_000 }, async () => {
    const t = await startTestServer();
    cleanup.push(t);
    const scrape = async () => (await fetch(new URL('/metrics', t.url))).text();

    // graphql-ws: an execution error in a result, and an operation refused before it runs.
    const ws = t.ws();
    const outcome = (query: string) =>
      new Promise<unknown>((resolve) => {
        const seen: unknown[] = [];
        ws.subscribe({ query }, { next: (value) => void seen.push(value), error: (error) => resolve({ error }), complete: () => resolve(seen) });
      });
    expect(JSON.stringify(await outcome(`query WsMissing { agent(id: "${MISSING_AGENT}") { id } }`))).toContain('NOT_FOUND');
    expect(JSON.stringify(await outcome('query WsInvalid { noSuchField }'))).toContain('BAD_USER_INPUT');

    // SSE: an execution error in the streamed result, and a stream refused (GET without the CSRF header).
    const sse = await fetch(new URL(SSE_PATH, t.url), {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'text/event-stream' },
      body: JSON.stringify({ query: `query SseMissing { agent(id: "${MISSING_AGENT}") { id } }` }),
    });
    expect(await sse.text()).toContain('NOT_FOUND');
    const refusedStream = await fetch(new URL(`${SSE_PATH}?query=${encodeURIComponent('{ agents { totalCount } }')}`, t.url), { headers: { accept: 'text/event-stream' } });
    expect(refusedStream.status).toBe(403);

    // Sockets refused: a wrong key (4401) and a foreign origin (HTTP 403 at the upgrade).
    const wrongKey = new WebSocket(t.wsUrl, 'graphql-transport-ws');
    const closed = new Promise<number>((resolve) => wrongKey.on('close', (code) => resolve(code)));
    wrongKey.on('open', () => wrongKey.send(JSON.stringify({ type: 'connection_init', payload: { authorization: 'Bearer ag-not-a-real-key' } })));
    expect(await closed).toBe(4401);
    const foreign = new WebSocket(t.wsUrl, 'graphql-transport-ws', { headers: { origin: 'http://evil.example' } });
    const upgrade = await new Promise<number>((resolve) => {
      foreign.on('unexpected-response', (_request, response) => resolve(response.statusCode ?? 0));
      foreign.on('error', () => {});
    });
    expect(upgrade).toBe(403);

    let text = '';
    await eventually(() => sample(text, 'agentgraph_rejected_connections_total', { transport: 'graphql-ws', reason: 'FORBIDDEN' }) === 1, async () => void (text = await scrape()));
    expect(sample(text, 'agentgraph_errors_total', { code: 'NOT_FOUND', operation: 'WsMissing', transport: 'graphql-ws' })).toBe(1);
    expect(sample(text, 'agentgraph_errors_total', { code: 'BAD_USER_INPUT', operation: 'WsInvalid', transport: 'graphql-ws' })).toBe(1);
    expect(sample(text, 'agentgraph_errors_total', { code: 'NOT_FOUND', operation: 'SseMissing', transport: 'sse' })).toBe(1);
    expect(sample(text, 'agentgraph_rejected_connections_total', { transport: 'sse', reason: 'FORBIDDEN' })).toBe(1);
    expect(sample(text, 'agentgraph_rejected_connections_total', { transport: 'graphql-ws', reason: 'UNAUTHENTICATED' })).toBe(1);
    // Nothing of the above is counted twice as HTTP.
    expect(sample(text, 'agentgraph_errors_total', { operation: 'WsMissing', transport: 'http' })).toBe(0);
    expect(sample(text, 'agentgraph_errors_total', { operation: 'SseMissing', transport: 'http' })).toBe(0);

    // HTTP errors keep being counted, now with their transport.
    await t.request(`query HttpMissing { agent(id: "${MISSING_AGENT}") { id } }`);
    text = await scrape();
    expect(sample(text, 'agentgraph_errors_total', { code: 'NOT_FOUND', operation: 'HttpMissing', transport: 'http' })).toBe(1);
  });
});
