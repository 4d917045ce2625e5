import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { SSE_PATH } from '../src/server.js';
import { startTestServer, type TestServer } from './helpers/server.js';

/**
 * A bounded fuzz test (issue 14): random strings, variables, ids, cursors, multipart bodies,
 * graphql-ws frames and SSE requests, from a fixed seed. No answer may be INTERNAL or a 5xx.
 */

/** mulberry32: a small deterministic generator, so that a failure replays. */
function random(seed: number) {
  return () => {
    seed |= 0;
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const SEED = 1407;
const CASES = 60;
const next = random(SEED);
const pick = <T,>(items: readonly T[]): T => items[Math.floor(next() * items.length)]!;

const ATOMS = ['\u0000', '\ud800', '\udfff', '😀', '"', '\\', '{', '}', '[', ']', '$', '%00', "'; DROP TABLE", '\n', 'a'.repeat(300), 'agent-', 'agent-00000000-0000-4000-8000-000000000000', '-1', '1e309', 'null', '__proto__'];

function junkString(): string {
  let text = '';
  const parts = 1 + Math.floor(next() * 4);
  for (let i = 0; i < parts; i++) text += next() < 0.6 ? pick(ATOMS) : String.fromCharCode(Math.floor(next() * 0xffff));
  return text;
}

function junkValue(depth = 0): unknown {
  const roll = next();
  if (depth > 3 || roll < 0.4) return junkString();
  if (roll < 0.5) return Math.floor(next() * 2 ** 40) * (next() < 0.5 ? -1 : 1);
  if (roll < 0.6) return null;
  if (roll < 0.8) return Array.from({ length: Math.floor(next() * 3) }, () => junkValue(depth + 1));
  return Object.fromEntries(Array.from({ length: Math.floor(next() * 3) }, () => [junkString(), junkValue(depth + 1)]));
}

const OPERATIONS = [
  'query($v: AgentFilter) { agents(filter: $v) { totalCount } }',
  'query($v: ID!) { agent(id: $v) { id } }',
  'query($v: ID!, $c: String) { agent(id: $v) { messages(first: 2, after: $c) { edges { cursor } } } }',
  'query($v: String) { searchMessages(input: { query: $v }) { __typename } }',
  'mutation($v: JSON) { createAgent(input: { name: "f", metadata: $v }) { agent { id } } }',
  'mutation($v: String!) { createBlock(input: { label: "l", value: $v, tags: [$v] }) { block { id } } }',
  'mutation($v: JSON) { importAgent(input: { json: $v }) { agentIds } }',
  'query($v: ID!) { node(id: $v) { id } }',
];

type Outcome = { status: number; text: string };

function problems(outcome: Outcome, what: string): string[] {
  const found: string[] = [];
  if (outcome.status >= 500) found.push(`${what}: HTTP ${outcome.status}`);
  if (outcome.text.includes('"INTERNAL"')) found.push(`${what}: INTERNAL ${outcome.text.slice(0, 300)}`);
  return found;
}

describe('fuzz', () => {
  let t: TestServer;
  let agentId: string;
  beforeAll(async () => {
    t = await startTestServer();
    agentId = ((await t.ok('mutation { createAgent(input: { name: "fuzz" }) { agent { id } } }' as never)) as { createAgent: { agent: { id: string } } }).createAgent.agent.id;
  });
  afterAll(async () => {
    await t?.close();
  });

  it(`HTTP: ${CASES} operations with junk variables, ids and cursors, as JSON, GET and multipart`, { timeout: 300_000 }, async () => {
    const found: string[] = [];
    for (let i = 0; i < CASES; i++) {
      const query = pick(OPERATIONS);
      const variables = { v: next() < 0.2 ? agentId : junkValue(), c: junkString() };
      const form = i % 3;
      let response: Response;
      if (form === 0) {
        const body = next() < 0.15 ? junkString() : JSON.stringify({ query, variables });
        response = await fetch(t.url, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
      } else if (form === 1) {
        const params = new URLSearchParams({ query, variables: next() < 0.3 ? junkString() : JSON.stringify(variables), extensions: next() < 0.3 ? junkString() : '{}' });
        response = await fetch(`${t.url}?${params}`, { headers: { 'x-graphql-yoga-csrf': '1', accept: 'application/json' } });
      } else {
        const data = new FormData();
        data.append('operations', next() < 0.2 ? junkString() : JSON.stringify({ query, variables: { ...variables, v: null } }));
        data.append('map', next() < 0.5 ? JSON.stringify(junkValue()) : JSON.stringify({ 0: ['variables.v'] }));
        data.append('0', new Blob([junkString()]), junkString().slice(0, 20) || 'f');
        response = await fetch(t.url, { method: 'POST', body: data, headers: { 'x-graphql-yoga-csrf': '1' } });
      }
      found.push(...problems({ status: response.status, text: await response.text() }, `case ${i} (${['json', 'get', 'multipart'][form]})`));
    }
    expect(found).toEqual([]);
  });

  it(`graphql-ws and SSE: ${CASES} junk frames and subscriptions`, { timeout: 300_000 }, async () => {
    const found: string[] = [];
    const socket = new WebSocket(t.wsUrl, 'graphql-transport-ws');
    const frames: string[] = [];
    let closeCode: number | undefined;
    socket.on('message', (data) => frames.push(String(data)));
    socket.on('close', (code) => (closeCode = code));
    await new Promise((resolve) => socket.once('open', resolve));
    socket.send(JSON.stringify({ type: 'connection_init', payload: {} }));
    for (let i = 0; i < 200 && !frames.some((frame) => frame.includes('connection_ack')); i++) await new Promise((resolve) => setTimeout(resolve, 25));
    for (let i = 0; i < CASES; i++) {
      const query = next() < 0.5 ? `subscription($v: ID!) { agentEvents(agentId: $v) { type } }` : pick(OPERATIONS);
      socket.send(JSON.stringify({ id: `s${i}`, type: 'subscribe', payload: { query: next() < 0.1 ? junkString() : query, variables: { v: junkValue(), c: junkString() } } }));
    }
    await new Promise((resolve) => setTimeout(resolve, 2000));
    for (const frame of frames) if (frame.includes('"INTERNAL"')) found.push(`graphql-ws: ${frame.slice(0, 300)}`);
    expect(closeCode, 'the socket stays open').toBeUndefined();
    // A malformed frame is a protocol error (4400), not an internal one (4500).
    socket.send(junkString());
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(closeCode === undefined || closeCode === 4400).toBe(true);
    socket.close();

    for (let i = 0; i < 10; i++) {
      const response = await fetch(new URL(SSE_PATH, t.url), {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'text/event-stream' },
        body: next() < 0.2 ? junkString() : JSON.stringify({ query: `subscription($v: ID!) { agentEvents(agentId: $v) { type } }`, variables: { v: junkValue() } }),
        signal: AbortSignal.timeout(5000),
      });
      const text = await response.text().catch(() => '');
      found.push(...problems({ status: response.status, text }, `sse ${i}`));
    }
    expect(found).toEqual([]);
  });
});
